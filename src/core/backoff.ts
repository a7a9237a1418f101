import type { ErrorInfo } from '../ports/errors.js';
import type { FailureState } from '../ports/store.js';

/**
 * Failure backoff across runs (PRODUCT §3): each failed attempt is counted in the certificate's
 * store, and the next one waits `renewal.failureBackoff` (Let's Encrypt's guidance: 1 min, 10 min,
 * 100 min, then daily), so a certificate that keeps failing stops burning the CA's limit on failed
 * validations (5 per name per account per hour) on every scheduled run.
 */

/** Long enough to say what failed; stores may shorten it further (Secrets Manager tags: 256). */
const MAX_MESSAGE = 300;

/**
 * Whether a failure is counted. Class `config` is not: an unknown profile is found before any
 * order (the CA sees a directory GET, nothing it limits), and the fix is an edit of the config,
 * after which the next run must try at once rather than wait out a backoff the user cannot see
 * the reason for. Every other class is: DNS, store and network failures happen after the order,
 * when the CA has already counted it (or its failed validation).
 */
export function countsAsFailure(error: ErrorInfo): boolean {
  return error.class !== 'config';
}

/** The failure state after one more failed attempt at `now`. */
export function nextFailureState(
  previous: FailureState | undefined,
  error: ErrorInfo,
  now: Date,
  backoffMs: readonly number[],
): FailureState {
  const count = (previous?.count ?? 0) + 1;
  const step = backoffMs[Math.min(count, backoffMs.length) - 1] ?? 0;
  let next = now.getTime() + step;
  // The CA said when: its Retry-After replaces our step (it may be longer or shorter).
  const retryAfter = error.class === 'acme-rate-limited' && error.retryAfter ? Date.parse(error.retryAfter) : NaN;
  if (!Number.isNaN(retryAfter)) next = Math.max(retryAfter, now.getTime());
  const message = error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE - 1)}…` : error.message;
  return {
    count,
    lastClass: error.class,
    lastMessage: message,
    lastAttempt: now.toISOString(),
    nextAttempt: new Date(next).toISOString(),
  };
}

/** Why a due certificate waits at `now`, or undefined when its backoff is over (or there is none). */
export function backoffDeferral(
  failures: FailureState | undefined,
  now: Date,
): { reason: string; until: string } | undefined {
  if (!failures || !(Date.parse(failures.nextAttempt) > now.getTime())) return undefined;
  const n = failures.count;
  const retry = failures.lastClass === 'acme-rate-limited' ? " (the CA's Retry-After)" : '';
  return {
    reason: `backing off after ${n} failure${n === 1 ? '' : 's'} until ${failures.nextAttempt}${retry}; last: ${failures.lastClass}`,
    until: failures.nextAttempt,
  };
}
