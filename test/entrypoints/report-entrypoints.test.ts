import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/adapters/store/file/store.js';
import type { FleetReport } from '../../src/core/report.js';
import { systemClock } from '../../src/ports/clock.js';
import { issueWithDaysLeft, storedFrom } from '../support/report-fixtures.js';
import { createTestCa } from '../support/test-ca.js';
import { ACTION_BUNDLE, invokeLambda, LAMBDA_BUNDLE, runAction, schedulerEvent, tempDir } from './helpers.js';

/**
 * `command: report` in the built Action and `{ "command": "report" }` in the built Lambda, over a
 * file store seeded here; and the fleet picture above the table in the Action's run summary. The
 * config's CA and DNS provider point at nothing: neither report nor a dry run may need them.
 */

let workspace: string;
let storeDir: string;
let config: Record<string, unknown>;

beforeAll(async () => {
  await Promise.all([ACTION_BUNDLE, LAMBDA_BUNDLE].map((b) => access(b)));
  workspace = await tempDir('ck-report-entry-');
  storeDir = join(workspace, 'store');
  const ca = await createTestCa();
  for (const [id, left] of [
    ['web', 50],
    ['api', 4],
  ] as const) {
    const names = [`${id}.example.com`];
    await new FileStore(storeDir, id, systemClock).write(
      storedFrom(id, names, await issueWithDaysLeft(ca, names, left)),
    );
  }
  config = {
    version: 1,
    acme: { directory: 'https://127.0.0.1:9/dir' },
    defaults: { dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' }, store: { type: 'file', dir: storeDir } },
    certificates: ['web', 'api', 'new'].map((id) => ({ id, domains: [`${id}.example.com`] })),
  };
  await writeFile(join(workspace, 'certkeeper.yml'), JSON.stringify(config));
}, 60_000);

describe('report through the entry points', () => {
  it('Action command: report — outputs the report, the summary shows the picture above the table', async () => {
    const run = await runAction(workspace, { command: 'report' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.outputs.results ?? '') as FleetReport;
    expect(report.certificates.map((e) => [e.id, e.health])).toEqual([
      ['api', 'critical'],
      ['new', 'missing'],
      ['web', 'ok'],
    ]);
    expect(run.outputs['next-check']).toBe(report.certificates[0]?.renewAt);
    const picture = run.summary.indexOf('```mermaid\ngantt');
    expect(picture).toBeGreaterThan(run.summary.indexOf('certkeeper report'));
    expect(run.summary.indexOf('<table>')).toBeGreaterThan(picture);
    expect(run.summary).toMatch(/api · 3d :crit, /);
    expect(run.summary).toContain('3 certificate(s): 1 ok, 0 warning, 1 critical, 0 expired, 1 missing; 0 failing');
    // The unhealthy ones are annotated.
    expect(run.stdout).toMatch(/::warning title=certkeeper%3A api::health critical \(3 days left\)/);

    const failing = await runAction(workspace, { command: 'report', 'fail-on': 'warning' });
    expect(failing.code).toBe(1);
    const bad = await runAction(workspace, { command: 'renew-everything' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('input command: must be one of run, plan, doctor, report');
  });

  it('Action run (dry run): the picture stands above the results table', async () => {
    const run = await runAction(workspace, { 'dry-run': 'true' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const picture = run.summary.indexOf('```mermaid\ngantt');
    expect(picture).toBeGreaterThan(0);
    expect(run.summary.indexOf('<table>')).toBeGreaterThan(picture);
    expect(run.summary).toMatch(/new · no certificate :milestone, crit, /);
  });

  it('Lambda { "command": "report" } returns the report and emits DaysLeft per certificate', async () => {
    const run = await invokeLambda(schedulerEvent({ command: 'report' }), {
      CERTKEEPER_CONFIG: JSON.stringify(config),
      AWS_REGION: 'us-east-1',
    });
    if (!run.outcome.ok) throw new Error(`${run.outcome.name}: ${run.outcome.message}\n${run.stderr}`);
    const report = run.outcome.value as unknown as FleetReport;
    expect(report.summary).toMatchObject({ total: 3, ok: 1, critical: 1, missing: 1 });
    const daysLeft = run.emf
      .filter((l) => 'DaysLeft' in l)
      .map((l) => [l.certificate, Math.floor(l.DaysLeft as number)])
      .sort();
    expect(daysLeft).toEqual([
      ['api', 3],
      ['web', 49],
    ]);
    expect(run.lines.some((l) => l.message === 'report finished')).toBe(true);
    // A report is no renewal: nothing counted as failed or renewed.
    expect(run.emf.some((l) => 'RenewalFailed' in l || 'RenewalSucceeded' in l)).toBe(false);
  });
});
