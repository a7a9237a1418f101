import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredCertificate } from '../../src/ports/store.js';
import { captureLog, localConfig, runLocal, tempDir, txtValues, uniqueZone } from '../support/certkeeper.js';
import { type FaultProxy, failFirst, type ProxiedCall, startFaultProxy } from '../support/fault-proxy.js';
import { getStack } from '../support/stack.js';
import { timeLapse, useEnv } from './helpers.js';

/**
 * Secrets Manager failing after the certificate is issued: a proxy in front of moto answers
 * PutSecretValue and CreateSecret of the certificate's secret (never its lease, never the ACME
 * account) with 500 InternalServiceError. The SDK finds the proxy in AWS_ENDPOINT_URL_SECRETS_MANAGER.
 * DNS is the shared challtestsrv; the CA the shared Pebble.
 */

const stack = getStack();
const direct = new SecretsManagerClient({
  region: 'us-east-1',
  endpoint: stack.motoEndpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const setEnv = useEnv();
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await startFaultProxy(stack.motoEndpoint);
  setEnv({ ...stack.motoEnv, AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint });
});

afterAll(async () => {
  await proxy?.stop();
});

/** Writes of the certificate's own secret: not `<id>.lock`, not `certkeeper/account/…`. */
const certificateWrite = (secretId: string) => (c: ProxiedCall) =>
  c.service === 'secretsmanager' &&
  (c.operation === 'PutSecretValue' || c.operation === 'CreateSecret') &&
  c.secret === secretId;

async function versions(secretId: string) {
  const out = await direct.send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
  return out.Versions ?? [];
}

async function stage(secretId: string, VersionStage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<StoredCertificate> {
  const out = await direct.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage }));
  return JSON.parse(out.SecretString as string) as StoredCertificate;
}

async function exists(secretId: string): Promise<boolean> {
  try {
    await direct.send(new DescribeSecretCommand({ SecretId: secretId }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

function setup() {
  const zone = uniqueZone('smf');
  const secretId = `faults/${zone}`;
  return {
    zone,
    secretId,
    name: `_acme-challenge.${zone}`,
    config: async () =>
      localConfig(stack, await tempDir('ck-smf-'), [
        { id: 'smf', domains: [zone, `*.${zone}`], store: { type: 'aws-secrets-manager', secretId } },
      ]),
  };
}

describe('faults: Secrets Manager failing after the certificate is issued', () => {
  it('K=2 and K=4 failures: retried within the run (SDK, then the runner), one new version each', async () => {
    const { secretId, config } = setup();
    const raw = await config();

    // K=2: the SDK's own retries (3 attempts) absorb it; the secret is created on the third call.
    const first = failFirst(2, certificateWrite(secretId));
    proxy.setPolicy(first);
    const log1 = captureLog();
    const r1 = (await runLocal(raw, { log: log1 })).results[0]!;
    expect(r1.error, log1.lines.join('\n')).toBeUndefined();
    expect(r1.status).toBe('renewed');
    expect(first.failed).toBe(2);
    expect(await versions(secretId)).toHaveLength(1);
    expect((await stage(secretId, 'AWSCURRENT')).serialNumber).toBe(r1.serialNumber);

    // K=4: one whole SDK call (3 attempts) fails, so the runner's own write retry is what saves it.
    const second = failFirst(4, certificateWrite(secretId));
    proxy.setPolicy(second);
    const log2 = captureLog();
    const r2 = (await runLocal(raw, { force: true, log: log2 })).results[0]!;
    proxy.setPolicy(undefined);
    expect(r2.error, log2.lines.join('\n')).toBeUndefined();
    expect(r2.status).toBe('renewed');
    expect(second.failed).toBe(4);
    expect(log2.lines.join('\n')).toMatch(/store write failed, retrying: .*InternalServiceError/);
    expect(await versions(secretId)).toHaveLength(2);
    expect((await stage(secretId, 'AWSCURRENT')).serialNumber).toBe(r2.serialNumber);
    expect((await stage(secretId, 'AWSPREVIOUS')).serialNumber).toBe(r1.serialNumber);
    expect(await exists(`${secretId}.lock`)).toBe(false);
  }, 30_000);

  it('always failing: class store, the previous version stays AWSCURRENT, nothing half-written, TXT removed', async () => {
    const old = setup();
    const fresh = setup();
    const oldRaw = await old.config();
    // A stored certificate to keep, written without faults.
    const before = (await runLocal(oldRaw)).results[0]!;
    expect(before.status).toBe('renewed');

    const raw = {
      ...oldRaw,
      certificates: [
        {
          id: 'smf',
          domains: [old.zone, `*.${old.zone}`],
          store: { type: 'aws-secrets-manager', secretId: old.secretId },
        },
        {
          id: 'smf-new',
          domains: [fresh.zone, `*.${fresh.zone}`],
          store: { type: 'aws-secrets-manager', secretId: fresh.secretId },
        },
      ],
    };
    const always = failFirst(Number.POSITIVE_INFINITY, (c) =>
      [old.secretId, fresh.secretId].some((id) => certificateWrite(id)(c)),
    );
    proxy.setPolicy(always);
    const log = captureLog();
    // The runner's write retries sleep 0.5 s, 2 s, 5 s: 5× shorter here.
    const report = await runLocal(raw, { force: true, log, clock: timeLapse(5) });
    proxy.setPolicy(undefined);

    for (const r of report.results) {
      expect(r.status, log.lines.join('\n')).toBe('failed');
      expect(r.error?.class).toBe('store');
      expect(r.error?.message).toMatch(/secrets-manager: cannot write faults\/.*: InternalServiceError/);
    }
    // 4 tries by the runner, each 3 attempts by the SDK, for each of the two certificates; then the
    // failed attempt is recorded (failure backoff): on the stored one as tags, for the new one with
    // a CreateSecret without a value (3 SDK attempts), refused as well.
    expect(always.failed).toBe(2 * 4 * 3 + 3);
    expect(log.lines.join('\n')).toMatch(/smf-new: could not record the failed attempt/);
    // The failed result still describes what is stored.
    expect(report.results[0]?.serialNumber).toBe(before.serialNumber);

    // The old certificate: still the only version, still AWSCURRENT.
    const vs = await versions(old.secretId);
    expect(vs).toHaveLength(1);
    expect(vs[0]?.VersionStages).toContain('AWSCURRENT');
    expect((await stage(old.secretId, 'AWSCURRENT')).serialNumber).toBe(before.serialNumber);
    // The new one: no secret at all rather than a half-made one. No lease left anywhere.
    expect(await exists(fresh.secretId)).toBe(false);
    expect(await exists(`${old.secretId}.lock`)).toBe(false);
    expect(await exists(`${fresh.secretId}.lock`)).toBe(false);
    // The TXT values were removed (they are, before the store is even tried).
    expect(await txtValues(stack.dnsResolver, old.name)).toEqual([]);
    expect(await txtValues(stack.dnsResolver, fresh.name)).toEqual([]);
  }, 40_000);
});
