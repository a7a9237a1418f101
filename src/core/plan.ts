import type { CertificateConfig, Config, RenewBefore } from '../ports/config.js';
import type { KeyType } from '../ports/store.js';
import type { CertificateInfo } from './certinfo.js';

export type Health = 'ok' | 'warning' | 'critical' | 'expired' | 'missing';

const DAY = 86_400_000;

export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor(((notAfter.getTime() - now.getTime()) / DAY) * 10) / 10;
}

/** Health thresholds are reported on every run, whether or not anything renews. */
export function computeHealth(
  notAfter: Date | undefined,
  now: Date,
  thresholds: { warnBeforeMs: number; criticalBeforeMs: number },
): Health {
  if (!notAfter) return 'missing';
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  if (left <= thresholds.criticalBeforeMs) return 'critical';
  if (left <= thresholds.warnBeforeMs) return 'warning';
  return 'ok';
}

/**
 * When renewal becomes due. A share of the lifetime (LE's advice: a third) keeps working as CA
 * lifetimes shrink (90 → 64 → 45 days, 160-hour certificates), where a fixed "30 days" would
 * renew a 45-day certificate every run, or never renew a 6-day one in time.
 */
/** Let's Encrypt's advice: renew with a third of the lifetime left. */
export const DEFAULT_RENEW_BEFORE: RenewBefore = { kind: 'share', value: 0.33 };

export function renewalTime(info: Pick<CertificateInfo, 'notBefore' | 'notAfter'>, renewal: Config['renewal']): Date {
  const renewBefore = renewal.renewBefore ?? DEFAULT_RENEW_BEFORE;
  const end = info.notAfter.getTime();
  if (renewBefore.kind === 'days') return new Date(end - renewBefore.value * DAY);
  const lifetime = end - info.notBefore.getTime();
  return new Date(end - lifetime * renewBefore.value);
}

export type CurrentState =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'found'; info: CertificateInfo; domains: string[]; keyType: KeyType | 'unknown' };

export interface Decision {
  due: boolean;
  reason: string;
  health: Health;
  /** When the certificate becomes due (absent when due now or nothing is stored). */
  renewAt?: Date;
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** Is this certificate due? Pure: the clock's reading comes in as `now`. */
export function decide(
  current: CurrentState,
  cert: Pick<CertificateConfig, 'domains' | 'keyType'>,
  renewal: Config['renewal'],
  now: Date,
  force = false,
): Decision {
  const health = current.kind === 'found' ? computeHealth(current.info.notAfter, now, renewal) : 'missing';
  if (current.kind === 'missing') return { due: true, reason: 'no certificate stored yet', health };
  if (current.kind === 'unreadable') {
    return { due: true, reason: `stored certificate unreadable (${current.reason})`, health };
  }
  if (force) return { due: true, reason: 'forced', health };
  if (!sameSet(current.domains, cert.domains)) {
    const added = cert.domains.filter((d) => !current.domains.includes(d));
    const removed = current.domains.filter((d) => !cert.domains.includes(d));
    const parts = [...added.map((d) => `+${d}`), ...removed.map((d) => `-${d}`)];
    return { due: true, reason: `domains changed (${parts.join(' ')})`, health };
  }
  if (current.keyType !== cert.keyType) {
    return { due: true, reason: `key type changed (${current.keyType} → ${cert.keyType})`, health };
  }
  const left = daysLeft(current.info.notAfter, now);
  if (health === 'expired') return { due: true, reason: `expired ${-left} days ago`, health };
  const renewAt = renewalTime(current.info, renewal);
  const renewBefore = renewal.renewBefore ?? DEFAULT_RENEW_BEFORE;
  const threshold =
    renewBefore.kind === 'days' ? `${renewBefore.value}d` : `${Math.round(renewBefore.value * 100)}% of lifetime`;
  if (now >= renewAt) return { due: true, reason: `expires in ${left} days (renew before ${threshold})`, health };
  return { due: false, reason: `not due: ${left} days left, renews after ${renewAt.toISOString()}`, health, renewAt };
}
