import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteSecretCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdapters, registry } from '../../../src/adapters/registry.js';
import { createSecretsManagerAccountStore } from '../../../src/adapters/store/aws-secrets-manager/account.js';
import { createSecretsManagerStore } from '../../../src/adapters/store/aws-secrets-manager/store.js';
import { FileAccountStore } from '../../../src/adapters/store/file/account.js';
import { FileStore } from '../../../src/adapters/store/file/store.js';
import { doctor } from '../../../src/core/doctor/doctor.js';
import type { DoctorReport } from '../../../src/core/doctor/report.js';
import { parseConfig } from '../../../src/entrypoints/config.js';
import { systemClock } from '../../../src/ports/clock.js';
import { useMoto } from '../../support/aws.js';
import { localConfig, tempDir, uniqueZone } from '../../support/certkeeper.js';
import { treeSnapshot } from '../../support/doctor.js';
import { makeCertificate } from '../../support/fixtures.js';
import { recordingLogger } from '../../support/logger.js';
import { registerSecret } from '../../support/secrets-guard.js';
import { getStack } from '../../support/stack.js';

/**
 * The `store` and `limits` checks against real stores: Secrets Manager on moto (every AWS call the
 * doctor makes must be allowed by the example IAM policy: useMoto checks it at the end of the
 * file) and the file store, with leases held by others, and the order budget's ledger read back.
 */

const aws = useMoto();
const stack = getStack();
let sm: SecretsManagerClient;

beforeAll(() => {
  sm = new SecretsManagerClient({});
});

async function runDoctor(raw: Record<string, unknown>, only?: string[]): Promise<DoctorReport> {
  const config = parseConfig(raw, { env: {} });
  const adapters = createAdapters(config, {
    clock: systemClock,
    logger: recordingLogger(),
    env: {},
    entry: 'cli',
    services: { aws: aws.clients },
  });
  return doctor(
    config,
    { ...(only ? { only } : {}), owner: 'doctor:test' },
    {
      adapters,
      clock: systemClock,
      logger: recordingLogger(),
      cas: registry.cas,
    },
  );
}

const check = (r: DoctorReport, certificate: string | null, name: string) =>
  r.checks.find((c) => c.certificate === certificate && c.check === name);

async function secretState() {
  const list = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, MaxResults: 100 }));
  const secrets = (list.SecretList ?? []).filter((s) => s.Name?.startsWith('certkeeper/doctor-'));
  return Promise.all(
    secrets.map(async (s) => ({
      name: s.Name,
      deleted: Boolean(s.DeletedDate),
      versions: (
        await sm.send(new ListSecretVersionIdsCommand({ SecretId: s.ARN, IncludeDeprecated: true }))
      ).Versions?.map((v) => `${v.VersionId} ${v.VersionStages?.join(',')}`).sort(),
    })),
  );
}

describe('store: Secrets Manager', () => {
  it('readable and writable: a lease taken and released, no version written, no secret left; a secret scheduled for deletion fails', async () => {
    const ok = 'doctor-sm-ok';
    const gone = 'doctor-sm-gone';
    for (const id of [ok, gone]) {
      const cert = await makeCertificate(id, [`${id}.example.com`]);
      registerSecret(cert.privateKey);
      await createSecretsManagerStore(
        id,
        { type: 'aws-secrets-manager' },
        {
          logger: recordingLogger(),
          clock: systemClock,
          clients: aws.clients,
        },
      ).write(cert);
    }
    await sm.send(new DeleteSecretCommand({ SecretId: `certkeeper/${gone}`, RecoveryWindowInDays: 7 }));
    const before = await secretState();
    const raw = localConfig(stack, '/unused', [
      { id: ok, domains: [`${ok}.example.com`] },
      { id: gone, domains: [`${gone}.example.com`] },
    ]);
    (raw.defaults as Record<string, unknown>).store = { type: 'aws-secrets-manager' };
    (raw.acme as Record<string, unknown>).orderBudget = { orders: 300, per: '3h' };
    const report = await runDoctor(raw);

    expect(check(report, ok, 'store')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining(`aws-secrets-manager certkeeper/${ok} is readable (a certificate) and writable`),
    });
    const deleted = check(report, gone, 'store');
    expect(deleted?.status).toBe('fail');
    expect(deleted?.message).toMatch(/marked (for deletion|deleted)/);
    expect(deleted?.hint).toContain('restore-secret');
    expect(check(report, gone, 'expiry')?.status).toBe('skip');
    // The account and the order budget live in Secrets Manager too: read, never created.
    expect(check(report, null, 'acme.account')?.message).toContain('no ACME account is stored in certkeeper/account/');
    expect(check(report, null, 'limits')).toMatchObject({ status: 'pass' });
    expect(check(report, null, 'limits')?.message).toContain(
      '0 certificate(s) due now, within the order budget (0 of 300',
    );

    expect(await secretState()).toEqual(before);
    const all = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(
      (all.SecretList ?? []).map((s) => s.Name).filter((n) => n?.endsWith('.lock') || n?.includes('account')),
    ).toEqual([]);
  });
});

describe('AccountStore.ordersInWindow', () => {
  it('Secrets Manager: reads the ledger a reservation wrote, and writes nothing itself', async () => {
    const accounts = createSecretsManagerAccountStore(
      { type: 'aws-secrets-manager' },
      { logger: recordingLogger(), clock: systemClock, clients: aws.clients },
    );
    const url = 'https://ledger.doctor.example/dir';
    const budget = { orders: 10, perMs: 3_600_000 };
    expect(await accounts.ordersInWindow?.(url, budget)).toEqual({ used: 0 });
    await accounts.reserveOrders(url, 4, budget, 'x');
    const versions = () =>
      sm.send(new ListSecretVersionIdsCommand({ SecretId: 'certkeeper/account/ledger.doctor.example.orders' }));
    const before = (await versions()).Versions?.length;
    const seen = await accounts.ordersInWindow?.(url, budget);
    expect(seen).toMatchObject({ used: 4, freesAt: expect.stringMatching(/^20\d\d-/) });
    expect((await versions()).Versions?.length).toBe(before);
  });
});

describe('store: file', () => {
  it('a lease another run holds is a warning and stays as it was; an expired one is left for a run to break', async () => {
    const dir = await tempDir('ck-doctor-store-');
    const zone = uniqueZone('dst');
    const [live, stale] = ['live', 'stale'];
    const held = await new FileStore(dir, live, systemClock).acquireLease('cli:other-host:1', 600_000, async () => {});
    expect(held.kind).toBe('acquired');
    const old = await new FileStore(dir, stale, systemClock).acquireLease('cli:dead-host:2', 1, async () => {});
    expect(old.kind).toBe('acquired');
    await new Promise((r) => setTimeout(r, 5));
    const before = await treeSnapshot(dir);
    const report = await runDoctor(
      localConfig(stack, dir, [
        { id: live, domains: [`a.${zone}`] },
        { id: stale, domains: [`b.${zone}`] },
      ]),
    );
    const l = check(report, live, 'store');
    expect(l?.status).toBe('warn');
    expect(l?.message).toContain('a run holds the lease');
    expect(l?.message).toContain('cli:other-host:1');
    const s = check(report, stale, 'store');
    expect(s?.status).toBe('warn');
    expect(s?.message).toContain('expired lease of cli:dead-host:2');
    expect(await treeSnapshot(dir)).toEqual(before);
    expect(JSON.parse(await readFile(join(dir, `${stale}.lock`), 'utf8')).owner).toBe('cli:dead-host:2');
  });

  it('limits: certificates due now against what the order budget has left, read from the ledger without writing it', async () => {
    const dir = await tempDir('ck-doctor-limits-');
    const zone = uniqueZone('dlm');
    const certificates = Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, domains: [`c${i}.${zone}`] }));
    const raw = localConfig(stack, dir, certificates, { acme: { orderBudget: { orders: 10, per: '3h' } } });
    const config = parseConfig(raw, { env: {} });
    const accounts = new FileAccountStore(dir, systemClock);
    const reserved = await accounts.reserveOrders(
      config.acme.directoryUrl,
      7,
      { orders: 10, perMs: 3 * 3_600_000 },
      'x',
    );
    expect(reserved.granted).toBe(7);
    const before = await treeSnapshot(dir);
    const report = await runDoctor(raw);
    const limits = check(report, null, 'limits');
    expect(limits?.status).toBe('warn');
    expect(limits?.message).toMatch(
      /8 certificates are due now and the order budget has 3 of 10 per 3 h left: 5 will be deferred \(it frees from 20\d\d-/,
    );
    expect(await treeSnapshot(dir)).toEqual(before);
  });
});
