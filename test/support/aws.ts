import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, inject } from 'vitest';
import { type AwsCall, type AwsClientFactory, createAwsClientFactory } from '../../src/adapters/aws/clients.js';
import type { Moto } from '../../src/devstack/moto.js';
import { evaluate, type IamRequest, type Policy, requestsFor } from './iam.js';

export interface MotoHandle {
  moto: Pick<Moto, 'endpoint' | 'env'>;
  /** Every AWS call the adapters made through `clients` in this file. */
  calls: AwsCall[];
  /** A factory whose clients record their calls into `calls`. */
  clients: AwsClientFactory;
}

/**
 * This test worker's own moto (the global setup starts one per worker), reset for each file that
 * uses it: a worker runs its files one after another, so no other file shares its state
 * meanwhile. Starting moto costs about a second of CPU; once per file that was a tenth of the suite.
 */
async function freshMoto(): Promise<Pick<Moto, 'endpoint' | 'env'>> {
  const pool = inject('motoPool');
  const moto = pool[(Number(process.env.VITEST_POOL_ID ?? '1') - 1) % pool.length];
  if (!moto) throw new Error('the global setup started no moto for the workers');
  const reset = await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`moto reset answered HTTP ${reset.status}`);
  return moto;
}

/**
 * A moto with this file's state only (so zone discovery sees only this file's zones), with the SDK
 * pointed at it the standard way: AWS_ENDPOINT_URL and dummy credentials in the environment.
 * When the file ends, every operation the recorded calls need must be granted by the generated
 * example policy (workflows-examples/iam-policy.json); that calls are allowed on exactly the
 * resources of a config is proven with full IAM evaluation in test/adapters/aws/iam-policy.test.ts.
 */
export function useMoto(options: { checkPolicy?: boolean } = {}): MotoHandle {
  const handle = { calls: [] as AwsCall[] } as MotoHandle;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    handle.moto = await freshMoto();
    for (const [k, v] of Object.entries(handle.moto.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    handle.clients = createAwsClientFactory({ onCall: (c) => handle.calls.push(c) });
  }, 60_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (options.checkPolicy !== false) assertActionsGranted(handle.calls);
  });
  return handle;
}

export function loadPolicy(): Policy {
  return JSON.parse(
    readFileSync(new URL('../../workflows-examples/iam-policy.json', import.meta.url), 'utf8'),
  ) as Policy;
}

/** Throws naming every call the example policy would deny. */
export function assertAllowedByPolicy(calls: AwsCall[], policy: Policy = loadPolicy()): IamRequest[] {
  const requests = calls.flatMap((c) => requestsFor(c));
  const denied = requests.filter((r) => evaluate(policy, r) !== 'allow');
  if (denied.length > 0) {
    throw new Error(
      `workflows-examples/iam-policy.json denies:\n${denied
        .map((d) => `  ${d.action} on ${d.resource} ${JSON.stringify(d.context)}`)
        .join('\n')}`,
    );
  }
  return requests;
}

/**
 * Throws naming every operation no Allow of the policy grants, whatever the resource: the suite's
 * calls touch test resources (their own zones, secrets), the example policy names the example's.
 */
export function assertActionsGranted(calls: AwsCall[], policy: Policy = loadPolicy()): string[] {
  const actions = [...new Set(calls.flatMap((c) => requestsFor(c)).map((r) => r.action))].sort();
  const granted = new Set(
    policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    ),
  );
  const missing = actions.filter((a) => !granted.has(a));
  if (missing.length > 0) {
    throw new Error(
      `the generated IAM policy (workflows-examples/iam-policy.json) grants none of: ${missing.join(', ')}`,
    );
  }
  return actions;
}
