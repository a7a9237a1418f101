import type { Clock } from './clock.js';

/**
 * The one retry and the one poll of certkeeper (STYLE §14, configure-aws-credentials'
 * `retryAndBackoff`): ACME requests, the runner's store writes, Route 53, webhooks and the
 * propagation wait all use these, each with its own policy and its own idea of what is retryable.
 * Time comes from the injected Clock, so tests never really wait.
 */

/** Delay before the n-th retry: a table (the last entry repeats), or exponential with jitter. */
export type Backoff =
  | readonly number[]
  | {
      baseMs: number;
      maxMs: number;
      /** Growth per retry (default 2). */
      factor?: number;
      /**
       * `equal`: at least half the step plus a random other half, so a busy server really gets
       * breathing room and concurrent clients do not retry in lockstep. Default `none`.
       */
      jitter?: 'equal' | 'none';
    };

/** What a failure (or a result) means: give up, retry after the backoff, or retry after at least `afterMs`. */
export type RetryVerdict = boolean | { afterMs: number };

export interface RetryOptions<T> {
  clock: Clock;
  /** Attempts in all, the first included. */
  tries: number;
  backoff: Backoff;
  /** For failures: true (or a Retry-After) retries while attempts remain; false rethrows at once. */
  retryable(error: unknown, attempt: number): RetryVerdict;
  /** For results that are failures in disguise (an HTTP 503 returned, not thrown); the last one is returned. */
  retryResult?(value: T, attempt: number): RetryVerdict;
  /** Runs before every attempt (e.g. a rate limiter's slot). */
  before?(attempt: number): Promise<void>;
  onRetry?(reason: unknown, attempt: number, waitMs: number): void;
  /** Caps a Retry-After, so one slow server cannot hold the run for long. */
  maxAfterMs?: number;
  random?: () => number;
  signal?: AbortSignal;
}

export function backoffDelay(backoff: Backoff, retry: number, random: () => number = Math.random): number {
  if (Array.isArray(backoff)) {
    const table = backoff as readonly number[];
    return table[Math.min(retry - 1, table.length - 1)] ?? 0;
  }
  const b = backoff as Exclude<Backoff, readonly number[]>;
  const step = Math.min(b.maxMs, b.baseMs * (b.factor ?? 2) ** (retry - 1));
  return b.jitter === 'equal' ? Math.round(step / 2 + random() * (step / 2)) : step;
}

function waitFor(verdict: RetryVerdict, backoff: number, maxAfterMs: number | undefined): number {
  if (typeof verdict === 'object') {
    const after = maxAfterMs === undefined ? verdict.afterMs : Math.min(verdict.afterMs, maxAfterMs);
    return Math.max(backoff, after);
  }
  return backoff;
}

/** Runs `fn` until it succeeds, a failure is not retryable, or `tries` attempts are spent. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    await options.before?.(attempt);
    let value: T;
    try {
      value = await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const verdict = attempt < options.tries ? options.retryable(error, attempt) : false;
      if (verdict === false) throw error;
      const wait = waitFor(verdict, backoffDelay(options.backoff, attempt, random), options.maxAfterMs);
      options.onRetry?.(error, attempt, wait);
      await options.clock.sleep(wait, options.signal);
      continue;
    }
    const verdict = options.retryResult && attempt < options.tries ? options.retryResult(value, attempt) : false;
    if (verdict === false) return value;
    const wait = waitFor(verdict, backoffDelay(options.backoff, attempt, random), options.maxAfterMs);
    options.onRetry?.(value, attempt, wait);
    await options.clock.sleep(wait, options.signal);
  }
}

export interface PollOptions<T> {
  clock: Clock;
  timeoutMs: number;
  /** First wait; grows by `factor` (default 1.5) up to `maxDelayMs` (default: no growth). */
  initialDelayMs: number;
  maxDelayMs?: number;
  factor?: number;
  /** The server's own Retry-After for this answer, honoured within the deadline. */
  retryAfter?(item: T): Date | undefined;
  /** Longest single wait (default 60 s). */
  maxWaitMs?: number;
  /** Called about every `progressEveryMs` (default 10 s) of waiting, so a long wait is visibly alive. */
  onProgress?(elapsedMs: number): void;
  progressEveryMs?: number;
  /** The error to throw at the deadline. */
  onTimeout(elapsedMs: number): Error;
  /** The first answer is known already (e.g. PENDING from the write itself): wait before the first ask. */
  waitFirst?: boolean;
  signal?: AbortSignal;
}

/**
 * Asks at once (the answer is often ready already), then after each wait, until `done` returns a
 * value or the deadline passes.
 */
export async function poll<T, R>(
  fetch: () => Promise<T>,
  done: (item: T) => R | undefined,
  options: PollOptions<T>,
): Promise<R> {
  const { clock } = options;
  const start = clock.now().getTime();
  let delay = options.initialDelayMs;
  const maxDelay = options.maxDelayMs ?? options.initialDelayMs;
  const progressEvery = options.progressEveryMs ?? 10_000;
  let lastProgress = start;
  let last: T | undefined;
  for (let first = true; ; first = false) {
    if (!(first && options.waitFirst)) {
      const item = await fetch();
      const result = done(item);
      if (result !== undefined) return result;
      last = item;
    }
    const now = clock.now().getTime();
    const remaining = start + options.timeoutMs - now;
    if (remaining <= 0) throw options.onTimeout(now - start);
    if (options.onProgress && now - lastProgress >= progressEvery) {
      lastProgress = now;
      options.onProgress(now - start);
    }
    const after = last === undefined ? undefined : options.retryAfter?.(last);
    const wait = after ? Math.max(0, after.getTime() - now) : delay;
    await clock.sleep(Math.min(wait, remaining, options.maxWaitMs ?? 60_000), options.signal);
    delay = Math.min(delay * (options.factor ?? 1.5), maxDelay);
  }
}
