import { describe, expect, it } from 'vitest';
import { CLOUDFLARE_BUDGET, sharedBucket, TokenBucket } from '../../../../src/adapters/dns/cloudflare/budget.js';
import { fakeClock } from '../../../support/clock.js';

describe('cloudflare: client-side request budget', () => {
  it('never lets more than 1,200 requests into any 5-minute window, even under a flood', async () => {
    const clock = fakeClock(new Date('2026-01-01T00:00:00Z'));
    const bucket = new TokenBucket(CLOUDFLARE_BUDGET);
    const sentAt: number[] = [];
    // Three windows' worth, issued at once: the bucket spreads them out.
    await Promise.all(
      Array.from({ length: 3000 }, () => bucket.acquire(clock).then(() => sentAt.push(clock.now().getTime()))),
    );
    let worst = 0;
    for (let i = 0, j = 0; i < sentAt.length; i++) {
      while ((sentAt[j] as number) <= (sentAt[i] as number) - 300_000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(1200);
    // …and uses most of it: 300 at once, then 3/s.
    expect(sentAt.filter((t) => t === sentAt[0])).toHaveLength(300);
    expect((sentAt.at(-1) as number) - (sentAt[0] as number)).toBeLessThanOrEqual(901_000);
  });

  it('a 429 pauses every caller until its Retry-After', async () => {
    const clock = fakeClock(new Date());
    const bucket = new TokenBucket({ burst: 10, perSecond: 10 });
    const start = clock.now().getTime();
    bucket.pause(start + 30_000);
    await Promise.all([bucket.acquire(clock), bucket.acquire(clock)]);
    expect(clock.now().getTime() - start).toBe(30_000);
  });

  it('is shared per API token and endpoint', () => {
    const a = sharedBucket('https://api.cloudflare.com/client/v4', 'token-a');
    expect(sharedBucket('https://api.cloudflare.com/client/v4', 'token-a')).toBe(a);
    expect(sharedBucket('https://api.cloudflare.com/client/v4', 'token-b')).not.toBe(a);
    expect(sharedBucket('http://127.0.0.1:1/client/v4', 'token-a')).not.toBe(a);
  });

  it('an aborted wait rejects without taking the turn of the callers behind it', async () => {
    const clock = fakeClock(new Date());
    const bucket = new TokenBucket({ burst: 1, perSecond: 1 });
    await bucket.acquire(clock);
    const controller = new AbortController();
    controller.abort(new Error('run cancelled'));
    await expect(bucket.acquire(clock, controller.signal)).rejects.toThrow('run cancelled');
    await expect(bucket.acquire(clock)).resolves.toBeUndefined();
  });
});
