import { describe, expect, it } from 'vitest';
import { backoffDeferral, countsAsFailure, nextFailureState } from '../../src/core/backoff.js';
import type { ErrorInfo } from '../../src/ports/errors.js';

const MINUTE = 60_000;
const STEPS = [MINUTE, 10 * MINUTE, 100 * MINUTE, 1440 * MINUTE];
const t0 = new Date('2026-06-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const dns: ErrorInfo = { class: 'dns-propagation', message: 'dns: not visible after 120 s' };

describe('failure backoff', () => {
  it('steps 1 min, 10 min, 100 min, then daily, counting every failure since the last success', () => {
    let state = nextFailureState(undefined, dns, t0, STEPS);
    const waits = [state];
    for (let i = 0; i < 5; i++) {
      state = nextFailureState(state, dns, at((i + 1) * 2 * 1440 * MINUTE), STEPS);
      waits.push(state);
    }
    expect(waits.map((s) => s.count)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(waits.map((s) => Date.parse(s.nextAttempt) - Date.parse(s.lastAttempt))).toEqual([
      MINUTE,
      10 * MINUTE,
      100 * MINUTE,
      1440 * MINUTE,
      1440 * MINUTE,
      1440 * MINUTE,
    ]);
    expect(waits[2]).toMatchObject({ lastClass: 'dns-propagation', lastMessage: dns.message });
  });

  it("a rate limit waits for the CA's Retry-After, longer or shorter than the step", () => {
    const limited = (retryAfter: Date): ErrorInfo => ({
      class: 'acme-rate-limited',
      message: 'acme: new order: too many new orders',
      retryAfter: retryAfter.toISOString(),
    });
    expect(nextFailureState(undefined, limited(at(3 * 3_600_000)), t0, STEPS).nextAttempt).toBe(
      at(3 * 3_600_000).toISOString(),
    );
    const third = nextFailureState(
      { ...nextFailureState(undefined, dns, t0, STEPS), count: 2 },
      limited(at(5000)),
      t0,
      STEPS,
    );
    expect(third.nextAttempt).toBe(at(5000).toISOString());
    // Without a Retry-After the step applies.
    expect(nextFailureState(undefined, { class: 'acme-rate-limited', message: 'x' }, t0, STEPS).nextAttempt).toBe(
      at(MINUTE).toISOString(),
    );
  });

  it('defers inside the backoff, names the count, the time and the last class; not after it', () => {
    const state = {
      ...nextFailureState(undefined, dns, t0, STEPS),
      count: 3,
      nextAttempt: at(100 * MINUTE).toISOString(),
    };
    expect(backoffDeferral(state, at(MINUTE))).toEqual({
      reason: `backing off after 3 failures until ${at(100 * MINUTE).toISOString()}; last: dns-propagation`,
      until: at(100 * MINUTE).toISOString(),
    });
    expect(backoffDeferral(state, at(100 * MINUTE))).toBeUndefined();
    expect(backoffDeferral(undefined, t0)).toBeUndefined();
  });

  it('keeps messages short, and does not count config errors', () => {
    const long = nextFailureState(undefined, { class: 'network', message: 'x'.repeat(1000) }, t0, STEPS);
    expect(long.lastMessage.length).toBe(300);
    expect(countsAsFailure({ class: 'config', message: 'acme: the CA offers no profile "x"' })).toBe(false);
    for (const c of ['dns-provider', 'network', 'store', 'acme-rejected', 'internal'] as const) {
      expect(countsAsFailure({ class: c, message: '' })).toBe(true);
    }
  });
});
