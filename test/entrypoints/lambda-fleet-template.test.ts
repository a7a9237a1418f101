import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lambdaEntry from '../../src/entrypoints/lambda/index.js';
import { parseTemplate } from '../support/cfn.js';
import { ROOT } from './helpers.js';

/**
 * workflows-examples/lambda-fleet/: the template's wiring, retries and roles. cfn-lint on the
 * template and on its state machine definition runs with every other template's, in one process
 * (sam-templates.test.ts).
 */

const DIR = join(ROOT, 'workflows-examples/lambda-fleet');
type Node = Record<string, unknown>;
const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function* walk(node: unknown): Generator<unknown> {
  yield node;
  if (Array.isArray(node)) for (const v of node) yield* walk(v);
  else if (isObject(node)) for (const v of Object.values(node)) yield* walk(v);
}

async function load() {
  const template = parseTemplate(await readFile(join(DIR, 'template.yaml'), 'utf8'));
  const aslText = await readFile(join(DIR, 'statemachine.asl.json'), 'utf8');
  return { template, resources: template.Resources as Record<string, { Type: string; Properties: Node }>, aslText };
}

describe('workflows-examples/lambda-fleet', () => {
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
