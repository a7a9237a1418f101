import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { cfnLint, standaloneStateMachine, substitutedFleetDefinition } from '../support/cfn.js';
import { nodeBinary, ROOT, tempDir } from './helpers.js';

/**
 * The SAM templates under workflows-examples/ pass cfn-lint (AWS's own CloudFormation linter, which
 * knows SAM and every resource's properties), and the CloudWatch dashboard graphs the metrics the
 * Lambda really emits (src/entrypoints/lambda/metrics.ts), under the dimensions it emits them with.
 */

const EXAMPLES = join(ROOT, 'workflows-examples');

async function templates(dir = EXAMPLES): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await templates(path)));
    else if (e.name === 'template.yaml' || e.name === 'template.yml') out.push(path);
  }
  return out.sort();
}

describe('SAM templates', () => {
  it('pass cfn-lint, with the fleet state machine definition; a broken definition fails', async () => {
    const files = await templates();
    expect(files.length).toBeGreaterThan(0);
    expect(files).toContain(join(EXAMPLES, 'lambda-fleet', 'template.yaml'));
    // The fleet's ASL inlined (cfn-lint cannot follow DefinitionUri), and a broken copy that proves
    // the definition is really checked: a state with both End and Next.
    const aslText = await readFile(join(EXAMPLES, 'lambda-fleet', 'statemachine.asl.json'), 'utf8');
    const dir = await tempDir('ck-cfnlint-');
    const good = join(dir, 'definition.json');
    const broken = join(dir, 'broken.json');
    await writeFile(good, standaloneStateMachine(substitutedFleetDefinition(aslText)));
    const bad = substitutedFleetDefinition(aslText);
    const map = (bad.States as Record<string, { ItemProcessor: { States: Record<string, Record<string, unknown>> } }>)[
      'Renew batches'
    ];
    (map?.ItemProcessor.States.Renew as Record<string, unknown>).Next = 'Nowhere';
    await writeFile(broken, standaloneStateMachine(bad));

    const lint = await cfnLint([...files, good, broken]);
    const lines = lint.out.split('\n').filter(Boolean);
    expect(
      lines.filter((l) => !l.startsWith(broken)),
      files.map((f) => relative(ROOT, f)).join(', '),
    ).toEqual([]);
    expect(lines.filter((l) => l.startsWith(broken)).join('\n')).toMatch(/E3601/);
    expect(lint.code).not.toBe(0);
  }, 120_000);

  it("both Lambda templates bound V8's young generation with a NODE_OPTIONS that Node 24 accepts", async () => {
    const options = new Set<string>();
    for (const file of await templates()) {
      const text = await readFile(file, 'utf8');
      const found = [...text.matchAll(/^\s+NODE_OPTIONS:\s*(\S.*?)\s*$/gm)].map((m) => m[1] as string);
      expect(found, relative(ROOT, file)).toHaveLength(1);
      options.add(found[0] as string);
    }
    expect([...options]).toEqual([expect.stringMatching(/^--max-semi-space-size=\d+$/)]);
    // Node refuses (exit 9) an option it does not know or does not allow in NODE_OPTIONS, as
    // Lambda's runtime would at every cold start; this one it takes.
    const { path } = await nodeBinary();
    const { stdout, stderr } = await promisify(execFile)(path, ['-p', 'process.env.NODE_OPTIONS'], {
      env: { NODE_OPTIONS: [...options][0] as string },
    });
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe([...options][0]);
  });

  it('the Lambda template has a dashboard of the metrics the Lambda emits', async () => {
    const text = await readFile(join(EXAMPLES, 'lambda', 'template.yaml'), 'utf8');
    const tags: YAML.Tags = ['Sub', 'Ref', 'GetAtt', 'Join', 'Split', 'If', 'Equals', 'Not', 'Select'].map((name) => ({
      tag: `!${name}`,
      resolve: (value: unknown) => ({ [`Fn::${name}`]: value }),
    }));
    const collections: YAML.Tags = ['Join', 'Split', 'If', 'Equals', 'Not', 'Select'].map((name) => ({
      tag: `!${name}`,
      collection: 'seq',
      resolve: (value: unknown) => ({ [`Fn::${name}`]: value }),
    }));
    const template = YAML.parse(text, { customTags: [...tags, ...collections] }) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const dashboard = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    if (!dashboard) throw new Error('no AWS::CloudWatch::Dashboard in the Lambda template');
    const sub = (dashboard.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    // What CloudFormation substitutes: every ${…} names a pseudo parameter or a resource attribute.
    const refs = [...sub.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] as string);
    for (const ref of refs) {
      const [resource] = ref.split('.');
      expect(ref.startsWith('AWS::') || (resource as string) in template.Resources, ref).toBe(true);
    }
    const body = JSON.parse(sub.replace(/\$\{[^}]+\}/g, 'X')) as {
      widgets: { type: string; properties: { metrics?: unknown[][]; title?: string } }[];
    };
    const metricText = JSON.stringify(body.widgets.map((w) => w.properties.metrics ?? []));

    const emitted = await readFile(join(ROOT, 'src', 'entrypoints', 'lambda', 'metrics.ts'), 'utf8');
    for (const name of ['DaysLeft', 'RenewalSucceeded', 'RenewalFailed']) {
      expect(emitted).toContain(`'${name}'`);
      expect(metricText).toContain(name);
    }
    expect(metricText).toContain('RenewalDeferred');
    for (const dim of ['certificate', 'errorClass']) {
      expect(emitted).toContain(`addDimension('${dim}'`);
      expect(metricText).toContain(`{certkeeper,${dim},service}`);
    }
    expect(body.widgets.map((w) => w.properties.title)).toEqual(
      expect.arrayContaining(['Days left per certificate', 'Failures by error class', 'Renewals']),
    );
  });
});
