import type { ErrorInfo } from '../ports/errors.js';
import type { Health } from './plan.js';

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
  /** When this certificate next becomes due, if known. */
  renewAt?: string;
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
  summary: Record<ResultStatus, number>;
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
