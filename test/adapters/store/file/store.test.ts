import { lstat, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileAccountStore } from '../../../../src/adapters/store/file/account.js';
import { FileStore } from '../../../../src/adapters/store/file/store.js';
import { systemClock } from '../../../../src/ports/clock.js';
import type { StoredCertificate } from '../../../../src/ports/store.js';
import { tempDir } from '../../../support/certkeeper.js';

function record(serial: string, issuedAt = new Date().toISOString()): StoredCertificate {
  return {
    format: 'certkeeper/v1',
    id: 'c',
    domains: ['example.com'],
    certificate: `CERT ${serial}\n`,
    chain: `CHAIN ${serial}\n`,
    fullchain: `CERT ${serial}\nCHAIN ${serial}\n`,
    privateKey: `KEY ${serial}\n`,
    keyType: 'ec-p256',
    serialNumber: serial,
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-04-01T00:00:00.000Z',
    issuer: 'CN=test',
    issuedAt,
    issuedBy: { via: 'cli', runId: 'h:1' },
  };
}

describe('file store', () => {
  it('missing before the first write', async () => {
    expect(await new FileStore(await tempDir(), 'c', systemClock).read()).toEqual({ kind: 'missing' });
  });

  it('writes the PRODUCT layout, key 0600, meta.json without key material, and reads it back', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, 'c', systemClock);
    const written = await store.write(record('aa01'));
    expect(written.ref).toBe(join(dir, 'c'));
    expect((await readdir(join(dir, 'c'))).sort()).toEqual([
      'cert.pem',
      'chain.pem',
      'fullchain.pem',
      'meta.json',
      'privkey.pem',
    ]);
    expect((await stat(join(dir, 'c', 'privkey.pem'))).mode & 0o777).toBe(0o600);
    const meta = await readFile(join(dir, 'c', 'meta.json'), 'utf8');
    expect(meta).not.toContain('KEY aa01');
    expect(JSON.parse(meta)).toMatchObject({ format: 'certkeeper/v1', serialNumber: 'aa01' });
    const read = await store.read();
    expect(read).toMatchObject({ kind: 'found', certificate: record('aa01', JSON.parse(meta).issuedAt) });
  });

  it('a new version replaces the live one in a single swap, keeping earlier versions for rollback', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, 'c', systemClock);
    await store.write(record('aa01', '2026-01-01T00:00:00.000Z'));
    const first = await readlink(join(dir, 'c'));
    await store.write(record('bb02', '2026-02-01T00:00:00.000Z'));
    expect((await lstat(join(dir, 'c'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'c'))).not.toBe(first);
    expect(await readFile(join(dir, 'c', 'privkey.pem'), 'utf8')).toBe('KEY bb02\n');
    expect(await readFile(join(dir, first, 'privkey.pem'), 'utf8')).toBe('KEY aa01\n');
    // Prunes to the last three.
    await store.write(record('cc03', '2026-03-01T00:00:00.000Z'));
    await store.write(record('dd04', '2026-04-01T00:00:00.000Z'));
    expect((await readdir(join(dir, '.versions', 'c'))).length).toBe(3);
  });

  it('a retried write of the same version is idempotent', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, 'c', systemClock);
    const rec = record('aa01', '2026-01-01T00:00:00.000Z');
    const a = await store.write(rec);
    const b = await store.write(rec);
    expect(b).toEqual(a);
    expect((await store.read()).kind).toBe('found');
  });

  it('readers never see a mix of versions while writes go on', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, 'c', systemClock);
    await store.write(record('00', '2026-01-01T00:00:00.000Z'));
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const r = await store.read();
        if (r.kind !== 'found') throw new Error(`read ${r.kind}`);
        const serial = r.certificate.serialNumber;
        expect(r.certificate.privateKey).toBe(`KEY ${serial}\n`);
        expect(r.certificate.certificate).toBe(`CERT ${serial}\n`);
        reads++;
      }
    })();
    for (let i = 1; i <= 15; i++)
      await store.write(record(i.toString(16).padStart(2, '0'), new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
  });

  it('an unreadable entry is reported, not thrown', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, 'c', systemClock);
    await store.write(record('aa01'));
    await writeFile(join(dir, 'c', 'meta.json'), '{not json');
    const r = await store.read();
    expect(r.kind).toBe('unreadable');
  });
});

describe('file store lease', () => {
  const noBreak = async () => {};

  it('one holder at a time; the loser sees the holder', async () => {
    const dir = await tempDir();
    const a = new FileStore(dir, 'c', systemClock);
    const b = new FileStore(dir, 'c', systemClock);
    const got = await a.acquireLease('run-a', 60_000, noBreak);
    expect(got.kind).toBe('acquired');
    const lost = await b.acquireLease('run-b', 60_000, noBreak);
    expect(lost).toMatchObject({ kind: 'locked', holder: { owner: 'run-a' } });
    expect((await stat(join(dir, 'c.lock'))).mode & 0o777).toBe(0o600);
    if (got.kind === 'acquired') await got.lease.release();
    expect((await b.acquireLease('run-b', 60_000, noBreak)).kind).toBe('acquired');
  });

  it('of twenty concurrent acquirers exactly one wins', async () => {
    const dir = await tempDir();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new FileStore(dir, 'c', systemClock).acquireLease(`run-${i}`, 60_000, noBreak),
      ),
    );
    expect(results.filter((r) => r.kind === 'acquired')).toHaveLength(1);
  });

  it('records written are kept in the lease; an expired lease is broken after onBreak sees them', async () => {
    const dir = await tempDir();
    const a = new FileStore(dir, 'c', systemClock);
    const got = await a.acquireLease('run-a', 60_000, noBreak);
    if (got.kind !== 'acquired') throw new Error('not acquired');
    await got.lease.update([{ name: '_acme-challenge.example.com', value: 'v1' }], 1);
    await new Promise((r) => setTimeout(r, 5));
    const seen: unknown[] = [];
    const b = await new FileStore(dir, 'c', systemClock).acquireLease('run-b', 60_000, async (stale) => {
      seen.push(stale);
    });
    expect(b.kind).toBe('acquired');
    expect(seen).toEqual([
      expect.objectContaining({ owner: 'run-a', records: [{ name: '_acme-challenge.example.com', value: 'v1' }] }),
    ]);
    // The old holder cannot write over the new holder's lease.
    await expect(got.lease.extend(60_000)).rejects.toThrow(/taken over by run-b/);
  });

  it('a failing onBreak leaves the stale lease in place (records not yet cleaned)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'c.lock'),
      JSON.stringify({ owner: 'dead', expiresAt: new Date(0).toISOString(), records: [] }),
    );
    await expect(
      new FileStore(dir, 'c', systemClock).acquireLease('run-b', 60_000, async () => {
        throw new Error('dns down');
      }),
    ).rejects.toThrow('dns down');
    expect(JSON.parse(await readFile(join(dir, 'c.lock'), 'utf8')).owner).toBe('dead');
  });

  it('a garbage lock file counts as expired', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'c.lock'), '');
    expect((await new FileStore(dir, 'c', systemClock).acquireLease('run-b', 60_000, noBreak)).kind).toBe('acquired');
  });
});

describe('file account store', () => {
  it('one file per directory host and port; other paths on the same host are not reused', async () => {
    const dir = await tempDir();
    const s = new FileAccountStore(dir);
    const account = {
      directoryUrl: 'https://ca.example:14000/dir',
      accountUrl: 'https://ca.example:14000/acct/1',
      accountKey: 'KEY',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await s.save(account);
    expect(await readdir(join(dir, '_account'))).toEqual(['ca.example_14000.json']);
    expect((await stat(join(dir, '_account', 'ca.example_14000.json'))).mode & 0o777).toBe(0o600);
    expect(await s.load(account.directoryUrl)).toEqual(account);
    expect(await s.load('https://ca.example:14000/other')).toBeNull();
    expect(await s.load('https://ca.example/dir')).toBeNull();
  });
});
