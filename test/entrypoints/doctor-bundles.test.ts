import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/core/doctor/report.js';
import { makeReadOnly } from '../support/doctor.js';
import { getStack } from '../support/stack.js';
import {
  ACTION_BUNDLE,
  invokeLambda,
  LAMBDA_BUNDLE,
  localConfig,
  nodeBinary,
  ROOT,
  runAction,
  schedulerEvent,
  tempDir,
  uniqueZone,
} from './helpers.js';

/**
 * The doctor through the built bundles, as GitHub and Lambda run them (Node 24): the Action's
 * `command: doctor` (the `checks` output, a summary with failures first and hints, annotations,
 * fail-on, exit 2 for a config error), the Lambda event `{ "command": "doctor" }` (JSON logs, EMF
 * DoctorFailures), and the scheduled example workflow, validated with GitHub's parser.
 */

let work: string;
let restore: () => Promise<void>;
let config: Record<string, unknown>;

beforeAll(async () => {
  for (const bundle of [ACTION_BUNDLE, LAMBDA_BUNDLE]) {
    await access(bundle).catch(() => {
      throw new Error(`${bundle} is missing: run npm run build`);
    });
  }
  await nodeBinary();
  work = await tempDir('ck-doctor-bundles-');
  const ro = join(work, 'ro');
  await mkdir(ro);
  const zone = uniqueZone('dbn');
  config = localConfig(getStack(), join(work, 'certs'), [
    { id: 'fine', domains: [`a.${zone}`] },
    { id: 'locked-out', domains: [`b.${zone}`], store: { type: 'file', dir: ro } },
  ]);
  await writeFile(join(work, 'certkeeper.yml'), JSON.stringify(config));
  restore = await makeReadOnly(ro);
}, 200_000);
afterAll(async () => {
  await restore?.();
});

describe('Action: command doctor', () => {
  it('sets the checks output, writes the summary failures first with hints, annotates, and fails the step', async () => {
    const run = await runAction(work, { command: 'doctor' });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.outputs.checks ?? '{}') as DoctorReport;
    expect(report.checks.find((c) => c.certificate === 'locked-out' && c.check === 'store')?.status).toBe('fail');
    expect(report.checks.find((c) => c.certificate === 'fine' && c.check === 'store')?.status).toBe('pass');
    expect(run.outputs.results).toBeUndefined();
    expect(run.summary).toContain('<h2>certkeeper doctor</h2>');
    const rows = run.summary.split('<tr>').slice(2);
    expect(rows[0]).toContain('❌ fail');
    expect(rows[0]).toContain('<code>locked-out</code>');
    expect(rows[0]).toContain('<b>Hint:</b>');
    expect(run.stdout).toMatch(/::error title=certkeeper doctor%3A locked-out store::cannot take a lease/);
    expect(run.stdout).toContain('::error::certkeeper doctor: 1 check(s) failed: locked-out store');

    const never = await runAction(work, { command: 'doctor', 'fail-on': 'never', only: 'locked-out' });
    expect(never.code).toBe(0);
    expect(
      (JSON.parse(never.outputs.checks ?? '{}') as DoctorReport).checks.some((c) => c.certificate === 'fine'),
    ).toBe(false);
  });

  it('a config error exits 2 and still reports it as the config check; an unknown command is a usage error', async () => {
    const broken = await tempDir('ck-doctor-broken-');
    await writeFile(
      join(broken, 'certkeeper.yml'),
      JSON.stringify({ ...config, certificates: [{ id: 'x', domains: ['a_b.example.com'] }] }),
    );
    const run = await runAction(broken, { command: 'doctor' });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.outputs.checks ?? '{}').checks[0]).toMatchObject({ check: 'config', status: 'fail' });
    const unknown = await runAction(broken, { command: 'doktor' });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('input command: must be one of run, plan, doctor, report');
  });
});

describe('Lambda: event command doctor', () => {
  it('returns the checks, logs each as JSON, emits DoctorFailures, and does not throw for a failed check', async () => {
    const run = await invokeLambda(schedulerEvent({ command: 'doctor' }), {
      CERTKEEPER_CONFIG: JSON.stringify(config),
    });
    if (!run.outcome.ok) throw new Error(`${run.outcome.name}: ${run.outcome.message}`);
    const report = run.outcome.value as unknown as DoctorReport;
    expect(report.checks.find((c) => c.certificate === 'locked-out' && c.check === 'store')?.status).toBe('fail');
    const nonJson = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
    expect(nonJson).toEqual([]);
    const logged = run.lines.filter((l) => !('_aws' in l) && typeof l.check === 'object');
    expect(logged).toHaveLength(report.checks.length);
    expect(logged.find((l) => l.level === 'ERROR')).toMatchObject({
      certificate: 'locked-out',
      check: { check: 'store' },
    });
    const emf = run.emf.find((l) =>
      (l._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]?.Metrics.some(
        (m) => m.Name === 'DoctorFailures',
      ),
    );
    expect(emf?.DoctorFailures).toBe(report.summary.fail);
    expect(report.summary.fail).toBe(1);

    const bad = await invokeLambda({ command: 'doktor' }, { CERTKEEPER_CONFIG: JSON.stringify(config) });
    expect(bad.outcome).toMatchObject({ ok: false, name: 'InvalidConfigError' });
    expect(!bad.outcome.ok && bad.outcome.message).toContain('event.command: must be "run", "doctor", "report"');
  });
});

describe('workflows-examples/doctor', () => {
  it("validates with GitHub's parser and runs the action's doctor weekly, alerting on failure", async () => {
    const file = join(ROOT, 'workflows-examples/doctor/certkeeper-doctor.yml');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'test/support/validate-workflows.mjs'), file],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    expect(JSON.parse(stdout)[file]).toEqual([]);
    const { default: YAML } = await import('yaml');
    const wf = YAML.parse(await (await import('node:fs/promises')).readFile(file, 'utf8')) as {
      on: { schedule: { cron: string }[] };
      jobs: Record<string, { steps: { uses?: string; with?: Record<string, string>; if?: string; run?: string }[] }>;
    };
    const [minute, , , , weekday] = (wf.on.schedule[0]?.cron ?? '').split(' ');
    expect(Number(minute) % 2).toBe(1);
    expect(weekday).toMatch(/^[0-6]$/);
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    const doctorStep = steps.find((s) => String(s.uses).startsWith('certkeeper/certkeeper@'));
    expect(doctorStep?.with?.command).toBe('doctor');
    expect(steps.some((s) => s.if?.includes('failure()'))).toBe(true);
    for (const s of steps) expect(s.run ?? '').not.toContain('${{');
  });
});
