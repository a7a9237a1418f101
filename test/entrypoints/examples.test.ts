import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { readInputs, shortcutConfig } from '../../src/entrypoints/action/inputs.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { parseTemplate } from '../support/cfn.js';
import { ROOT } from './helpers.js';

/** Static checks of workflows-examples/ and action.yml: they parse, and they fit together. */

const EXAMPLES = join(ROOT, 'workflows-examples');

type Node = Record<string, unknown>;
const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ActionYml {
  inputs: Record<string, { description: string; default?: unknown; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
  branding?: { icon: string; color: string };
}

async function actionYml(): Promise<ActionYml> {
  return YAML.parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** Every value under `node`, depth first. */
function* walk(node: unknown): Generator<unknown> {
  yield node;
  if (Array.isArray(node)) for (const v of node) yield* walk(v);
  else if (isObject(node)) for (const v of Object.values(node)) yield* walk(v);
}

/** Steps that use the certkeeper action: the published one or this repository's own. */
function certkeeperSteps(workflow: Node): { job: string; step: Node }[] {
  const out: { job: string; step: Node }[] = [];
  for (const [jobName, job] of Object.entries((workflow.jobs as Node) ?? {})) {
    for (const step of ((job as Node).steps as Node[] | undefined) ?? []) {
      const uses = String(step.uses ?? '');
      if (/^certkeeper\/certkeeper@/.test(uses) || uses === './') out.push({ job: jobName, step });
    }
  }
  return out;
}

describe('action.yml', () => {
  it('declares the inputs and outputs of PRODUCT §4 and runs the committed bundle on node24', async () => {
    const action = await actionYml();
    expect(Object.keys(action.inputs).sort()).toEqual(
      [
        'command',
        'config',
        'dry-run',
        'force',
        'only',
        'shard',
        'fail-on',
        'id',
        'domains',
        'email',
        'acme-directory',
        'dns-provider',
        'hosted-zone-id',
        'secret-id',
        'renew-before',
        'key-type',
      ].sort(),
    );
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description, name).toBeTruthy();
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
    expect(action.inputs.config?.default).toBe('certkeeper.yml');
    expect(action.inputs['fail-on']?.default).toBe('error');
    expect(Object.keys(action.outputs).sort()).toEqual([
      'checks',
      'deferred',
      'failed',
      'next-check',
      'renewed',
      'results',
    ]);
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/action/index.js' });
    expect(action.branding?.icon).toBeTruthy();
  });
});

describe('workflows-examples', () => {
  it('every YAML file parses; each folder has a README', async () => {
    const files = await yamlFiles(EXAMPLES);
    expect(files.map((f) => relative(EXAMPLES, f))).toEqual(
      expect.arrayContaining([
        'scheduled/certkeeper.yml',
        'reusable/certkeeper.yml',
        'reusable/caller.yml',
        'lambda/template.yaml',
        'lambda-fleet/template.yaml',
        'fleet/certkeeper-fleet.yml',
      ]),
    );
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const doc = file.endsWith('template.yaml') ? parseTemplate(text) : YAML.parse(text);
      expect(isObject(doc), file).toBe(true);
    }
    for (const dir of [
      'scheduled',
      'reusable',
      'lambda',
      'lambda-fleet',
      'fleet',
      'cloudflare',
      'google-cloud',
      'azure',
    ]) {
      expect((await readFile(join(EXAMPLES, dir, 'README.md'), 'utf8')).length).toBeGreaterThan(200);
    }
  });

  it("every one-certificate step is a valid config with the environment it sets (the provider's credentials from env)", async () => {
    let checked = 0;
    for (const file of await yamlFiles(EXAMPLES)) {
      if (file.endsWith('template.yaml')) continue;
      const workflow = YAML.parse(await readFile(file, 'utf8')) as Node;
      for (const { step } of certkeeperSteps(workflow)) {
        const given = (step.with as Record<string, string>) ?? {};
        if (!given.domains) continue;
        checked++;
        // The step's env, with each `${{ … }}` standing for a value of the shape the runner would give.
        const standIn: Record<string, string> = { AZURE_SUBSCRIPTION_ID: '0b4c4f3e-59b0-4b8a-9a3e-6c5c1e2d3f40' };
        const env = Object.fromEntries(
          Object.entries((step.env as Record<string, string>) ?? {}).map(([k, v]) => [
            k,
            String(v).includes('${{') ? (standIn[k] ?? `value-of-${k}`) : String(v),
          ]),
        );
        const shortcut = readInputs((name) => String(given[name] ?? '')).shortcut;
        expect(
          () => parseConfig(shortcutConfig(shortcut), { env, entry: 'github-action' }),
          relative(EXAMPLES, file),
        ).not.toThrow();
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('every input given to the certkeeper action exists in action.yml', async () => {
    const inputs = new Set(Object.keys((await actionYml()).inputs));
    let steps = 0;
    for (const file of await yamlFiles(EXAMPLES)) {
      if (file.endsWith('template.yaml')) continue;
      const workflow = YAML.parse(await readFile(file, 'utf8')) as Node;
      for (const { job, step } of certkeeperSteps(workflow)) {
        steps++;
        for (const name of Object.keys((step.with as Node) ?? {})) {
          expect(inputs.has(name), `${relative(EXAMPLES, file)} jobs.${job}: unknown input "${name}"`).toBe(true);
        }
      }
    }
    expect(steps).toBeGreaterThanOrEqual(2);
  });

  it('the scheduled workflow: twice a day at an odd minute, OIDC, a concurrency group', async () => {
    const wf = YAML.parse(await readFile(join(EXAMPLES, 'scheduled/certkeeper.yml'), 'utf8')) as Node;
    const on = wf.on as { schedule: { cron: string }[] };
    const [minute, hours] = (on.schedule[0]?.cron ?? '').split(' ');
    expect(Number(minute) % 2).toBe(1);
    expect(hours?.split(',')).toHaveLength(2);
    expect((wf.permissions as Node)['id-token']).toBe('write');
    expect((wf.concurrency as Node).group).toBeTruthy();
    const steps = ((wf.jobs as Node).renew as { steps: Node[] }).steps;
    const aws = steps.findIndex((s) => String(s.uses).startsWith('aws-actions/configure-aws-credentials@'));
    const ck = steps.findIndex((s) => String(s.uses).startsWith('certkeeper/certkeeper@'));
    expect(aws).toBeGreaterThan(-1);
    expect(aws).toBeLessThan(ck);
  });

  it('the reusable workflow: workflow_call, and the caller passes only inputs and secrets it declares', async () => {
    const reusable = YAML.parse(await readFile(join(EXAMPLES, 'reusable/certkeeper.yml'), 'utf8')) as Node;
    const call = (reusable.on as Node).workflow_call as { inputs: Node; secrets: Node; outputs: Node };
    const caller = YAML.parse(await readFile(join(EXAMPLES, 'reusable/caller.yml'), 'utf8')) as Node;
    const job = (caller.jobs as Node).certkeeper as { uses: string; with: Node; secrets: Node; permissions: Node };
    expect(job.uses).toMatch(/\/\.github\/workflows\/certkeeper\.yml@/);
    for (const name of Object.keys(job.with)) expect(Object.keys(call.inputs)).toContain(name);
    for (const name of Object.keys(job.secrets)) expect(Object.keys(call.secrets)).toContain(name);
    for (const [name, input] of Object.entries(call.inputs as Record<string, Node>)) {
      if (input.required) expect(Object.keys(job.with), `required input ${name}`).toContain(name);
    }
    expect(job.permissions['id-token']).toBe('write');
    for (const output of Object.values(call.outputs as Record<string, { value: string }>)) {
      expect(output.value).toMatch(/^\$\{\{ jobs\.renew\.outputs\.[a-z-]+ \}\}$/);
    }
  });

  it('the SAM template: nodejs24.x, a scheduled invocation with retries and DLQ, an alarm on RenewalFailed; every reference resolves', async () => {
    const template = parseTemplate(await readFile(join(EXAMPLES, 'lambda/template.yaml'), 'utf8'));
    const resources = template.Resources as Record<string, { Type: string; Properties: Node; Condition?: string }>;
    const parameters = template.Parameters as Node;
    const conditions = template.Conditions as Node;

    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Serverless::Function');
    if (!fn) throw new Error('no AWS::Serverless::Function');
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.CodeUri).toBe('../../dist/lambda/');
    const vars = (fn.Properties.Environment as { Variables: Node }).Variables;
    expect(Object.keys(vars).filter((k) => k.startsWith('CERTKEEPER_CONFIG'))).toHaveLength(1);

    const schedule = Object.values(resources).find((r) => r.Type === 'AWS::Scheduler::Schedule');
    const target = schedule?.Properties.Target as Node;
    expect((target.RetryPolicy as Node).MaximumRetryAttempts).toBeGreaterThan(0);
    expect(target.DeadLetterConfig).toBeDefined();
    expect(JSON.parse(String(target.Input))).toEqual({ dryRun: false });

    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(
      alarms.some((a) => a.Properties.MetricName === 'RenewalFailed' && a.Properties.Namespace === 'certkeeper'),
    ).toBe(true);

    // No Allow of a wildcard action anywhere.
    for (const node of walk(template)) {
      if (isObject(node) && node.Effect === 'Allow') {
        for (const action of [node.Action].flat()) expect(String(action)).not.toMatch(/(^\*$|:\*$)/);
      }
    }

    const known = new Set([...Object.keys(resources), ...Object.keys(parameters)]);
    for (const node of walk(template)) {
      if (!isObject(node)) continue;
      if (typeof node.Ref === 'string' && !node.Ref.startsWith('AWS::'))
        expect(known, `!Ref ${node.Ref}`).toContain(node.Ref);
      if (Array.isArray(node['Fn::GetAtt'])) expect(Object.keys(resources)).toContain(node['Fn::GetAtt'][0]);
      if (Array.isArray(node['Fn::If'])) expect(Object.keys(conditions)).toContain(node['Fn::If'][0]);
      if (typeof node['Fn::Sub'] === 'string') {
        for (const m of node['Fn::Sub'].matchAll(/\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}/g)) {
          const name = m[1] as string;
          if (!name.startsWith('AWS::')) expect(known, `\${${name}} in !Sub`).toContain(name);
        }
      }
    }
    for (const r of Object.values(resources)) if (r.Condition) expect(Object.keys(conditions)).toContain(r.Condition);
  });
});
