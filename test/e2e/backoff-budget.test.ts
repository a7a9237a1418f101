import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccountStore } from '../../src/adapters/store/file/account.js';
import type { CertificateResult, RunReport } from '../../src/core/results.js';
import { runFailed } from '../../src/core/results.js';
import { plan } from '../../src/entrypoints/lambda/fleet.js';
import { type Clock, systemClock } from '../../src/ports/clock.js';
import type { DnsProvider } from '../../src/ports/dns.js';
import { DnsProviderError } from '../../src/ports/errors.js';
import type { FailureState } from '../../src/ports/store.js';
import { type AriShim, startAriShim } from '../support/ari-shim.js';
import { captureLog, localConfig, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

/**
 * Failure backoff across runs and the order budget (PRODUCT §3), through the runner against
 * Pebble behind the ARI shim, whose request log proves when the CA was not contacted at all.
 */

const stack = getStack();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let shim: AriShim;

beforeAll(async () => {
  shim = await startAriShim({ upstream: stack });
});
afterAll(() => shim?.stop());

const viaShim = (dir: string, certificates: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  localConfig(
    { ...stack, acmeDirectory: shim.directoryUrl, caBundlePath: shim.caBundlePath },
    dir,
    certificates,
    extra,
  );

const later = (ms: number): Clock => ({ now: () => new Date(Date.now() + ms), sleep: systemClock.sleep });

const only = (report: RunReport): CertificateResult => {
  expect(report.results).toHaveLength(1);
  return report.results[0] as CertificateResult;
};

const byId = (report: RunReport) => Object.fromEntries(report.results.map((r) => [r.id, r]));

async function failures(dir: string, id: string): Promise<FailureState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${id}.failures.json`), 'utf8')) as FailureState;
  } catch {
    return undefined;
  }
}

/** A DNS provider that refuses to write while `broken.on` is set (counting its refusals). */
function breakable(broken: { on: boolean; refused?: number }) {
  return (real: DnsProvider): DnsProvider => ({
    ...real,
    name: real.name,
    present: async (records, signal) => {
      if (broken.on) {
        broken.refused = (broken.refused ?? 0) + 1;
        throw new DnsProviderError('challtestsrv: the API refuses writes (test)');
      }
      return real.present(records, signal);
    },
    cleanup: (records, signal) => real.cleanup(records, signal),
  });
}

describe('failure backoff across runs', () => {
  it('the run after a failure is deferred without a request to the CA; steps, --force and success reset it', async () => {
    const dir = await tempDir();
    const raw = viaShim(dir, [{ id: 'flaky', domains: [uniqueZone('bko')] }]);
    const broken: { on: boolean; refused?: number } = { on: true };
    const dns = breakable(broken);

    const t0 = Date.now();
    const first = only(await runLocal(raw, { dns }));
    expect(first).toMatchObject({ status: 'failed', error: { class: 'dns-provider' } });
    const one = await failures(dir, 'flaky');
    expect(one).toMatchObject({ count: 1, lastClass: 'dns-provider' });
    expect(one?.lastMessage).toContain('the API refuses writes');
    expect(Date.parse(one?.nextAttempt ?? '') - t0).toBeGreaterThanOrEqual(MINUTE);
    expect(Date.parse(one?.nextAttempt ?? '') - Date.now()).toBeLessThanOrEqual(MINUTE);

    // At once again: deferred, and not a single request to the CA (not even the directory).
    shim.resetLog();
    const second = await runLocal(raw, { dns });
    const deferred = only(second);
    expect(deferred).toMatchObject({ status: 'deferred', health: 'missing', renewAt: one?.nextAttempt });
    expect(deferred.reason).toBe(
      `due (no certificate stored yet), but backing off after 1 failure until ${one?.nextAttempt}; last: dns-provider`,
    );
    expect(shim.count()).toBe(0);
    expect(second.summary.deferred).toBe(1);
    expect(runFailed(second, 'error')).toBe(false);
    expect(runFailed(second, 'warning')).toBe(true);
    // plan shows the same.
    expect(only(await runLocal(raw, { dns, dryRun: true })).status).toBe('deferred');
    expect(shim.count()).toBe(0);

    // After the first step (1 min) it tries again; the second failure waits 10 min.
    const third = only(await runLocal(raw, { dns, clock: later(MINUTE + 1000) }));
    expect(third.status).toBe('failed');
    const two = await failures(dir, 'flaky');
    expect(two?.count).toBe(2);
    expect(Date.parse(two?.nextAttempt ?? '') - Date.parse(two?.lastAttempt ?? '')).toBe(10 * MINUTE);
    shim.resetLog();
    const waiting = only(await runLocal(raw, { dns, clock: later(6 * MINUTE) }));
    expect(waiting.reason).toMatch(/backing off after 2 failures until \S+; last: dns-provider$/);
    expect(shim.count()).toBe(0);

    // --force ignores the backoff; success clears it.
    broken.on = false;
    const forced = only(await runLocal(raw, { dns, force: true }));
    expect(forced, JSON.stringify(forced.error)).toMatchObject({ status: 'renewed' });
    expect(await failures(dir, 'flaky')).toBeUndefined();
    expect(only(await runLocal(raw, { dns })).status).toBe('skipped');

    // And the count starts over after a success.
    broken.on = true;
    const refused = broken.refused;
    let again = only(await runLocal(raw, { dns, force: true }));
    // Pebble reuses about 1 % of valid authorizations even with PEBBLE_AUTHZREUSE=0 (devstack/
    // pebble.ts): the order is then ready with nothing to publish, and nothing can fail. Order again.
    for (let i = 0; i < 3 && again.status === 'renewed' && broken.refused === refused; i++) {
      again = only(await runLocal(raw, { dns, force: true }));
    }
    expect(again.status).toBe('failed');
    expect((await failures(dir, 'flaky'))?.count).toBe(1);
  }, 30_000);

  it("a rate-limited order waits for the CA's Retry-After, and stops the run's other orders", async () => {
    const dir = await tempDir();
    const ids = ['rl-a', 'rl-b', 'rl-c'];
    const raw = viaShim(
      dir,
      ids.map((id) => ({ id, domains: [uniqueZone('rl')] })),
      { concurrency: 1 },
    );
    shim.resetLog();
    shim.rateLimitOrders(1, 7200);
    const log = captureLog();
    const report = byId(await runLocal(raw, { log }));
    expect(report['rl-a']).toMatchObject({ status: 'failed', error: { class: 'acme-rate-limited' } });
    for (const id of ['rl-b', 'rl-c']) {
      expect(report[id]?.status).toBe('deferred');
      expect(report[id]?.reason).toMatch(/the CA rate-limits new orders for this account until \S+: no new order/);
      // Not attempted, so not counted: the next run tries them.
      expect(await failures(dir, id)).toBeUndefined();
    }
    expect(shim.count('new-order')).toBe(1);
    const limited = await failures(dir, 'rl-a');
    expect(limited?.lastClass).toBe('acme-rate-limited');
    const wait = Date.parse(limited?.nextAttempt ?? '') - Date.parse(limited?.lastAttempt ?? '');
    expect(wait).toBeGreaterThan(2 * HOUR - 5000);
    expect(wait).toBeLessThanOrEqual(2 * HOUR);

    // 30 min later, past the first backoff step but not the CA's 2 h: only the others order.
    shim.resetLog();
    const next = byId(await runLocal(raw, { clock: later(30 * MINUTE) }));
    expect(next['rl-a']?.reason).toMatch(
      /backing off after 1 failure until \S+ \(the CA's Retry-After\); last: acme-rate-limited$/,
    );
    expect(next['rl-b']?.status).toBe('renewed');
    expect(next['rl-c']?.status).toBe('renewed');
    expect(shim.count('new-order')).toBe(2);
  }, 30_000);
});

describe('the order budget', () => {
  it('with a budget of N and more due certificates: exactly N ordered, the rest deferred, across runs and plans', async () => {
    const dir = await tempDir();
    const ids = ['b-a', 'b-b', 'b-c'];
    const raw = viaShim(
      dir,
      ids.map((id) => ({ id, domains: [uniqueZone('bud')] })),
      { acme: { orderBudget: { orders: 2, per: '3h' } } },
    );
    // plan only reads the window: nothing reserved.
    const preview = await runLocal(raw, { dryRun: true });
    expect(preview.results.map((r) => r.status)).toEqual(['would-renew', 'would-renew', 'deferred']);
    expect(preview.orderBudget).toMatchObject({ orders: 2, perMs: 3 * HOUR, usedBefore: 0, granted: 2, deferred: 1 });

    shim.resetLog();
    const t0 = Date.now();
    const first = await runLocal(raw);
    expect(first.results.map((r) => r.status)).toEqual(['renewed', 'renewed', 'deferred']);
    expect(shim.count('new-order')).toBe(2);
    const over = byId(first)['b-c'] as CertificateResult;
    const until = /used up until (\S+)$/.exec(over.reason)?.[1] as string;
    expect(over.reason).toBe(`due (no certificate stored yet), but order budget of 2 per 3h used up until ${until}`);
    expect(Date.parse(until) - t0).toBeGreaterThanOrEqual(3 * HOUR);
    expect(over.renewAt).toBe(until);
    expect(first.nextCheck).toBe(until);

    // The next run, and a fleet plan, in the same window: still no order for b-c.
    shim.resetLog();
    const second = byId(await runLocal(raw));
    expect(second['b-c']).toMatchObject({ status: 'deferred' });
    expect(second['b-c']?.reason).toContain(`used up until ${until}`);
    expect(shim.count('new-order')).toBe(0);
    const fleet = await plan(
      {},
      { awsRequestId: 'plan-budget', getRemainingTimeInMillis: () => 900_000 },
      { env: { CERTKEEPER_CONFIG: JSON.stringify(raw) } },
    );
    expect(fleet.batches).toEqual([]);
    expect(fleet.deferred.map((r) => [r.id, r.status])).toEqual([['b-c', 'deferred']]);

    // When the window has passed: b-c gets its order.
    const third = byId(await runLocal(raw, { clock: later(3 * HOUR + MINUTE) }));
    expect(third['b-c']?.status).toBe('renewed');
    expect(shim.count('new-order')).toBe(1);
  }, 30_000);

  it('serves the most urgent first, and gives back what the run did not order', async () => {
    // A CA with a short profile, so that one stored certificate clearly expires before the other.
    const ca = await startAriShim({
      upstream: stack,
      profiles: { classic: { description: '90 d' }, week: { description: '7 d', validityMs: 7 * 24 * HOUR } },
    });
    try {
      const dir = await tempDir();
      const cfg = (certificates: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
        localConfig(
          { ...stack, acmeDirectory: ca.directoryUrl, caBundlePath: ca.caBundlePath },
          dir,
          certificates,
          extra,
        );
      // Ids sort against urgency: "a-later" expires years after "z-sooner".
      const lasting = { id: 'a-later', domains: [uniqueZone('urg')], profile: 'classic' };
      const sooner = { id: 'z-sooner', domains: [uniqueZone('urg')], profile: 'week' };
      expect((await runLocal(cfg([lasting, sooner]))).results.map((r) => r.status)).toEqual(['renewed', 'renewed']);
      const missing = { id: 'm-missing', domains: [uniqueZone('urg')], profile: 'classic' };
      const budget = { orders: 2, per: '3h' };
      // Every certificate due (renew 9999 days before expiry), room for two orders.
      const report = byId(
        await runLocal(
          cfg([lasting, missing, sooner], { acme: { orderBudget: budget }, renewal: { renewBefore: '9999d' } }),
        ),
      );
      expect(report['m-missing']?.status).toBe('renewed');
      expect(report['z-sooner']?.status).toBe('renewed');
      expect(report['a-later']?.status).toBe('deferred');

      // An order reserved and not placed (the CA offers no such profile: refused before any order)
      // is given back.
      const bad = cfg([{ id: 'u-bad', domains: [uniqueZone('urg')], profile: 'nonexistent' }], {
        acme: { orderBudget: { orders: 3, per: '3h' } },
      });
      const failed = only(await runLocal(bad));
      expect(failed).toMatchObject({ status: 'failed', error: { class: 'config' } });
      // The two orders of the run before are counted, the refused one's reservation is not.
      const usage = await new FileAccountStore(dir).ordersInWindow(ca.directoryUrl, { orders: 3, perMs: 3 * HOUR });
      expect(usage.used).toBe(2);
    } finally {
      await ca.stop();
    }
  }, 30_000);
});
