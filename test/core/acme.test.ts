import { describe, expect, it } from 'vitest';
import { parseRetryAfter, pollAcme as poll, problemToError } from '../../src/core/acme.js';
import { toErrorInfo } from '../../src/ports/errors.js';
import { fakeClock } from '../support/clock.js';

/** The suite's fake clock, as `{ clock, sleeps, advance }`. */
function testClock() {
  const clock = fakeClock(Date.parse('2026-11-22T00:00:00Z'));
  return { clock, sleeps: clock.sleeps, advance: (ms: number) => clock.advance(ms) };
}

describe('poll', () => {
  it('starts at 250 ms and backs off ×1.5 up to the cap', async () => {
    const { clock, sleeps } = testClock();
    let calls = 0;
    const result = await poll(
      async () => ({ n: ++calls, retryAfter: undefined as Date | undefined }),
      (x) => (x.n === 8 ? 'done' : undefined),
      'thing',
      clock,
      { timeoutMs: 60_000, maxDelayMs: 1000 },
    );
    expect(result).toBe('done');
    expect(sleeps).toEqual([250, 375, 562.5, 843.75, 1000, 1000, 1000]);
  });

  it('honours Retry-After', async () => {
    const { clock, sleeps } = testClock();
    let calls = 0;
    await poll(
      async () => ({ n: ++calls, retryAfter: new Date(clock.now().getTime() + 3000) }),
      (x) => (x.n === 2 ? true : undefined),
      'thing',
      clock,
      { timeoutMs: 60_000 },
    );
    expect(sleeps).toEqual([3000]);
  });

  it('gives up with a timeout error at the deadline, and reports progress while waiting', async () => {
    const { clock } = testClock();
    const progress: number[] = [];
    const error = await poll(
      async () => ({}),
      () => undefined,
      'validation of example.com',
      clock,
      {
        timeoutMs: 30_000,
        onProgress: (ms) => progress.push(ms),
      },
    ).catch((e) => e);
    expect(toErrorInfo(error)).toMatchObject({ class: 'timeout' });
    expect(error.message).toContain('validation of example.com');
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });
});

describe('problemToError', () => {
  const now = new Date('2026-11-22T00:00:00Z');
  it.each([
    ['urn:ietf:params:acme:error:rateLimited', 429, 'acme-rate-limited'],
    ['urn:ietf:params:acme:error:accountDoesNotExist', 400, 'acme-account'],
    ['urn:ietf:params:acme:error:externalAccountRequired', 403, 'acme-account'],
    ['urn:ietf:params:acme:error:rejectedIdentifier', 400, 'acme-rejected'],
    ['urn:ietf:params:acme:error:caa', 403, 'acme-rejected'],
    ['urn:ietf:params:acme:error:unauthorized', 403, 'acme-rejected'],
    ['urn:ietf:params:acme:error:dns', 400, 'dns-propagation'],
    ['urn:ietf:params:acme:error:serverInternal', 500, 'network'],
    ['', 503, 'network'],
  ])('%s (%i) → %s', (type, status, cls) => {
    expect(toErrorInfo(problemToError({ type, detail: 'd' }, status, undefined, 'x')).class).toBe(cls);
  });

  it('a rate limit carries retryAfter from the header', () => {
    const retryAfter = parseRetryAfter('3600', now);
    const info = toErrorInfo(
      problemToError(
        { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many' },
        429,
        retryAfter,
        'new order',
      ),
    );
    expect(info).toMatchObject({ class: 'acme-rate-limited', retryAfter: '2026-11-22T01:00:00.000Z' });
    expect(info.message).toBe('acme: new order: too many');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120', now)?.toISOString()).toBe('2026-11-22T00:02:00.000Z');
    expect(parseRetryAfter('Sun, 22 Nov 2026 03:00:00 GMT', now)?.toISOString()).toBe('2026-11-22T03:00:00.000Z');
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('includes subproblems per identifier', () => {
    const e = problemToError(
      {
        type: 'urn:ietf:params:acme:error:rejectedIdentifier',
        detail: 'some names refused',
        subproblems: [{ type: 'x', detail: 'blocked', identifier: { value: 'bad.example.com' } }],
      },
      400,
      undefined,
      'new order',
    );
    expect(e.message).toContain('bad.example.com: blocked');
  });
});
