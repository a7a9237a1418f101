import type { ConfigError } from '../../ports/errors.js';
import type { FailOn } from '../results.js';

/**
 * The doctor's results (PRODUCT §5): one JSON shape for every entry point,
 * `{ checks: [ { certificate, check, status, message, hint? } ] }`.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckId =
  | 'config'
  | 'acme.directory'
  | 'acme.account'
  | 'caa'
  | 'dns.zone'
  | 'dns.delegation'
  | 'dns.alias'
  | 'dns.probe'
  | 'store'
  | 'endpoint'
  | 'limits'
  | 'expiry';

/** What a check decided: the fact in `message`, the fix in `hint` (for warn and fail). */
export interface Verdict {
  status: CheckStatus;
  message: string;
  hint?: string;
}

export interface CheckResult extends Verdict {
  /** The certificate id, or null for checks of the whole config (config, acme.*, limits). */
  certificate: string | null;
  check: CheckId;
}

export interface DoctorReport {
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  durationMs: number;
}

const RANK: Record<CheckStatus, number> = { fail: 3, warn: 2, pass: 1, skip: 0 };

/** The worse of verdicts (fail > warn > pass > skip); the first of equals. */
export function worst<T extends Pick<Verdict, 'status'>>(verdicts: readonly T[]): T | undefined {
  let out: T | undefined;
  for (const v of verdicts) if (!out || RANK[v.status] > RANK[out.status]) out = v;
  return out;
}

export const pass = (message: string): Verdict => ({ status: 'pass', message });
export const skip = (message: string): Verdict => ({ status: 'skip', message });
export const warn = (message: string, hint: string): Verdict => ({ status: 'warn', message, hint });
export const fail = (message: string, hint: string): Verdict => ({ status: 'fail', message, hint });

/**
 * Several verdicts of one check as one: the worst status, the messages of that status joined.
 * Nothing wrong (no verdict, or passes only) is a pass saying `allPassed()`.
 */
export function combine(verdicts: readonly Verdict[], allPassed: () => string): Verdict {
  const top = worst(verdicts);
  if (!top || top.status === 'pass') return pass(allPassed());
  const same = verdicts.filter((v) => v.status === top.status);
  const hints = [...new Set(same.map((v) => v.hint).filter((h): h is string => Boolean(h)))];
  return {
    status: top.status,
    message: same.map((v) => v.message).join('; '),
    ...(hints.length ? { hint: hints.join('; ') } : {}),
  };
}

export function summarizeChecks(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const out: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) out[c.status]++;
  return out;
}

/** Exit 1 when any check fails (PRODUCT §5); `fail-on: warning` also on warnings. */
export function doctorFailed(report: Pick<DoctorReport, 'checks'>, failOn: FailOn = 'error'): boolean {
  if (failOn === 'never') return false;
  return report.checks.some((c) => c.status === 'fail' || (failOn === 'warning' && c.status === 'warn'));
}

/** Failures first, then warnings, passes and skips; the order of the checks within each. */
export function forDisplay(checks: readonly CheckResult[]): CheckResult[] {
  return checks
    .map((c, i) => ({ c, i }))
    .sort((a, b) => RANK[b.c.status] - RANK[a.c.status] || a.i - b.i)
    .map(({ c }) => c);
}

/** A config that does not load is the doctor's first finding, reported in the same shape (exit 2). */
export function configFailure(error: ConfigError, source: string): DoctorReport {
  const checks: CheckResult[] = [
    {
      certificate: null,
      check: 'config',
      status: 'fail',
      message: `${source}: ${error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
      hint: error.hint ?? 'fix the configuration',
    },
  ];
  return { checks, summary: summarizeChecks(checks), durationMs: 0 };
}
