import type { ErrorInfo } from '../ports/errors.js';
import type { Health, RenewalWindowView } from './plan.js';

/** `deferred`: due, but deliberately not attempted in this run; its reason says why and until when (PRODUCT §3). */
export type ResultStatus = 'renewed' | 'skipped' | 'would-renew' | 'deferred' | 'failed' | 'locked';

export interface HookResult {
  type: string;
  status: 'ok' | 'warning' | 'failed';
  message?: string;
  /** For `failed`: class `hook` (or `timeout`) and a hint, as in PRODUCT §3. */
  error?: ErrorInfo;
}

/** Per-certificate result (PRODUCT §3). Never carries key material. */
export interface CertificateResult {
  id: string;
  status: ResultStatus;
  reason: string;
  domains: string[];
  health: Health;
  notAfter?: string;
  daysLeft?: number;
  serialNumber?: string;
  durationMs: number;
  /** When this certificate next becomes due (or, deferred, may be tried again), if known. */
  renewAt?: string;
  /** The CA's renewal window (ARI) for the stored certificate, and the time drawn in it. */
  renewalWindow?: RenewalWindowView;
  /** The ACME profile configured for it (ordered with it, when renewed). */
  profile?: string;
  store?: { type: string; ref: string; version?: string };
  hooks?: HookResult[];
  error?: ErrorInfo;
}

export interface RunReport {
  results: CertificateResult[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  /** Earliest time any certificate becomes due (ISO). */
  nextCheck?: string;
  /** The order budget (`acme.orderBudget`) as this run found it, when one applies and something was due. */
  orderBudget?: OrderBudgetReport;
  summary: Record<ResultStatus, number>;
}

export interface OrderBudgetReport {
  orders: number;
  perMs: number;
  /** Orders counted in the window before this run. */
  usedBefore: number;
  /** Orders this run was granted (a dry run: would be). */
  granted: number;
  /** Due certificates deferred for the budget. */
  deferred: number;
  /** When the window frees orders again (ISO), when some were deferred. */
  freesAt?: string;
}

export type FailOn = 'error' | 'warning' | 'never';

/** Exit status of a run (PRODUCT §3): 0 all good, 1 some certificate failed. */
export function runFailed(report: RunReport, failOn: FailOn = 'error'): boolean {
  if (failOn === 'never') return false;
  const failed = report.results.some((r) => r.status === 'failed');
  if (failOn === 'error') return failed;
  return (
    failed ||
    report.results.some(
      (r) =>
        r.status === 'deferred' ||
        (r.hooks ?? []).some((h) => h.status !== 'ok') ||
        r.health === 'warning' ||
        r.health === 'critical' ||
        r.health === 'expired',
    )
  );
}

export function summarize(results: CertificateResult[]): Record<ResultStatus, number> {
  const out: Record<ResultStatus, number> = {
    renewed: 0,
    skipped: 0,
    'would-renew': 0,
    deferred: 0,
    failed: 0,
    locked: 0,
  };
  for (const r of results) out[r.status]++;
  return out;
}
