import type { CertificateConfig, Config, RenewBefore } from '../ports/config.js';
import type { AriState, KeyType } from '../ports/store.js';
import { ariDecision } from './ari.js';
import type { CertificateInfo } from './certinfo.js';

export type Health = 'ok' | 'warning' | 'critical' | 'expired' | 'missing';

const DAY = 86_400_000;

export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor(((notAfter.getTime() - now.getTime()) / DAY) * 10) / 10;
}

/**
 * Health thresholds are reported on every run, whether or not anything renews. With `notBefore`,
 * the thresholds fit the certificate's lifetime (see `healthThresholds`).
 */
export function computeHealth(
  notAfter: Date | undefined,
  now: Date,
  thresholds: { warnBeforeMs: number; criticalBeforeMs: number },
  notBefore?: Date,
): Health {
  if (!notAfter) return 'missing';
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  const t = notBefore ? healthThresholds(thresholds, notAfter.getTime() - notBefore.getTime()) : thresholds;
  if (left <= t.criticalBeforeMs) return 'critical';
  if (left <= t.warnBeforeMs) return 'warning';
  return 'ok';
}

/**
 * Thresholds longer than the lifetime would make a certificate `warning` or `critical` from birth
 * (a 160-hour certificate under the default 14 d / 7 d): they scale to a third and a sixth of the
 * lifetime (PRODUCT §3). When only warnBefore is longer, criticalBefore is capped at a sixth too,
 * so that it stays the shorter of the two.
 */
export function healthThresholds(
  thresholds: { warnBeforeMs: number; criticalBeforeMs: number },
  lifetimeMs: number,
): { warnBeforeMs: number; criticalBeforeMs: number } {
  if (!(lifetimeMs > 0) || thresholds.warnBeforeMs <= lifetimeMs) return thresholds;
  return {
    warnBeforeMs: lifetimeMs / 3,
    criticalBeforeMs: Math.min(thresholds.criticalBeforeMs, lifetimeMs / 6),
  };
}

/**
 * When renewal becomes due. A share of the lifetime (LE's advice: a third) keeps working as CA
 * lifetimes shrink (90 → 64 → 45 days, 160-hour certificates), where a fixed "30 days" would
 * renew a 45-day certificate every run, or never renew a 6-day one in time.
 */
/** Let's Encrypt's advice: renew with a third of the lifetime left. */
export const DEFAULT_RENEW_BEFORE: RenewBefore = { kind: 'share', value: 0.33 };
/** …and with half of it left for lifetimes of 10 days or less (`shortlived`: 160 h). */
export const SHORT_LIFETIME_MS = 10 * DAY;
export const SHORT_RENEW_BEFORE: RenewBefore = { kind: 'share', value: 0.5 };

/** The configured threshold, or the default for this lifetime. */
export function renewBeforeFor(renewal: Config['renewal'], lifetimeMs: number): RenewBefore {
  return renewal.renewBefore ?? (lifetimeMs <= SHORT_LIFETIME_MS ? SHORT_RENEW_BEFORE : DEFAULT_RENEW_BEFORE);
}

export function renewalTime(info: Pick<CertificateInfo, 'notBefore' | 'notAfter'>, renewal: Config['renewal']): Date {
  const end = info.notAfter.getTime();
  const lifetime = end - info.notBefore.getTime();
  const renewBefore = renewBeforeFor(renewal, lifetime);
  if (renewBefore.kind === 'days') return new Date(end - renewBefore.value * DAY);
  return new Date(end - lifetime * renewBefore.value);
}

export type CurrentState =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | {
      kind: 'found';
      info: CertificateInfo;
      domains: string[];
      keyType: KeyType | 'unknown';
      /** The profile it was ordered with, as stored (absent: none asked for). */
      profile?: string;
    };

/** The CA's renewal window as results show it (PRODUCT §3), ISO times. */
export interface RenewalWindowView {
  start: string;
  end: string;
  selected: string;
  explanationURL?: string;
}

export interface Decision {
  due: boolean;
  reason: string;
  health: Health;
  /** When the certificate becomes due (absent when due now or nothing is stored). */
  renewAt?: Date;
  /** The CA's window for the stored certificate, when one is known. */
  renewalWindow?: RenewalWindowView;
  /** Due because of the CA's window (not the threshold or a change): the CA wants it replaced. */
  byAri?: boolean;
}

export interface DecideOptions {
  force?: boolean;
  /** The kept ARI state and the stored certificate's RFC 9773 id; a state of another id is ignored. */
  ari?: { state: AriState; certId: string };
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

const explained = (w: RenewalWindowView | undefined) =>
  w?.explanationURL ? `; the CA explains: ${w.explanationURL}` : '';

/**
 * Is this certificate due? Pure: the clock's reading comes in as `now`. Whichever comes first of
 * the threshold and the CA's window (ARI) makes it due (PRODUCT §3).
 */
export function decide(
  current: CurrentState,
  cert: Pick<CertificateConfig, 'domains' | 'keyType' | 'profile'>,
  renewal: Config['renewal'],
  now: Date,
  options: DecideOptions | boolean = {},
): Decision {
  const { force = false, ari } = typeof options === 'boolean' ? { force: options } : options;
  const health =
    current.kind === 'found' ? computeHealth(current.info.notAfter, now, renewal, current.info.notBefore) : 'missing';
  if (current.kind === 'missing') return { due: true, reason: 'no certificate stored yet', health };
  if (current.kind === 'unreadable') {
    return { due: true, reason: `stored certificate unreadable (${current.reason})`, health };
  }
  const window = ari ? ariDecision(ari.state, ari.certId, now) : undefined;
  const renewalWindow: RenewalWindowView | undefined = window
    ? {
        start: window.window.start.toISOString(),
        end: window.window.end.toISOString(),
        selected: window.selected.toISOString(),
        ...(window.window.explanationURL ? { explanationURL: window.window.explanationURL } : {}),
      }
    : undefined;
  const withWindow = (d: Decision): Decision => (renewalWindow ? { ...d, renewalWindow } : d);
  if (force) return withWindow({ due: true, reason: 'forced', health });
  if (!sameSet(current.domains, cert.domains)) {
    const added = cert.domains.filter((d) => !current.domains.includes(d));
    const removed = current.domains.filter((d) => !cert.domains.includes(d));
    const parts = [...added.map((d) => `+${d}`), ...removed.map((d) => `-${d}`)];
    return withWindow({ due: true, reason: `domains changed (${parts.join(' ')})`, health });
  }
  if (current.keyType !== cert.keyType) {
    return withWindow({ due: true, reason: `key type changed (${current.keyType} → ${cert.keyType})`, health });
  }
  if ((current.profile ?? '') !== (cert.profile ?? '')) {
    const name = (p: string | undefined) => p ?? "the CA's default";
    return withWindow({
      due: true,
      reason: `profile changed (${name(current.profile)} → ${name(cert.profile)})`,
      health,
    });
  }
  const left = daysLeft(current.info.notAfter, now);
  if (health === 'expired') return withWindow({ due: true, reason: `expired ${-left} days ago`, health });
  const thresholdAt = renewalTime(current.info, renewal);
  const renewBefore = renewBeforeFor(renewal, current.info.notAfter.getTime() - current.info.notBefore.getTime());
  const threshold =
    renewBefore.kind === 'days' ? `${renewBefore.value}d` : `${Math.round(renewBefore.value * 100)}% of lifetime`;
  if (now >= thresholdAt) {
    return withWindow({
      due: true,
      reason: `expires in ${left} days (renew before ${threshold})${explained(renewalWindow)}`,
      health,
    });
  }
  if (window?.due && renewalWindow) {
    const reason =
      window.why === 'window-passed'
        ? `the CA's renewal window ended ${renewalWindow.end}: it asks for the certificate to be replaced now`
        : `in the CA's renewal window (${renewalWindow.start} – ${renewalWindow.end}), past the time drawn in it (${renewalWindow.selected})`;
    return { due: true, reason: `${reason}${explained(renewalWindow)}`, health, renewalWindow, byAri: true };
  }
  const renewAt = window && window.selected < thresholdAt ? window.selected : thresholdAt;
  const by = window && window.selected < thresholdAt ? " (the time drawn in the CA's renewal window)" : '';
  return withWindow({
    due: false,
    reason: `not due: ${left} days left, renews after ${renewAt.toISOString()}${by}${explained(renewalWindow)}`,
    health,
    renewAt,
  });
}
