import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../../src/adapters/dns/route53/rate-limiter.js';
import { fakeClock } from '../../../support/clock.js';

/** The suite's fake clock, as `{ clock, sleeps, advance }`. */
function testClock() {
  const clock = fakeClock(1_000_000);
  return { clock, sleeps: clock.sleeps, advance: (ms: number) => clock.advance(ms) };
}

describe('Route 53 rate limiter', () => {
  it('lets a burst through, then spaces calls at the rate', async () => {
    const { clock, sleeps } = testClock();
    const limiter = new RateLimiter(5, 5, { active: true });
    for (let i = 0; i < 8; i++) await limiter.acquire(clock);
    // Five at once, then one every 200 ms.
    expect(sleeps).toEqual([200, 200, 200]);
  });

  it('concurrent callers each get their own slot', async () => {
    const { clock, sleeps } = testClock();
    const limiter = new RateLimiter(5, 1, { active: true });
    const start = clock.now().getTime();
    await Promise.all(Array.from({ length: 4 }, () => limiter.acquire(clock)));
    // The fourth caller goes 600 ms after the first (this fake clock moves on at each sleep).
    expect(clock.now().getTime() - start).toBe(600);
    expect(sleeps).toHaveLength(3);
  });

  it('a quiet spell refills the burst', async () => {
    const { clock, sleeps, advance } = testClock();
    const limiter = new RateLimiter(5, 5, { active: true });
    for (let i = 0; i < 5; i++) await limiter.acquire(clock);
    advance(5000);
    for (let i = 0; i < 5; i++) await limiter.acquire(clock);
    expect(sleeps).toEqual([]);
  });

  it('paces nothing until Route 53 has throttled us', async () => {
    const { clock, sleeps } = testClock();
    const limiter = new RateLimiter(5, 1);
    for (let i = 0; i < 10; i++) await limiter.acquire(clock);
    expect(sleeps).toEqual([]);
    limiter.throttled();
    for (let i = 0; i < 3; i++) await limiter.acquire(clock);
    expect(sleeps).toEqual([200, 200]);
  });
});
