// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ … }}` are GitHub expressions, not templates
import { execFile, spawn } from 'node:child_process';
import { access, chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { childEnv, getStack } from '../support/stack.js';
import { ACTION_BUNDLE, localConfig, nodeBinary, ROOT, runAction, tempDir, uniqueZone } from './helpers.js';

/**
 * workflows-examples/fleet/: validated with GitHub's own parser (@actions/workflow-parser, in a
 * child process: test/support/validate-workflows.mjs), then its jobs run here as a runner would
 * run them — the plan step's script with the built CLI standing in for `npx certkeeper`, one
 * built action per matrix shard, the artifacts copied as upload/download would, and the report
 * step's script writing the job summary — against the local stack.
 */

const EXAMPLES = join(ROOT, 'workflows-examples');
const WORKFLOW = join(EXAMPLES, 'fleet/certkeeper-fleet.yml');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  if?: string;
  strategy?: { 'fail-fast'?: boolean; 'max-parallel'?: number; matrix: Record<string, unknown> };
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env: Record<string, string | number>;
  jobs: Record<string, Job>;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(entry.name) && entry.name !== 'template.yaml') out.push(path);
  }
  return out.sort();
}

/** Runs a step's `run:` script as the runner does (`bash --noprofile --norc -eo pipefail`). */
async function runScript(script: string, cwd: string, env: Record<string, string>) {
  const file = join(cwd, `.step-${Math.random().toString(36).slice(2)}.sh`);
  await writeFile(file, script);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd,
      env: childEnv(env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function step(job: Job, match: (s: Step) => boolean): Step {
  const found = job.steps.find(match);
  if (!found) throw new Error('step not found');
  return found;
}

describe('workflows-examples/fleet', () => {
  beforeAll(async () => {
    for (const bundle of [ACTION_BUNDLE, join(ROOT, 'dist/cli/index.js')]) {
      await access(bundle).catch(() => {
        throw new Error(`${bundle} is missing: run npm run build`);
      });
    }
    await nodeBinary();
  }, 200_000);

  it("every workflow and action.yml validates with GitHub's parser, which rejects a broken one", async () => {
    const dir = await tempDir('ck-wf-');
    const broken = join(dir, 'broken.yml');
    const fleet = YAML.parse(await readFile(WORKFLOW, 'utf8')) as Workflow;
    (fleet.jobs.renew as Job).needs = 'planning'; // no such job
    (fleet.jobs.renew as Job & { strategy: Record<string, unknown> }).strategy['max-paralel'] = 2;
    await writeFile(broken, YAML.stringify(fleet));
    const files = [...(await yamlFiles(EXAMPLES)), join(ROOT, 'action.yml'), broken];
    expect(files.map((f) => relative(ROOT, f))).toContain('workflows-examples/fleet/certkeeper-fleet.yml');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'test/support/validate-workflows.mjs'), ...files],
      { cwd: ROOT, timeout: 60_000 },
    );
    const errors = JSON.parse(stdout) as Record<string, string[]>;
    for (const f of files.filter((f) => f !== broken)) expect(errors[f], relative(ROOT, f)).toEqual([]);
    expect(errors[broken]?.join('\n')).toMatch(/max-paralel/);
  });

  it('within GitHub limits: guarded empty matrix, fail-fast off, max-parallel, artifacts, no expressions in scripts', async () => {
    const wf = YAML.parse(await readFile(WORKFLOW, 'utf8')) as Workflow;
    const { plan, renew, report } = wf.jobs as Record<string, Job>;
    expect(Number(wf.env.SHARDS)).toBeGreaterThanOrEqual(1);
    expect(Number(wf.env.SHARDS)).toBeLessThanOrEqual(256);
    expect(plan?.outputs?.shards).toBe('${{ steps.plan.outputs.shards }}');
    expect(renew?.if).toContain("needs.plan.outputs.shards != '[]'");
    expect(renew?.strategy?.['fail-fast']).toBe(false);
    expect(renew?.strategy?.['max-parallel']).toBeGreaterThan(0);
    expect(renew?.strategy?.matrix.shard).toBe('${{ fromJSON(needs.plan.outputs.shards) }}');
    expect(step(renew as Job, (s) => String(s.uses).startsWith('certkeeper/certkeeper@')).with?.shard).toBe(
      '${{ matrix.shard }}',
    );
    expect(step(renew as Job, (s) => String(s.uses).startsWith('actions/upload-artifact@')).if).toContain('always()');
    expect(report?.needs).toEqual(['plan', 'renew']);
    expect(report?.if).toContain('always()');
    // Data reaches scripts only through env: an expression inside `run:` would be code injection.
    for (const job of Object.values(wf.jobs)) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });

  it('plan → one action per shard → report: renews the fleet, one summary; a shard without results fails the report', async () => {
    const stack = getStack();
    const wf = YAML.parse(await readFile(WORKFLOW, 'utf8')) as Workflow;
    const { plan, renew, report } = wf.jobs as Record<string, Job>;
    const workspace = await tempDir('ck-wf-run-');
    const ids = Array.from({ length: 6 }, (_, i) => `fleet-${i}`);
    await writeFile(
      join(workspace, 'certkeeper.yml'),
      JSON.stringify(
        localConfig(
          stack,
          join(workspace, '.certkeeper'),
          ids.map((id) => ({ id, domains: [uniqueZone('wf')] })),
        ),
      ),
    );
    // `npx --yes certkeeper@1 …` → the built CLI of this checkout, on Node 24.
    const bin = join(workspace, '.bin');
    await mkdir(bin);
    const node = (await nodeBinary()).path;
    await writeFile(
      join(bin, 'npx'),
      `#!/bin/sh\nwhile [ "$1" = --yes ] || [ "\${1#certkeeper@}" != "$1" ]; do shift; done\nexec "${node}" "${join(ROOT, 'bin/certkeeper.js')}" "$@"\n`,
    );
    await chmod(join(bin, 'npx'), 0o755);
    const PATH = `${bin}:${process.env.PATH}`;
    const wfEnv = Object.fromEntries(Object.entries(wf.env).map(([k, v]) => [k, String(v)]));

    // plan
    const planOutput = join(workspace, '.plan-output');
    await writeFile(planOutput, '');
    const planStep = step(plan as Job, (s) => s.id === 'plan');
    const planned = await runScript(planStep.run as string, workspace, {
      ...wfEnv,
      PATH,
      FORCE: '',
      GITHUB_OUTPUT: planOutput,
    });
    expect(planned.code, planned.stderr).toBe(0);
    // `name=value` lines, as the step writes them.
    const outputsOf = async (file: string) =>
      Object.fromEntries(
        (await readFile(file, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ) as Record<string, string>;
    const shards = JSON.parse((await outputsOf(planOutput)).shards ?? 'null') as string[];
    expect(shards.length).toBeGreaterThan(0);
    expect(shards.every((s) => s.endsWith(`/${wfEnv.SHARDS}`))).toBe(true);
    expect(planned.stdout).toContain(`6 certificate(s), 6 due in ${shards.length} shard(s) of ${wfEnv.SHARDS}`);

    // renew: the matrix, one job per shard, two at a time (max-parallel)
    const renewStep = step(renew as Job, (s) => String(s.uses).startsWith('certkeeper/certkeeper@'));
    const saveStep = step(renew as Job, (s) => s.name === 'Save the results');
    const artifacts = join(workspace, 'results');
    const runJob = async (shard: string, index: number) => {
      // The step's own inputs, its two expressions evaluated as on a scheduled run.
      const run = await runAction(workspace, { ...renewStep.with, shard, force: 'false' });
      expect(run.code, run.stderr).toBe(0);
      const jobDir = await tempDir('ck-wf-job-');
      const saved = await runScript(saveStep.run as string, jobDir, {
        RESULTS: run.outputs.results ?? '',
        SHARD: shard,
      });
      expect(saved.code, saved.stderr).toBe(0);
      // upload-artifact `certkeeper-results-<job-index>` + download-artifact into results/<name>/
      await mkdir(join(artifacts, `certkeeper-results-${index}`), { recursive: true });
      await writeFile(
        join(artifacts, `certkeeper-results-${index}`, 'results.json'),
        await readFile(join(jobDir, 'results.json')),
      );
      return JSON.parse(run.outputs.results ?? '{}') as { results: { id: string; status: string }[] };
    };
    const outputs = [];
    for (let i = 0; i < shards.length; i += 2) {
      outputs.push(...(await Promise.all(shards.slice(i, i + 2).map((s, k) => runJob(s, i + k)))));
    }
    const all = outputs.flatMap((o) => o.results);
    expect(all.map((r) => r.id).sort()).toEqual(ids);
    expect(all.every((r) => r.status === 'renewed')).toBe(true);

    // report
    const reportStep = step(report as Job, (s) => Boolean(s.run));
    const summaryFile = join(workspace, '.summary');
    await writeFile(summaryFile, '');
    const reported = await runScript(reportStep.run as string, workspace, {
      SHARDS_PLANNED: JSON.stringify(shards),
      GITHUB_STEP_SUMMARY: summaryFile,
    });
    expect(reported.code, reported.stderr).toBe(0);
    const summary = await readFile(summaryFile, 'utf8');
    expect(summary).toContain(`6 certificate(s) in ${shards.length} of ${shards.length} shard(s): 6 renewed.`);
    for (const id of ids) expect(summary).toContain(`| renewed | \`${id}\` |`);
    expect(summary).not.toContain('PRIVATE KEY');
    if (process.env.CERTKEEPER_SHOW_SUMMARY) console.log(summary);

    // A renew job that died before saving results: the report says which shard, and fails.
    await rm(join(artifacts, 'certkeeper-results-0'), { recursive: true });
    await writeFile(summaryFile, '');
    const partial = await runScript(reportStep.run as string, workspace, {
      SHARDS_PLANNED: JSON.stringify(shards),
      GITHUB_STEP_SUMMARY: summaryFile,
    });
    expect(partial.code).toBe(1);
    expect(await readFile(summaryFile, 'utf8')).toContain(`**No results from shard(s) ${shards[0]}:**`);

    // The next scheduled run: nothing due, an empty matrix, so no renew jobs run.
    await writeFile(planOutput, '');
    const quiet = await runScript(planStep.run as string, workspace, {
      ...wfEnv,
      PATH,
      FORCE: '',
      GITHUB_OUTPUT: planOutput,
    });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(await outputsOf(planOutput)).toEqual({ shards: '[]' });
  });
});
