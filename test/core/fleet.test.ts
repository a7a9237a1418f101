import { describe, expect, it } from 'vitest';
import {
  CERTIFICATE_BUDGET_MS,
  INVOCATION_LIMIT_MS,
  MIN_START_MS,
  mergeFleet,
  planFleet,
  safeBatchSize,
} from '../../src/core/fleet.js';
import type { CertificateResult, RunReport } from '../../src/core/results.js';
import { summarize } from '../../src/core/results.js';
import { parseConfig } from '../../src/entrypoints/config.js';

function config(n: number, extra: Record<string, unknown> = {}, domains = (i: number) => [`c${i}.example.com`]) {
  return parseConfig(
    {
      version: 1,
      acme: { directory: 'letsencrypt-staging' },
      certificates: Array.from({ length: n }, (_, i) => ({
        id: `c${i}`,
        domains: domains(i),
        dns: { provider: 'route53' },
      })),
      ...extra,
    },
    { env: {} },
  );
}

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function result(id: string, status: CertificateResult['status'], daysLeft?: number): CertificateResult {
  return {
    id,
    status,
    reason: status,
    domains: [`${id}.example.com`],
    health: daysLeft === undefined ? 'missing' : 'ok',
    durationMs: 1,
    ...(daysLeft === undefined ? {} : { daysLeft, notAfter: new Date(NOW + daysLeft * DAY).toISOString() }),
  };
}

function dryRun(results: CertificateResult[]): RunReport {
  return {
    results,
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
    dryRun: true,
    summary: summarize(results),
  };
}

describe('safeBatchSize', () => {
  it('lets every certificate of a batch start with 3 minutes left in a 15-minute invocation', () => {
    for (const concurrency of [1, 2, 4, 10, 64]) {
      for (const per of [30_000, CERTIFICATE_BUDGET_MS, 150_000]) {
        const size = safeBatchSize(concurrency, per);
        // A pool of `concurrency` slots: the last certificate starts after ceil(size/c) - 1 slot turns.
        const lastStart = 10_000 + (Math.ceil(size / concurrency) - 1) * per;
        expect(lastStart, `c=${concurrency} per=${per}`).toBeLessThanOrEqual(INVOCATION_LIMIT_MS - MIN_START_MS);
        // And one more wave would not.
        expect(10_000 + Math.ceil((size + 1) / concurrency - 1) * per).toBeGreaterThan(
          INVOCATION_LIMIT_MS - MIN_START_MS,
        );
      }
    }
    expect(safeBatchSize(4)).toBe(32);
    expect(safeBatchSize(4)).toBeGreaterThanOrEqual(25); // the default batch size fits the default concurrency
  });
});

describe('planFleet', () => {
  it('batches only due certificates, missing first then earliest notAfter, in fleet.batchSize', () => {
    const c = config(8, { fleet: { batchSize: 3 } });
    const plan = planFleet(
      c,
      dryRun([
        result('c0', 'skipped', 60),
        result('c1', 'would-renew', 20),
        result('c2', 'would-renew'),
        result('c3', 'would-renew', 5),
        result('c4', 'failed'),
        result('c5', 'would-renew', 12),
        result('c6', 'deferred', 3),
        result('c7', 'would-renew', 5),
      ]),
    );
    expect(plan.batches).toEqual([{ ids: ['c2', 'c4', 'c3'] }, { ids: ['c7', 'c5', 'c1'] }]);
    expect(plan.total).toBe(6);
    expect(plan.batchSize).toBe(3);
    expect(plan.deferred.map((r) => r.id)).toEqual(['c6']);
    expect(plan.deferredOmitted).toBeUndefined();
  });

  it('caps the batch size at what one invocation finishes', () => {
    const c = config(40, { concurrency: 1, fleet: { batchSize: 25 } });
    const plan = planFleet(c, dryRun(c.certificates.map((x) => result(x.id, 'would-renew'))));
    expect(plan.batchSize).toBe(safeBatchSize(1));
    expect(plan.batches.every((b) => b.ids.length <= safeBatchSize(1))).toBe(true);
    expect(plan.batches.flatMap((b) => b.ids)).toHaveLength(40);
  });

  it('moves what the dry run deferred (order budget, backoff) to the deferred list, most urgent first', () => {
    const c = config(5);
    const plan = planFleet(
      c,
      dryRun([
        result('c0', 'deferred', 9),
        result('c1', 'would-renew', 2),
        result('c2', 'would-renew'),
        result('c3', 'deferred', 30),
        result('c4', 'deferred', 4),
      ]),
    );
    expect(plan.batches).toEqual([{ ids: ['c2', 'c1'] }]);
    expect(plan.total).toBe(2);
    expect(plan.deferred.map((r) => [r.id, r.status])).toEqual([
      ['c4', 'deferred'],
      ['c0', 'deferred'],
      ['c3', 'deferred'],
    ]);
  });

  it('keeps the plan and the report within one Step Functions payload: the least urgent wait for the next run', () => {
    const c = config(3000, {}, (i) => [`c${i}.example.com`, `*.c${i}.example.com`]);
    const plan = planFleet(c, dryRun(c.certificates.map((x, i) => result(x.id, 'would-renew', i / 100))));
    expect(plan.total).toBeGreaterThan(150);
    expect(plan.total).toBeLessThan(3000);
    // What report receives: a full renewed result per planned certificate, plus the deferred list.
    const renewed = JSON.stringify({
      ...result('c1', 'renewed', 90),
      domains: ['c1.example.com', '*.c1.example.com'],
      reason: 'expires in 1.2 days (renew before 33% of lifetime)',
      serialNumber: 'ab'.repeat(18),
      renewAt: new Date().toISOString(),
      store: {
        type: 'aws-secrets-manager',
        ref: `arn:aws:secretsmanager:us-east-1:123456789012:secret:certkeeper/${'c'.repeat(20)}-AbCdEf`,
        version: crypto.randomUUID(),
      },
    }).length;
    const reportInput = plan.total * renewed + JSON.stringify(plan.deferred).length + 200;
    expect(reportInput).toBeLessThan(256 * 1024);
    expect(JSON.stringify(plan).length).toBeLessThan(256 * 1024);
    expect((plan.deferredOmitted ?? 0) + plan.deferred.length + plan.total).toBe(3000);
    // The most urgent are planned.
    expect(plan.batches[0]?.ids[0]).toBe('c0');
  });
});

describe('mergeFleet', () => {
  it('joins batches and deferred results; omitted deferred ones still count', () => {
    const merged = mergeFleet(
      [{ results: [result('a', 'renewed', 90), result('b', 'failed')] }, { results: [result('c', 'deferred')] }],
      [result('d', 'deferred', 3)],
      5,
    );
    expect(merged.results.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(merged.summary).toMatchObject({ renewed: 1, failed: 1, deferred: 7 });
  });
});
