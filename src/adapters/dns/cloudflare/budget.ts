import { createHash } from 'node:crypto';
import type { Clock } from '../../../ports/clock.js';

/**
 * Cloudflare allows 1,200 API requests per 5 minutes per user; past that every call answers 429
 * for the rest of the window. A token bucket holds `burst` requests and refills `perSecond`; with
 * burst + 300 s × perSecond ≤ 1,200 no 5-minute window can go over, whatever the traffic. The
 * default (300 at once, then 3/s) keeps a small run instant and spaces a fleet of hundreds of
 * certificates instead of letting it run into 429s. A 429 (another client of the same user, or
 * a stricter limit) pauses every caller of the bucket until its Retry-After.
 */
export interface BudgetOptions {
  burst: number;
  perSecond: number;
}

export const CLOUDFLARE_BUDGET: BudgetOptions = { burst: 300, perSecond: 3 };

export class TokenBucket {
  private tokens: number;
  private last: number | undefined;
  private pausedUntil = 0;
  /** Callers wait in arrival order, so a burst cannot starve an earlier caller. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: BudgetOptions) {
    this.tokens = options.burst;
  }

  /** Takes one request's worth, waiting on `clock` until there is one. */
  acquire(clock: Clock, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(clock, signal));
    this.queue = turn.catch(() => {});
    return turn;
  }

  /** The API said 429: nobody sends before `untilMs` (on the callers' clock). */
  pause(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  private refill(now: number): void {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.last) / 1000) * this.options.perSecond);
    }
    this.last = Math.max(this.last ?? now, now);
  }

  private async take(clock: Clock, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = clock.now().getTime();
      if (now < this.pausedUntil) {
        await clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      this.refill(now);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await clock.sleep(Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000), signal);
    }
  }
}

/**
 * One bucket per API token and endpoint in a process: every provider (each certificate's DNS
 * config) spends the same user's budget. Keyed by a hash, so the map holds no token.
 */
const buckets = new Map<string, TokenBucket>();

export function sharedBucket(baseUrl: string, token: string, options: BudgetOptions = CLOUDFLARE_BUDGET): TokenBucket {
  const key = createHash('sha256').update(`${baseUrl}\0${token}`).digest('hex');
  let bucket = buckets.get(key);
  if (!bucket) {
    bucket = new TokenBucket(options);
    buckets.set(key, bucket);
  }
  return bucket;
}
