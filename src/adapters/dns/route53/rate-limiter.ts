import type { Clock } from '../../../ports/clock.js';

/**
 * Route 53 allows 5 API requests per second per account. A fleet renewed with high concurrency
 * would spend its retries on Throttling (and can run out of them), so once Route 53 answers
 * Throttling, calls are spaced on our side for the rest of the run. Until then nothing is paced:
 * a small run, or an endpoint without the limit, goes at full speed. Each call reserves the next
 * free slot; a burst of `burst` calls goes out at once after a quiet spell. Shared by all
 * providers on one client.
 */
export class RateLimiter {
  private next = Number.NEGATIVE_INFINITY;
  private readonly interval: number;
  private active = false;
  constructor(
    perSecond: number,
    private readonly burst: number,
    options: { active?: boolean } = {},
  ) {
    this.interval = 1000 / perSecond;
    this.active = options.active ?? false;
  }

  /** Route 53 said Throttling: pace from now on. */
  throttled(): void {
    this.active = true;
  }

  get pacing(): boolean {
    return this.active;
  }

  async acquire(clock: Clock, signal?: AbortSignal): Promise<void> {
    if (!this.active) return;
    const now = clock.now().getTime();
    const slot = Math.max(this.next, now - (this.burst - 1) * this.interval);
    this.next = slot + this.interval;
    if (slot > now) await clock.sleep(slot - now, signal);
  }
}

export const ROUTE53_REQUESTS_PER_SECOND = 5;
