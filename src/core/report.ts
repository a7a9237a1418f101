import type { AdapterFactory } from '../ports/adapter.js';
import type { Clock } from '../ports/clock.js';
import type { CertificateConfig, Config } from '../ports/config.js';
import { toErrorInfo } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import type { CertificateStore, IssuedBy, RenewalState } from '../ports/store.js';
import { ariCertId } from './ari.js';
import { parseCertificate } from './certinfo.js';
import { type CurrentState, daysLeft, decide, type Health, renewalTime } from './plan.js';
import { mapLimit } from './runner.js';

/**
 * The fleet at a glance (PRODUCT §7): every configured certificate as its store holds it, with its
 * health, expiry, next renewal time and window, and last failure. Reads stores only — no CA, no
 * DNS — so it is safe to run anywhere, any time, as often as wanted.
 *
 * JSON shape (`certkeeper report --json`, the Lambda's `{ "command": "report" }`, the Action's
 * `results` output on `command: report`):
 *   { "generatedAt": ISO,
 *     "certificates": [ ReportEntry, … ]      most urgent first (see `urgency`)
 *     "summary": { "total", "ok", "warning", "critical", "expired", "missing", "failing", "unreadable" } }
 * `ok … missing` count health (they add up to `total`); `failing` counts certificates whose last
 * attempts failed (whatever their health); `unreadable` those whose store could not be read.
 */

export interface ReportEntry {
  id: string;
  domains: string[];
  health: Health;
  /** The last renewal attempts failed (the store's renewal state says so). */
  failing: boolean;
  /** Whether a run now would renew it, and why (the same decision `run` makes). */
  due: boolean;
  reason: string;
  serialNumber?: string;
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  /** When the next renewal is due: the earlier of the threshold and the ARI time. */
  renewAt?: string;
  /** When it may be renewed: the CA's window (ARI) when the store keeps one, else threshold → expiry. */
  renewalWindow?: {
    start: string;
    end: string;
    source: 'threshold' | 'ari';
    selected?: string;
    explanationURL?: string;
  };
  lastFailure?: { class: string; message?: string; at: string; attempts: number; nextAttemptAt?: string };
  issuedAt?: string;
  issuedBy?: IssuedBy;
  store: { type: string; ref: string; version?: string };
  /** The store could not be read, or holds something that is not a certificate. */
  problem?: string;
}

export type ReportSummary = Record<Health, number> & { total: number; failing: number; unreadable: number };

export interface FleetReport {
  generatedAt: string;
  certificates: ReportEntry[];
  summary: ReportSummary;
}

export interface ReportDeps {
  adapters: Pick<AdapterFactory, 'store'>;
  clock: Clock;
  logger: Logger;
}

/** Stores are read in parallel: each read is one small request, and 500 certificates must stay quick. */
const READ_CONCURRENCY = 16;

const HEALTH_RANK: Record<Health, number> = { expired: 0, critical: 1, missing: 2, warning: 3, ok: 4 };

/**
 * Most urgent first: by health; within it unreadable stores, then failing ones; then the earliest
 * renewal or expiry.
 */
export function urgency(a: ReportEntry, b: ReportEntry): number {
  return (
    HEALTH_RANK[a.health] - HEALTH_RANK[b.health] ||
    Number(Boolean(b.problem)) - Number(Boolean(a.problem)) ||
    Number(b.failing) - Number(a.failing) ||
    Date.parse(a.renewAt ?? a.notAfter ?? '') - Date.parse(b.renewAt ?? b.notAfter ?? '') ||
    a.id.localeCompare(b.id)
  );
}

export async function buildReport(
  config: Config,
  options: { only?: string[]; signal?: AbortSignal },
  deps: ReportDeps,
): Promise<FleetReport> {
  const now = deps.clock.now();
  const only = options.only?.length ? new Set(options.only) : undefined;
  const certs = config.certificates.filter((c) => !only || only.has(c.id));
  const entries = await mapLimit(certs, READ_CONCURRENCY, (cert) => entryFor(cert, config, now, options, deps));
  entries.sort(urgency);
  const summary: ReportSummary = {
    total: entries.length,
    ok: 0,
    warning: 0,
    critical: 0,
    expired: 0,
    missing: 0,
    failing: 0,
    unreadable: 0,
  };
  for (const e of entries) {
    summary[e.health]++;
    if (e.failing) summary.failing++;
    if (e.problem) summary.unreadable++;
  }
  return { generatedAt: now.toISOString(), certificates: entries, summary };
}

async function entryFor(
  cert: CertificateConfig,
  config: Config,
  now: Date,
  options: { signal?: AbortSignal },
  deps: ReportDeps,
): Promise<ReportEntry> {
  const base = { id: cert.id, domains: cert.domains };
  let store: CertificateStore | undefined;
  try {
    store = await deps.adapters.store(cert);
    const [read, state] = await Promise.all([
      store.read(options.signal),
      // The renewal state is extra: a store that cannot read it still shows the certificate.
      store.readState(options.signal).catch((error: unknown) => {
        deps.logger.warn(`${cert.id}: cannot read its renewal state: ${toErrorInfo(error).message}`);
        return undefined;
      }),
    ]);
    const storeRef = {
      type: store.type,
      ref: store.ref,
      ...(read.kind === 'found' && read.version ? { version: read.version } : {}),
    };
    let current: CurrentState;
    if (read.kind === 'missing') current = { kind: 'missing' };
    else if (read.kind === 'unreadable') current = { kind: 'unreadable', reason: read.reason };
    else {
      try {
        const info = parseCertificate(read.certificate.certificate);
        current = { kind: 'found', info, domains: read.certificate.domains, keyType: info.keyType };
      } catch (error) {
        current = { kind: 'unreadable', reason: `certificate does not parse: ${(error as Error).message}` };
      }
    }
    const decision = decide(current, cert, config.renewal, now);
    const entry: ReportEntry = {
      ...base,
      health: decision.health,
      failing: (state?.failures?.count ?? 0) > 0,
      due: decision.due,
      reason: decision.reason,
      store: storeRef,
      ...(current.kind === 'unreadable' ? { problem: current.reason } : {}),
      ...failureOf(state),
    };
    // Nothing usable stored: the next run issues it.
    if (current.kind !== 'found' || read.kind !== 'found') return { ...entry, renewAt: now.toISOString() };
    const { info } = current;
    const threshold = renewalTime(info, config.renewal);
    // A store keeps an ARI window only when the run fetched one (renewal.ari on, a CA offering it),
    // and it counts only for the certificate it was fetched for (a renewed one has a new id).
    const ari = state?.ari && state.ari.certId === ariCertId(read.certificate.certificate) ? state.ari : undefined;
    const renewAt = decision.due ? now : earliest(threshold, ari ? ariTime(ari, now) : undefined);
    // The threshold decision knows nothing of ARI: the CA's window can make it due earlier.
    const ariDue = !decision.due && renewAt.getTime() <= now.getTime();
    return {
      ...entry,
      ...(ariDue
        ? { due: true, reason: `due: the CA's renewal window (ARI) ${ari?.start} .. ${ari?.end} says renew now` }
        : {}),
      serialNumber: info.serialNumber,
      issuer: info.issuer,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      daysLeft: daysLeft(info.notAfter, now),
      renewAt: renewAt.toISOString(),
      renewalWindow: ari
        ? {
            start: ari.start,
            end: ari.end,
            source: 'ari',
            ...(ari.selected ? { selected: ari.selected } : {}),
            ...(ari.explanationURL ? { explanationURL: ari.explanationURL } : {}),
          }
        : { start: threshold.toISOString(), end: info.notAfter.toISOString(), source: 'threshold' },
      issuedAt: read.certificate.issuedAt,
      issuedBy: read.certificate.issuedBy,
    };
  } catch (error) {
    const info = toErrorInfo(error);
    deps.logger.error(`${cert.id}: cannot read its store [${info.class}] ${info.message}`);
    return {
      ...base,
      health: 'missing',
      failing: false,
      due: false,
      reason: 'store unreadable',
      store: store ? { type: store.type, ref: store.ref } : { type: cert.store.type, ref: '' },
      problem: `[${info.class}] ${info.message}`,
    };
  }
}

/**
 * Whether a report counts as failed: a store that could not be read always (the picture is
 * incomplete); with `warning`, also any certificate not ok or failing.
 */
export function reportFailed(report: FleetReport, failOn: 'error' | 'warning' | 'never'): boolean {
  if (failOn === 'never') return false;
  const s = report.summary;
  if (s.unreadable > 0) return true;
  return failOn === 'warning' && (s.failing > 0 || s.total !== s.ok);
}

/** PRODUCT §3: due at the drawn time, or at once when the window's end has passed. */
function ariTime(ari: NonNullable<RenewalState['ari']>, now: Date): Date | undefined {
  const end = Date.parse(ari.end);
  if (Number.isNaN(end)) return undefined;
  if (end <= now.getTime()) return now;
  const at = Date.parse(ari.selected ?? ari.start);
  return Number.isNaN(at) ? undefined : new Date(at);
}

function earliest(a: Date, b: Date | undefined): Date {
  return b && b.getTime() < a.getTime() ? b : a;
}

function failureOf(state: RenewalState | undefined): Pick<ReportEntry, 'lastFailure'> {
  const f = state?.failures;
  if (!f || f.count <= 0) return {};
  return {
    lastFailure: {
      class: f.lastClass,
      at: f.lastAttempt,
      attempts: f.count,
      ...(f.lastMessage ? { message: f.lastMessage } : {}),
      ...(f.nextAttempt ? { nextAttemptAt: f.nextAttempt } : {}),
    },
  };
}
