import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../../src/devstack/moto.js';
import { plan, renew, report } from '../../src/entrypoints/lambda/fleet.js';
import type { LambdaContext } from '../../src/entrypoints/lambda/main.js';
import { localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

/**
 * workflows-examples/lambda-fleet/statemachine.asl.json executed by moto's Step Functions
 * interpreter. moto's Lambda (no Docker) runs no code: it answers invocations from a FIFO, which
 * this test fills with the REAL outputs of the fleet handlers, run first against the local stack
 * (Pebble + challtestsrv + file store). What this proves: the paths (Payload in and out, ItemsPath,
 * ResultPath, the report's input), the Map's wiring and the definition's validity; not AWS's
 * retries or timing. Its own moto: executions keep threads that break later calls on a shared one.
 */

const ASL = join(import.meta.dirname, '../../workflows-examples/lambda-fleet/statemachine.asl.json');
const ROLE = 'arn:aws:iam::123456789012:role/certkeeper-fleet';

function context(id: string): LambdaContext {
  const deadline = Date.now() + 900_000;
  return { awsRequestId: id, functionName: 'certkeeper', getRemainingTimeInMillis: () => deadline - Date.now() };
}

interface FleetMachine {
  /** The next invocations of any function in the account answer these payloads, in order. */
  queueLambdaResults(results: unknown[]): Promise<void>;
  /** Runs one execution to its end; returns its parsed output. */
  execute(input: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The three functions and the state machine as the template deploys it, in one region of `moto`.
 * One execution per region: after an execution, moto answers later StartExecution calls in that
 * region with an HTML 500 (StartExecution deep-copies state that holds the interpreter's locks);
 * another region is a backend of its own.
 */
async function fleetMachine(moto: Moto, region: string): Promise<FleetMachine> {
  const aws = { endpoint: moto.endpoint, region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const sfn = new SFNClient(aws);
  const lambda = new LambdaClient(aws);
  const stop = async () => {
    sfn.destroy();
    lambda.destroy();
  };
  try {
    const substitutions: Record<string, string> = { MaxConcurrency: '4' };
    for (const name of ['plan', 'renew', 'report']) {
      const out = await lambda.send(
        new CreateFunctionCommand({
          FunctionName: `certkeeper-${name}`,
          Runtime: 'nodejs24.x',
          Role: ROLE,
          Handler: `index.${name}`,
          // An empty zip: moto's Lambda without Docker never runs code.
          Code: { ZipFile: new Uint8Array(Buffer.from('PK\x05\x06'.padEnd(22, '\0'), 'binary')) },
        }),
      );
      substitutions[`${name[0]?.toUpperCase()}${name.slice(1)}FunctionArn`] = out.FunctionArn as string;
    }
    // CloudFormation's DefinitionSubstitutions: every placeholder replaced as text.
    const definition = (await readFile(ASL, 'utf8')).replace(
      /\$\{(\w+)\}/g,
      (m, key: string) => substitutions[key] ?? m,
    );
    expect(definition).not.toMatch(/\$\{/);
    const machine = await sfn.send(
      new CreateStateMachineCommand({ name: 'certkeeper-fleet', definition, roleArn: ROLE, type: 'STANDARD' }),
    );
    return {
      queueLambdaResults: (results) =>
        motoApi(moto, '/moto-api/static/lambda-simple/response', {
          results: results.map((r) => JSON.stringify(r)),
          region,
        }),
      async execute(input) {
        const started = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: machine.stateMachineArn,
            name: 'scheduled',
            input: JSON.stringify(input),
          }),
        );
        for (let i = 0; i < 300; i++) {
          const out = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
          if (out.status === 'RUNNING') {
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          expect(out.status, out.error ? `${out.error}: ${out.cause}` : '').toBe('SUCCEEDED');
          return JSON.parse(out.output as string);
        }
        throw new Error('the execution was still running after 30 s');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function motoApi(moto: Moto, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${moto.endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

let moto: Moto | undefined;
let machines: FleetMachine[] = [];

beforeAll(async () => {
  moto = await startMoto();
  await motoApi(moto, '/moto-api/config', {
    stepfunctions: { execute_state_machine: true },
    lambda: { use_docker: false },
  });
  const iam = new IAMClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'certkeeper-fleet',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
  } finally {
    iam.destroy();
  }
  const started = await Promise.allSettled([fleetMachine(moto, 'us-east-1'), fleetMachine(moto, 'us-west-2')]);
  machines = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}, 60_000);

afterAll(async () => {
  await Promise.all(machines.map((m) => m.stop()));
  await moto?.stop();
});

describe('the fleet state machine in moto', () => {
  it('plan → Distributed Map of renew → report runs to SUCCEEDED with the handlers’ real outputs', async () => {
    // 1. The handlers for real: 5 due certificates, batches of 2, an order budget of 4 left.
    const stack = getStack();
    const dir = await tempDir('ck-sfn-');
    const raw = {
      ...localConfig(
        stack,
        dir,
        ['s-a', 's-b', 's-c', 's-d', 's-e'].map((id) => ({ id, domains: [uniqueZone('sfn')] })),
      ),
      concurrency: 2,
      fleet: { batchSize: 2 },
    };
    Object.assign((raw as unknown as { acme: Record<string, unknown> }).acme, {
      orderBudget: { orders: 4, per: '3h' },
    });
    const env = { CERTKEEPER_CONFIG: JSON.stringify(raw) };
    const before = Date.now();
    const planned = await plan({}, context('plan'), { env });
    expect(planned.batches.map((b) => b.ids.length)).toEqual([2, 2]);
    expect(planned.deferred.map((r) => r.status)).toEqual(['deferred']);
    // A dry run reserves nothing: the orders the plan leaves to the batches free up 3 h from now.
    const until = Date.parse(/used up until (\S+)$/.exec(planned.deferred[0]?.reason ?? '')?.[1] ?? '');
    expect(planned.deferred[0]?.reason).toMatch(/order budget of 4 per 3h used up until /);
    expect(until).toBeGreaterThanOrEqual(before + 3 * 3_600_000);
    const renewed = await Promise.all(planned.batches.map((b, i) => renew(b, context(`renew-${i}`), { env })));
    expect(renewed.flatMap((b) => b.results.map((r) => r.status))).toEqual([
      'renewed',
      'renewed',
      'renewed',
      'renewed',
    ]);
    // What the state machine hands report: the plan with its batches replaced by the Map's results.
    const reportInput = { ...planned, batches: renewed };
    const reported = await report(reportInput, context('report'));
    expect(reported.summary).toMatchObject({ renewed: 4, deferred: 1, failed: 0 });

    // 2. Nothing queued for report: moto's Lambda then answers with the payload it was given, so
    // the execution's output is exactly what report receives: the plan, batches replaced by the
    // Map's results (which iteration got which queued answer is up to moto's threads).
    const [echo, whole] = machines as [FleetMachine, FleetMachine];
    await echo.queueLambdaResults([planned, ...renewed]);
    const received = (await echo.execute({})) as typeof reportInput;
    const byFirstId = (b: { results: { id: string }[] }) => b.results[0]?.id ?? '';
    received.batches.sort((a, b) => byFirstId(a).localeCompare(byFirstId(b)));
    expect(received).toEqual(JSON.parse(JSON.stringify(reportInput)));
    // And report's answer to exactly that input is the one computed above.
    expect(JSON.parse(JSON.stringify(await report(received, context('report-2'))))).toEqual(
      JSON.parse(JSON.stringify(reported)),
    );

    // 3. The whole execution: plan's output, a renew output per Map item, then report's.
    await whole.queueLambdaResults([planned, ...renewed, reported]);
    expect(await whole.execute({})).toEqual(JSON.parse(JSON.stringify(reported)));
  });
});
