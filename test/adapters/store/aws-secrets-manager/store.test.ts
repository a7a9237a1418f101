import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerAccountStore } from '../../../../src/adapters/store/aws-secrets-manager/account.js';
import {
  domainsTagValue,
  type SecretsManagerStoreConfig,
  versionToken,
} from '../../../../src/adapters/store/aws-secrets-manager/common.js';
import { createSecretsManagerStore } from '../../../../src/adapters/store/aws-secrets-manager/store.js';
import { StoreError } from '../../../../src/ports/errors.js';
import type { LeaseState } from '../../../../src/ports/store.js';
import { useMoto } from '../../../support/aws.js';
import { fakeClock } from '../../../support/clock.js';
import { keyMaterial, makeCertificate } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/logger.js';

const aws = useMoto();
let admin: SecretsManagerClient;
const logger = recordingLogger();
const clock = fakeClock();

beforeAll(() => {
  admin = new SecretsManagerClient({});
});

const cfg = (extra: Partial<SecretsManagerStoreConfig> = {}): SecretsManagerStoreConfig => ({
  type: 'aws-secrets-manager',
  ...extra,
});
const store = (id: string, extra: Partial<SecretsManagerStoreConfig> = {}) =>
  createSecretsManagerStore(id, cfg(extra), { logger, clock, clients: aws.clients });

async function tags(secretId: string): Promise<Record<string, string>> {
  const out = await admin.send(new DescribeSecretCommand({ SecretId: secretId }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key, t.Value]));
}

async function versions(secretId: string) {
  return (await admin.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))).Versions ?? [];
}

describe('secrets-manager store against moto', () => {
  it('reads a missing secret as missing', async () => {
    expect(await store('absent').read()).toEqual({ kind: 'missing' });
  });

  it('creates certkeeper/<id> with tags, then reads it back', async () => {
    const cert = await makeCertificate('site', ['example.com', '*.example.com']);
    const s = store('site', { tags: { team: 'web', 'certkeeper:id': 'spoofed' } });
    const written = await s.write(cert);
    expect(written.ref).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:certkeeper\/site-\w{6}$/);
    expect(written.version).toBe(versionToken(cert.serialNumber));
    expect(written.version).toHaveLength(64);
    expect(await tags('certkeeper/site')).toEqual({
      team: 'web',
      'certkeeper:id': 'site',
      'certkeeper:not-after': cert.notAfter,
      'certkeeper:domains': 'example.com *.example.com',
    });
    const read = await s.read();
    expect(read).toEqual({ kind: 'found', certificate: cert, version: written.version });
    const raw = await admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/site' }));
    expect(JSON.parse(raw.SecretString as string)).toEqual(cert);
  });

  it('writes each renewal as a new version; the previous one stays as AWSPREVIOUS', async () => {
    const s = store('rotate');
    const first = await makeCertificate('rotate');
    const second = await makeCertificate('rotate');
    const v1 = await s.write(first);
    const v2 = await s.write(second);
    expect(v2.version).not.toBe(v1.version);
    expect(v2.ref).toBe(v1.ref);
    const prev = await admin.send(
      new GetSecretValueCommand({ SecretId: 'certkeeper/rotate', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(JSON.parse(prev.SecretString as string).serialNumber).toBe(first.serialNumber);
    expect(prev.VersionId).toBe(v1.version);
    const cur = await s.read();
    expect(cur.kind === 'found' && cur.certificate.serialNumber).toBe(second.serialNumber);
    expect(cur.kind === 'found' && cur.version).toBe(v2.version);
    // Tags follow the current version.
    expect((await tags('certkeeper/rotate'))['certkeeper:not-after']).toBe(second.notAfter);
  });

  it('a retried write of the same certificate makes no second version', async () => {
    const s = store('retry');
    const cert = await makeCertificate('retry');
    const a = await s.write(cert);
    const b = await s.write(cert);
    expect(b).toEqual(a);
    expect(await versions('certkeeper/retry')).toHaveLength(1);
    const next = await makeCertificate('retry');
    await s.write(next);
    await s.write(next);
    expect(await versions('certkeeper/retry')).toHaveLength(2);
  });

  it('rewriting one serial with other content (an export ARN added) is a new version, not an error', async () => {
    const s = store('rewrite');
    const cert = await makeCertificate('rewrite');
    const a = await s.write(cert);
    const withArn = { ...cert, exports: { 'aws-acm': 'arn:aws:acm:us-east-1:123456789012:certificate/x' } };
    const b = await s.write(withArn);
    expect(b.version).not.toBe(a.version);
    const again = await s.write(withArn);
    expect(again.version).toBe(b.version);
    const read = await s.read();
    expect(read.kind === 'found' && read.certificate.exports).toEqual(withArn.exports);
  });

  it('creates the secret (and its lease) with the configured KMS key', async () => {
    const cert = await makeCertificate('kms');
    const s = store('kms', { kmsKeyId: 'alias/certkeeper' });
    await s.write(cert);
    const lease = await s.acquireLease('run-kms', 60_000, async () => {});
    if (lease.kind === 'acquired') await lease.lease.release();
    const creates = aws.calls.filter(
      (c) => c.operation === 'CreateSecret' && String(c.input.Name).startsWith('certkeeper/kms'),
    );
    expect(creates.map((c) => [c.input.Name, c.input.KmsKeyId])).toEqual([
      ['certkeeper/kms', 'alias/certkeeper'],
      ['certkeeper/kms.lock', 'alias/certkeeper'],
    ]);
    expect((await admin.send(new DescribeSecretCommand({ SecretId: 'certkeeper/kms' }))).KmsKeyId).toBe(
      'alias/certkeeper',
    );
  });

  it('uses the configured secretId', async () => {
    const cert = await makeCertificate('custom');
    const written = await store('custom', { secretId: 'certkeeper/prod/custom' }).write(cert);
    expect(written.ref).toContain(':secret:certkeeper/prod/custom-');
    expect((await store('custom', { secretId: 'certkeeper/prod/custom' }).read()).kind).toBe('found');
  });

  it('reports unreadable secrets with a reason that never quotes the content', async () => {
    const cert = await makeCertificate('junk');
    const body = JSON.stringify(cert);
    const cases: [string, string, RegExp][] = [
      ['junk-1', body.slice(0, -5), /: not JSON$/],
      ['junk-2', JSON.stringify({ ...cert, format: 'other/v9' }), /: unknown format "other\/v9"$/],
      ['junk-3', JSON.stringify({ hello: 'world' }), /not a certkeeper secret$/],
      ['junk-4', JSON.stringify({ ...cert, privateKey: 42 }), /"privateKey" is missing or not a string$/],
      ['junk-5', JSON.stringify({ ...cert, id: 'another' }), /holds certificate "another", not "junk-5"$/],
    ];
    for (const [id, value, reason] of cases) {
      await admin.send(new CreateSecretCommand({ Name: `certkeeper/${id}`, SecretString: value }));
      const read = await store(id).read();
      expect(read.kind).toBe('unreadable');
      const text = read.kind === 'unreadable' ? read.reason : '';
      expect(text).toMatch(reason);
      expect(text.startsWith(`secrets-manager: certkeeper/${id}: `)).toBe(true);
      for (const line of keyMaterial(cert)) expect(text).not.toContain(line);
    }
    await admin.send(new CreateSecretCommand({ Name: 'certkeeper/junk-bin', SecretBinary: Buffer.from([1, 2, 3]) }));
    expect(await store('junk-bin').read()).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringMatching(/binary/),
    });
  });

  it('refuses a certificate over the 65,536-byte SecretString limit before calling AWS', async () => {
    const cert = await makeCertificate('huge', ['example.com'], { chain: 'x'.repeat(70_000) });
    const before = aws.calls.length;
    const err = await store('huge')
      .write(cert)
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toMatch(/^secrets-manager: certificate huge is \d+ bytes as JSON, over the 65536-byte/);
    expect(aws.calls.length).toBe(before);
    expect(await store('huge').read()).toEqual({ kind: 'missing' });
  });

  it('keeps the domains tag within 255 characters, cut at a whole name', () => {
    const domains = Array.from({ length: 40 }, (_, i) => `host-${i}.example.com`);
    const value = domainsTagValue(domains);
    expect(value.length).toBeLessThanOrEqual(255);
    expect(value).toMatch(/^host-0\.example\.com host-1\.example\.com .* \+\d+ more$/);
    const shown = value.split(' +')[0]?.split(' ') ?? [];
    expect(shown.every((d) => domains.includes(d))).toBe(true);
    expect(Number(/\+(\d+) more$/.exec(value)?.[1]) + shown.length).toBe(40);
    expect(domainsTagValue(['a.example.com'])).toBe('a.example.com');
  });

  it('never logs key material', async () => {
    const cert = await makeCertificate('quiet');
    await store('quiet').write(cert);
    await store('quiet').read();
    const text = logger.text();
    for (const line of keyMaterial(cert)) expect(text).not.toContain(line);
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('secrets-manager lease against moto', () => {
  const noBreak = async () => {
    throw new Error('onBreak must not be called');
  };

  it('takes a free lease, reports a live one as locked, and releases it', async () => {
    const s = store('lease-a');
    const a = await s.acquireLease('run-a', 600_000, noBreak);
    expect(a.kind).toBe('acquired');
    const b = await s.acquireLease('run-b', 600_000, noBreak);
    expect(b).toEqual({ kind: 'locked', holder: { owner: 'run-a', expiresAt: expect.any(String), records: [] } });
    if (a.kind !== 'acquired') return;
    await a.lease.update([{ name: '_acme-challenge.example.com', value: 'v1' }], 600_000);
    const lock = await admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/lease-a.lock' }));
    expect(JSON.parse(lock.SecretString as string)).toEqual({
      owner: 'run-a',
      expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
      records: [{ name: '_acme-challenge.example.com', value: 'v1' }],
    });
    await a.lease.extend(900_000);
    expect(a.lease.state.expiresAt).toBe(new Date(clock.now().getTime() + 900_000).toISOString());
    expect(a.lease.state.records).toHaveLength(1);
    await a.lease.release();
    await expect(admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/lease-a.lock' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    // The name is free again at once (deleted without a recovery window).
    const again = await s.acquireLease('run-b', 600_000, noBreak);
    expect(again.kind).toBe('acquired');
    if (again.kind === 'acquired') await again.lease.release();
  });

  it('breaks an expired lease: onBreak gets its records first, and the old holder learns it lost', async () => {
    const s = store('lease-b');
    const old = await s.acquireLease('run-old', 60_000, noBreak);
    if (old.kind !== 'acquired') throw new Error('expected the lease');
    const records = [{ name: '_acme-challenge.b.example.com', value: 'stale-value' }];
    await old.lease.update(records, 60_000);
    clock.advance(61_000);

    const seen: LeaseState[] = [];
    const next = await s.acquireLease('run-new', 60_000, async (stale) => {
      seen.push(stale);
      // At this point the lease is not taken yet.
      const lock = await admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/lease-b.lock' }));
      expect(JSON.parse(lock.SecretString as string).owner).toBe('run-old');
    });
    expect(seen).toEqual([{ owner: 'run-old', expiresAt: old.lease.state.expiresAt, records }]);
    expect(next).toMatchObject({ kind: 'acquired', broken: { owner: 'run-old', records } });
    await expect(old.lease.extend(60_000)).rejects.toThrow(
      /^secrets-manager: lease certkeeper\/lease-b\.lock was taken over by run-new$/,
    );
    // The loser's release leaves the winner's lease alone.
    await old.lease.release();
    const lock = await admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/lease-b.lock' }));
    expect(JSON.parse(lock.SecretString as string).owner).toBe('run-new');
    if (next.kind === 'acquired') await next.lease.release();
  });

  it('lets exactly one of two concurrent breakers win', async () => {
    const s = store('lease-c');
    const old = await s.acquireLease('run-old', 1_000, noBreak);
    expect(old.kind).toBe('acquired');
    clock.advance(2_000);
    const breaks: string[] = [];
    const results = await Promise.all(
      ['run-x', 'run-y'].map((owner) =>
        store('lease-c').acquireLease(owner, 60_000, async () => {
          breaks.push(owner);
        }),
      ),
    );
    const kinds = results.map((r) => r.kind).sort();
    expect(kinds).toEqual(['acquired', 'locked']);
    const winner = results.find((r) => r.kind === 'acquired');
    const loser = results.find((r) => r.kind === 'locked');
    expect(breaks.length).toBeGreaterThanOrEqual(1);
    if (loser?.kind === 'locked' && winner?.kind === 'acquired') {
      expect(loser.holder.owner).toBe(winner.lease.state.owner);
      await winner.lease.release();
    }
  });

  it('treats an unreadable lock as expired', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'certkeeper/lease-d.lock', SecretString: 'not json' }));
    const seen: LeaseState[] = [];
    const got = await store('lease-d').acquireLease('run-d', 60_000, async (stale) => {
      seen.push(stale);
    });
    expect(got.kind).toBe('acquired');
    expect(seen[0]).toMatchObject({ owner: 'unknown', records: [] });
    if (got.kind === 'acquired') await got.lease.release();
  });

  it('takes a lease it finds in its own name (a create whose answer was lost)', async () => {
    await admin.send(
      new CreateSecretCommand({
        Name: 'certkeeper/lease-f.lock',
        SecretString: JSON.stringify({
          owner: 'run-f',
          expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
          records: [],
        }),
      }),
    );
    const got = await store('lease-f').acquireLease('run-f', 60_000, noBreak);
    expect(got.kind).toBe('acquired');
    if (got.kind === 'acquired') {
      await got.lease.extend(60_000);
      await got.lease.release();
    }
  });

  it('keeps the lease when a lost response made it retry its own write', async () => {
    const s = store('lease-e');
    const got = await s.acquireLease('run-e', 60_000, noBreak);
    if (got.kind !== 'acquired') throw new Error('expected the lease');
    // Simulate a write that landed but whose response was lost: someone (we) moved the version on.
    await admin.send(
      new PutSecretValueCommand({
        SecretId: 'certkeeper/lease-e.lock',
        SecretString: JSON.stringify({ owner: 'run-e', expiresAt: got.lease.state.expiresAt, records: [] }),
      }),
    );
    await expect(got.lease.extend(60_000)).resolves.toBeUndefined();
    await got.lease.release();
  });
});

describe('secrets-manager account store against moto', () => {
  const account = {
    directoryUrl: 'https://acme.example.test:14000/dir',
    accountUrl: 'https://acme.example.test:14000/my-account/1',
    accountKey:
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const accounts = () => createSecretsManagerAccountStore(cfg(), { logger, clock, clients: aws.clients });

  it('saves and loads the account under certkeeper/account/<host>_<port>', async () => {
    expect(await accounts().load(account.directoryUrl)).toBeNull();
    await accounts().save(account);
    expect(await accounts().load(account.directoryUrl)).toEqual(account);
    const raw = await admin.send(new GetSecretValueCommand({ SecretId: 'certkeeper/account/acme.example.test_14000' }));
    expect(JSON.parse(raw.SecretString as string)).toMatchObject({ format: 'certkeeper/account/v1' });
    const replaced = { ...account, accountUrl: 'https://acme.example.test:14000/my-account/2' };
    await accounts().save(replaced);
    expect(await accounts().load(account.directoryUrl)).toEqual(replaced);
  });

  it('does not hand out the account of another directory on the same host', async () => {
    expect(await accounts().load('https://acme.example.test:14000/other-dir')).toBeNull();
  });

  it('refuses to treat a broken account secret as absent (that would register a new account each run)', async () => {
    await admin.send(
      new CreateSecretCommand({ Name: 'certkeeper/account/broken.example.test', SecretString: '{"x":1}' }),
    );
    await expect(accounts().load('https://broken.example.test/dir')).rejects.toThrow(
      'secrets-manager: certkeeper/account/broken.example.test is not a certkeeper ACME account',
    );
  });

  it('never logs the account key', () => {
    expect(logger.text()).not.toContain('MIGHAgEAMBMGByqGSM49');
  });
});
