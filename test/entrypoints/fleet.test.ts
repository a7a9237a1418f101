import { access } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { getStack } from '../support/stack.js';
import {
  invokeLambda,
  LAMBDA_BUNDLE,
  type LambdaRun,
  localConfig,
  nodeBinary,
  pemBodyLines,
  storedKeys,
  tempDir,
  uniqueZone,
} from './helpers.js';

/**
 * The fleet handlers of dist/lambda/index.mjs (PRODUCT §8) under Node 24, each invocation a fresh
 * process as Lambda gives it: plan → renew per batch, in parallel as the Map runs them → report.
 */

interface Result {
  id: string;
  status: string;
  reason: string;
  durationMs: number;
  error?: { class: string };
}

function value<T>(run: LambdaRun): T {
  if (!run.outcome.ok) throw new Error(`handler threw ${run.outcome.name}: ${run.outcome.message}\n${run.stdout}`);
  return run.outcome.value as T;
}

function emfValue(run: LambdaRun, name: string, dims: Record<string, string> = {}): number | undefined {
  for (const line of run.emf) {
    const def = (line._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] })
      .CloudWatchMetrics[0];
    if (!def?.Metrics.some((m) => m.Name === name)) continue;
    const wanted = ['service', ...Object.keys(dims)].sort();
    if (JSON.stringify([...(def.Dimensions[0] ?? [])].sort()) !== JSON.stringify(wanted)) continue;
    if (Object.entries(dims).every(([k, v]) => line[k] === v)) return line[name] as number;
  }
  return undefined;
}

async function expectNoKeyMaterial(runs: LambdaRun[], dir: string): Promise<void> {
  const all = runs.map((r) => `${r.stdout}\n${r.stderr}\n${JSON.stringify(r.outcome)}`).join('\n');
  expect(all).not.toContain('PRIVATE KEY');
  for (const key of await storedKeys(dir)) for (const line of pemBodyLines(key.pem)) expect(all).not.toContain(line);
}

describe('Lambda fleet handlers (bundle, Node 24)', () => {
  beforeAll(async () => {
    await access(LAMBDA_BUNDLE).catch(() => {
      throw new Error(`${LAMBDA_BUNDLE} is missing: run npm run build`);
    });
    const node = await nodeBinary();
    if (node.fallback) console.warn(`fleet tests run on ${node.version}, not Node 24`);
  }, 200_000);

  it('plan → parallel renew batches → report renews a fleet; a second plan finds nothing due', async () => {
    const stack = getStack();
    const dir = await tempDir('ck-fleet-');
    const ids = ['f-a', 'f-b', 'f-c', 'f-d', 'f-e', 'f-f', 'f-g'];
    const config = {
      ...localConfig(
        stack,
        dir,
        ids.map((id) => ({ id, domains: [uniqueZone('flt')] })),
      ),
      concurrency: 2,
      fleet: { batchSize: 3 },
    };
    const env = { CERTKEEPER_CONFIG: JSON.stringify(config) };

    const planned = await invokeLambda({}, env, { handler: 'plan', requestId: 'plan-1' });
    const plan = value<{ batches: { ids: string[] }[]; deferred: Result[]; total: number; batchSize: number }>(planned);
    expect(plan.total).toBe(7);
    expect(plan.batches.map((b) => b.ids.length)).toEqual([3, 3, 1]);
    expect(plan.batches.flatMap((b) => b.ids).sort()).toEqual(ids);
    expect(plan.deferred).toEqual([]);

    const started = Date.now();
    const renews = await Promise.all(
      plan.batches.map((batch, i) => invokeLambda(batch, env, { handler: 'renew', requestId: `renew-${i}` })),
    );
    const wall = Date.now() - started;
    const outputs = renews.map((r) => value<{ results: Result[] }>(r));
    const results = outputs.flatMap((o) => o.results);
    expect(results.map((r) => [r.id, r.status]).sort()).toEqual(ids.map((id) => [id, 'renewed']));
    // The per-certificate time the batch sizing rests on (src/core/fleet.ts CERTIFICATE_BUDGET_MS).
    const durations = results.map((r) => r.durationMs).sort((a, b) => a - b);
    console.log(
      `fleet: ${results.length} certificates in ${plan.batches.length} parallel batches, ${wall} ms wall; per certificate median ${durations[Math.floor(durations.length / 2)]} ms, max ${durations.at(-1)} ms; result JSON ≤ ${Math.max(...results.map((r) => JSON.stringify(r).length))} bytes`,
    );
    expect(durations.at(-1)).toBeLessThan(30_000);

    const reported = await invokeLambda({ batches: outputs, deferred: plan.deferred }, env, { handler: 'report' });
    const merged = value<{ results: Result[]; summary: Record<string, number> }>(reported);
    expect(merged.results).toHaveLength(7);
    expect(merged.summary).toMatchObject({ renewed: 7, failed: 0, deferred: 0 });
    expect(emfValue(reported, 'RenewalSucceeded')).toBe(7);
    expect(emfValue(reported, 'RenewalFailed')).toBe(0);
    expect(emfValue(reported, 'DaysLeft', { certificate: 'f-d' })).toBeGreaterThan(1);

    const again = await invokeLambda({}, env, { handler: 'plan', requestId: 'plan-2' });
    expect(value<{ batches: unknown[]; total: number }>(again)).toMatchObject({ batches: [], total: 0 });
    // Plan read every store: the whole fleet's DaysLeft, not just the due ones.
    for (const id of ids) expect(emfValue(again, 'DaysLeft', { certificate: id })).toBeGreaterThan(1);
    // A forced plan takes every certificate again, and says so to each renew.
    const forced = await invokeLambda({ force: true }, env, { handler: 'plan', requestId: 'plan-3' });
    const forcedPlan = value<{ batches: { ids: string[]; force?: boolean }[]; total: number }>(forced);
    expect(forcedPlan.total).toBe(7);
    expect(forcedPlan.batches.every((b) => b.force === true)).toBe(true);
    await expectNoKeyMaterial([planned, ...renews, reported, again, forced], dir);
  });

  it('renew defers what it cannot start with 3 minutes left; report throws after its metrics when any failed', async () => {
    const stack = getStack();
    const dir = await tempDir('ck-fleet-');
    const config = localConfig(stack, dir, [
      { id: 'late-1', domains: [uniqueZone('fltl')] },
      { id: 'late-2', domains: [uniqueZone('fltl')] },
    ]);
    const env = { CERTKEEPER_CONFIG: JSON.stringify(config) };
    const late = await invokeLambda({ ids: ['late-1', 'late-2', 'gone'] }, env, {
      handler: 'renew',
      remainingMs: 120_000,
    });
    const batch = value<{ results: Result[] }>(late);
    expect(batch.results.map((r) => [r.id, r.status])).toEqual([
      ['late-1', 'deferred'],
      ['late-2', 'deferred'],
      ['gone', 'failed'],
    ]);
    expect(batch.results[0]?.reason).toMatch(/120 s of the invocation left/);
    expect(batch.results[2]?.error?.class).toBe('config');

    const timedOut = { ids: ['x-1', 'x-2'], error: { Error: 'States.Timeout', Cause: 'renew ran past 960 s' } };
    const reported = await invokeLambda({ batches: [batch, timedOut] }, env, { handler: 'report' });
    expect(reported.outcome.ok).toBe(false);
    if (reported.outcome.ok) return;
    expect(reported.outcome.name).toBe('RenewalFailedError');
    expect(reported.outcome.message).toContain('3 certificate(s) failed');
    expect(reported.outcome.message).toContain('x-1 [timeout]');
    expect(emfValue(reported, 'RenewalFailed')).toBe(3);
    expect(emfValue(reported, 'RenewalFailed', { errorClass: 'timeout' })).toBe(2);
    expect(emfValue(reported, 'RenewalFailed', { errorClass: 'config' })).toBe(1);

    const bad = await invokeLambda({ ids: [] }, env, { handler: 'renew' });
    expect(bad.outcome.ok || bad.outcome.name).toBe('InvalidConfigError');
    const badReport = await invokeLambda([], env, { handler: 'report' });
    expect(badReport.outcome.ok || badReport.outcome.message).toContain('event.batches');
  });
});
