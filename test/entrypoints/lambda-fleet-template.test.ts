import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as lambdaEntry from '../../src/entrypoints/lambda/index.js';
import { parseTemplate } from '../support/cfn.js';
import { ROOT, tempDir } from './helpers.js';

/**
 * workflows-examples/lambda-fleet/: cfn-lint on the SAM template (it runs the SAM transform), and
 * on the ASL inlined into a plain AWS::StepFunctions::StateMachine, where cfn-lint checks the
 * definition against the States Language schema (it cannot follow DefinitionUri). A broken copy
 * proves that second check really looks.
 */

const DIR = join(ROOT, 'workflows-examples/lambda-fleet');
type Node = Record<string, unknown>;
const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function* walk(node: unknown): Generator<unknown> {
  yield node;
  if (Array.isArray(node)) for (const v of node) yield* walk(v);
  else if (isObject(node)) for (const v of Object.values(node)) yield* walk(v);
}

async function cfnLint(files: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)('cfn-lint', ['--format', 'parseable', '--', ...files], {
      timeout: 60_000,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error; // not installed, or killed
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function load() {
  const template = parseTemplate(await readFile(join(DIR, 'template.yaml'), 'utf8'));
  const aslText = await readFile(join(DIR, 'statemachine.asl.json'), 'utf8');
  return { template, resources: template.Resources as Record<string, { Type: string; Properties: Node }>, aslText };
}

/** The ASL with DefinitionSubstitutions filled in as CloudFormation would (ARNs of the right shape). */
function substituted(aslText: string): Node {
  const values: Record<string, string> = {
    PlanFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-PlanFunction-a1',
    RenewFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-RenewFunction-b2',
    ReportFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleet-ReportFunction-c3',
    MaxConcurrency: '4',
  };
  return JSON.parse(aslText.replace(/\$\{(\w+)\}/g, (m, k: string) => values[k] ?? m)) as Node;
}

function standalone(definition: Node): string {
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Fleet: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          RoleArn: 'arn:aws:iam::123456789012:role/fleet',
          StateMachineType: 'STANDARD',
          Definition: definition,
        },
      },
    },
  });
}

describe('workflows-examples/lambda-fleet', () => {
  it('cfn-lint passes the SAM template and the state machine definition, and fails a broken definition', async () => {
    const { aslText } = await load();
    const dir = await tempDir('ck-cfnlint-');
    const good = join(dir, 'definition.json');
    const broken = join(dir, 'broken.json');
    await writeFile(good, standalone(substituted(aslText)));
    const bad = substituted(aslText);
    const renew = ((((bad.States as Node)['Renew batches'] as Node).ItemProcessor as Node).States as Node)
      .Renew as Node;
    renew.Next = 'Nowhere'; // End and Next together
    await writeFile(broken, standalone(bad));

    // One cfn-lint process for all three (its start-up is most of its time); parseable lines start with the file.
    const lint = await cfnLint([join(DIR, 'template.yaml'), good, broken]);
    const lines = lint.out.split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith(broken))).toEqual([]);
    expect(lines.filter((l) => l.startsWith(broken)).join('\n')).toMatch(/E3601/);
    expect(lint.code).not.toBe(0);
  });

  it('wires plan → Distributed Map of renew → report, with retries, a parameter for MaxConcurrency and least privilege', async () => {
    const { template, resources, aslText } = await load();
    const machine = resources.FleetStateMachine as { Type: string; Properties: Node };
    expect(machine.Type).toBe('AWS::Serverless::StateMachine');
    expect(machine.Properties.Type).toBe('STANDARD');
    expect(machine.Properties.DefinitionUri).toBe('statemachine.asl.json');

    // Every placeholder of the ASL is substituted, and nothing else is.
    const placeholders = new Set([...aslText.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect(new Set(Object.keys(machine.Properties.DefinitionSubstitutions as Node))).toEqual(placeholders);
    const params = template.Parameters as Record<string, Node>;
    expect(params.MaxConcurrency).toMatchObject({ Type: 'Number', Default: 4 });
    expect((machine.Properties.DefinitionSubstitutions as Node).MaxConcurrency).toEqual({ Ref: 'MaxConcurrency' });

    // The functions are the bundle's fleet exports.
    const handlers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Serverless::Function')
      .map((r) => String(r.Properties.Handler));
    expect(handlers.sort()).toEqual(['index.plan', 'index.renew', 'index.report']);
    for (const h of handlers) expect(typeof (lambdaEntry as Record<string, unknown>)[h.slice(6)]).toBe('function');
    expect(resources.RenewFunction?.Properties.Timeout).toBe(900);

    const asl = JSON.parse(aslText) as { StartAt: string; States: Record<string, Node> };
    expect(asl.StartAt).toBe('Plan');
    expect(asl.States.Plan?.Next).toBe('Renew batches');
    const map = asl.States['Renew batches'] as Node;
    expect(map.Type).toBe('Map');
    expect(map.ItemsPath).toBe('$.plan.batches');
    expect(((map.ItemProcessor as Node).ProcessorConfig as Node).Mode).toBe('DISTRIBUTED');
    expect(map.Next).toBe('Report');
    expect(asl.States.Report?.End).toBe(true);
    // Lambda throttling, service errors and timeouts are retried with backoff on every Lambda task.
    const tasks = [...walk(asl)].filter((n): n is Node => isObject(n) && n.Type === 'Task');
    expect(tasks).toHaveLength(3);
    for (const task of tasks) {
      expect(task.Resource).toBe('arn:aws:states:::lambda:invoke');
      const retried = (task.Retry as Node[]).flatMap((r) => r.ErrorEquals as string[]);
      for (const e of ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'States.Timeout'])
        expect(retried).toContain(e);
      for (const r of task.Retry as Node[]) expect(r.BackoffRate).toBeGreaterThan(1);
      expect(task.TimeoutSeconds).toBeGreaterThan(0);
    }

    // The state machine's role: invoke the three functions, and run its own child executions.
    type Role = { Policies: { PolicyDocument: { Statement: Node[] } }[] };
    const policies = (name: string) => (resources[name]?.Properties as unknown as Role | undefined)?.Policies ?? [];
    const role = { Policies: policies('StateMachineRole') };
    const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      'lambda:InvokeFunction',
      'states:DescribeExecution',
      'states:StartExecution',
      'states:StopExecution',
    ]);
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke?.Resource).toEqual(
      ['PlanFunction', 'RenewFunction', 'ReportFunction'].map((f) => ({ 'Fn::GetAtt': [f, 'Arn'] })),
    );
    // Plan and report cannot write anything but logs.
    for (const name of ['PlanRole', 'ReportRole']) {
      const doc = policies(name).flatMap((p) => p.PolicyDocument.Statement);
      const written = doc
        .flatMap((s) => [s.Action].flat())
        .filter((a) => !/^(logs:|ssm:GetParameter$|secretsmanager:GetSecretValue$)/.test(String(a)));
      expect(written, name).toEqual([]);
    }
    // No Allow of a wildcard action anywhere.
    for (const node of walk(template)) {
      if (isObject(node) && node.Effect === 'Allow') {
        for (const action of [node.Action].flat()) expect(String(action)).not.toMatch(/(^\*$|:\*$)/);
      }
    }
    // The alarm watches failed executions of this state machine.
    const alarm = resources.ExecutionsFailedAlarm?.Properties as Node;
    expect(alarm).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed' });
    expect(JSON.stringify(alarm.Dimensions)).toContain('FleetStateMachine');
  });
});
