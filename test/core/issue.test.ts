import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { httpsAgent } from '../../src/core/acme-directory.js';
import { splitPemChain } from '../../src/core/certinfo.js';
import type { DnsProvider } from '../../src/ports/dns.js';
import { captureLog, localConfig, runLocal, tempDir, txtValues, uniqueZone } from '../support/certkeeper.js';
import { getRootPem, getStack, startOwnPebble } from '../support/stack.js';

const stack = getStack();

function verifiesAgainst(fullchainPem: string, rootPem: string): boolean {
  const chain = splitPemChain(fullchainPem).map((p) => new X509Certificate(p));
  for (let i = 0; i + 1 < chain.length; i++) if (!chain[i]!.verify(chain[i + 1]!.publicKey)) return false;
  return chain.at(-1)!.verify(new X509Certificate(rootPem).publicKey);
}

describe('issuance against Pebble (DNS-01 via challtestsrv, file store)', () => {
  it('issues apex + wildcard, stores a verified chain and a matching 0600 key, and leaves no TXT record', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('apex');
    const report = await runLocal(localConfig(stack, dir, [{ id: 'site', domains: [zone, `*.${zone}`] }]));
    const [r] = report.results;
    expect(r).toMatchObject({ id: 'site', status: 'renewed', health: 'ok' });
    expect(r!.error).toBeUndefined();
    // The next check is when this certificate becomes due: a third of its lifetime before expiry.
    const lifetime = Date.parse(r!.notAfter!) - Date.now();
    expect(Date.parse(report.nextCheck!)).toBeGreaterThan(Date.now() + lifetime * 0.6);
    expect(Date.parse(report.nextCheck!)).toBeLessThan(Date.parse(r!.notAfter!));

    const live = join(dir, 'site');
    const fullchain = await readFile(join(live, 'fullchain.pem'), 'utf8');
    const key = await readFile(join(live, 'privkey.pem'), 'utf8');
    expect(key).toContain('BEGIN PRIVATE KEY'); // PKCS#8
    expect((await stat(join(live, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    expect(verifiesAgainst(fullchain, getRootPem())).toBe(true);
    const leaf = new X509Certificate(await readFile(join(live, 'cert.pem'), 'utf8'));
    expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(leaf.serialNumber.toLowerCase()).toBe(r!.serialNumber);
    expect(leaf.subjectAltName).toContain(`DNS:*.${zone}`);
    expect(await readFile(join(live, 'fullchain.pem'), 'utf8')).toBe(
      (await readFile(join(live, 'cert.pem'), 'utf8')) + (await readFile(join(live, 'chain.pem'), 'utf8')),
    );

    const meta = JSON.parse(await readFile(join(live, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      format: 'certkeeper/v1',
      id: 'site',
      domains: [zone, `*.${zone}`],
      keyType: 'ec-p256',
    });
    expect(meta.serialNumber).toBe(r!.serialNumber);
    expect(JSON.stringify(meta)).not.toContain('PRIVATE KEY');

    expect(await txtValues(stack.dnsResolver, `_acme-challenge.${zone}`)).toEqual([]);
  });

  it("signs each request with the previous answer's nonce: one newNonce per session, and its connections kept alive", async () => {
    // The process's real agent for this CA bundle, watched: every request and every new connection.
    const agent = await httpsAgent(stack.caBundlePath);
    const seen = { requests: [] as string[], connections: 0 };
    const watched = agent as unknown as {
      addRequest(req: { method: string; path: string }, opts: unknown): void;
      createConnection(...args: unknown[]): unknown;
    };
    const { addRequest, createConnection } = watched;
    watched.addRequest = function (this: unknown, req, opts) {
      seen.requests.push(`${req.method} ${req.path.split('/')[1]}`);
      return addRequest.call(this, req, opts);
    };
    watched.createConnection = function (this: unknown, ...args) {
      seen.connections++;
      return createConnection.apply(this, args);
    };
    onTestFinished(() => {
      watched.addRequest = addRequest;
      watched.createConnection = createConnection;
    });
    // A fresh store: the run registers an account, then orders, validates, finalizes, downloads.
    const zone = uniqueZone('nonce');
    const report = await runLocal(localConfig(stack, await tempDir(), [{ id: 'n', domains: [zone] }]));
    expect(report.results[0]?.status).toBe('renewed');
    const posts = seen.requests.filter((r) => r.startsWith('POST'));
    expect(posts.length).toBeGreaterThanOrEqual(7);
    expect(seen.requests.filter((r) => r.startsWith('HEAD'))).toEqual(['HEAD nonce-plz']);
    // Pebble drops the connection after a HEAD (no Content-Length): one more, then all reused.
    expect(seen.connections).toBeLessThanOrEqual(2);
  });

  it.each(['rsa-2048', 'ec-p384'] as const)('issues %s keys', async (keyType) => {
    const dir = await tempDir();
    const zone = uniqueZone('kt');
    const report = await runLocal(localConfig(stack, dir, [{ id: 'k', domains: [zone], keyType }]));
    expect(report.results[0]).toMatchObject({ status: 'renewed' });
    const leaf = new X509Certificate(await readFile(join(dir, 'k', 'cert.pem'), 'utf8'));
    const details = leaf.publicKey.asymmetricKeyDetails;
    if (keyType === 'rsa-2048') expect(details?.modulusLength).toBe(2048);
    else expect(details?.namedCurve).toBe('secp384r1');
    // The next run sees the same key type and does not renew again.
    const again = await runLocal(localConfig(stack, dir, [{ id: 'k', domains: [zone], keyType }]));
    expect(again.results[0]).toMatchObject({ status: 'skipped' });
  });

  it('reuses the stored ACME account: a second run registers none', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('acct');
    const raw = localConfig(stack, dir, [{ id: 'a', domains: [zone] }]);
    const log1 = captureLog();
    await runLocal(raw, { log: log1 });
    expect(log1.lines.filter((l) => l.includes('registered a new account'))).toHaveLength(1);
    const port = new URL(stack.acmeDirectory).port;
    const accountFile = join(dir, '_account', `127.0.0.1_${port}.json`);
    const before = await readFile(accountFile, 'utf8');
    expect((await stat(accountFile)).mode & 0o777).toBe(0o600);

    const log2 = captureLog();
    const report = await runLocal(raw, { log: log2, force: true });
    expect(report.results[0]).toMatchObject({ status: 'renewed' });
    expect(log2.lines.filter((l) => l.includes('registered a new account'))).toHaveLength(0);
    expect(await readFile(accountFile, 'utf8')).toBe(before);
  });

  it('a wrong TXT value ends as acme-rejected, with records cleaned and nothing stored', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('wrong');
    const written: string[] = [];
    const report = await runLocal(
      // No resolvers: skip our own propagation check so the CA is the one that sees the wrong value.
      localConfig(stack, dir, [{ id: 'w', domains: [zone, `*.${zone}`] }], { resolvers: null }),
      {
        dns: (real): DnsProvider => ({
          name: real.name,
          defaultResolvers: async () => [],
          present: (records) => {
            const wrong = records.map((r) => ({ ...r, value: `wrong-${r.value.slice(6)}` }));
            written.push(...wrong.map((w) => w.value));
            return real.present(wrong);
          },
          cleanup: (records) => real.cleanup(records.map((r) => ({ ...r, value: `wrong-${r.value.slice(6)}` }))),
        }),
      },
    );
    const [r] = report.results;
    expect(r).toMatchObject({ status: 'failed', error: { class: 'acme-rejected' } });
    expect(r!.error!.message).toMatch(/not found for DNS challenge|TXT/i);
    expect(r!.error!.hint).toMatch(/TXT value/);
    expect(written.length).toBe(2);
    expect(await txtValues(stack.dnsResolver, `_acme-challenge.${zone}`)).toEqual([]);
    await expect(stat(join(dir, 'w'))).rejects.toThrow(/ENOENT/);
    // The lease was released.
    await expect(stat(join(dir, 'w.lock'))).rejects.toThrow(/ENOENT/);
  });

  it('records that never appear end as dns-propagation after the timeout, and cleanup still runs', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('prop');
    let cleaned = 0;
    const raw = localConfig(stack, dir, [{ id: 'p', domains: [zone] }]);
    (raw.defaults as { dns: { propagation: { timeout: string } } }).dns.propagation.timeout = '1s';
    const report = await runLocal(raw, {
      dns: (real): DnsProvider => ({
        name: real.name,
        present: async () => {},
        cleanup: async (records) => {
          cleaned += records.length;
          await real.cleanup(records);
        },
      }),
    });
    expect(report.results[0]).toMatchObject({ status: 'failed', error: { class: 'dns-propagation' } });
    expect(report.results[0]!.error!.message).toContain(`_acme-challenge.${zone}`);
    expect(cleaned).toBe(1);
  });

  it('a certificate that ordered ahead and gets its slot with under 3 minutes of the invocation left publishes nothing: deferred, not failed', async () => {
    const dir = await tempDir();
    const [first, second] = [uniqueZone('dl1'), uniqueZone('dl2')];
    // Plenty of time until the first certificate's challenges are valid (its cleanup starts then,
    // just before it frees the only slot); 2 minutes left from then on.
    let left = 3_600_000;
    const presented: string[] = [];
    // What the second certificate's lease held while the first one published (it holds the slot).
    let secondLeaseMeanwhile: { records?: { name: string }[] } | undefined;
    const raw = {
      ...localConfig(stack, dir, [
        { id: 'first', domains: [first] },
        { id: 'second', domains: [second] },
      ]),
      concurrency: 1,
    };
    const report = await runLocal(raw, {
      remainingTimeMs: () => left,
      dns: (real, certId): DnsProvider => ({
        ...real,
        name: real.name,
        present: async (records, signal) => {
          presented.push(certId);
          // The first holds the only slot until its challenges are valid: wait here (up to 5 s)
          // for the second's lease to record its values, which it must do before its slot.
          for (let i = 0; certId === 'first' && i < 100 && !secondLeaseMeanwhile?.records?.length; i++) {
            await new Promise((r) => setTimeout(r, 50));
            secondLeaseMeanwhile = await readFile(join(dir, 'second.lock'), 'utf8').then(JSON.parse, () => undefined);
          }
          await real.present(records, signal);
        },
        cleanup: async (records, signal) => {
          left = 120_000;
          await real.cleanup(records, signal);
        },
      }),
    });
    const [a, b] = report.results;
    expect(a?.status).toBe('renewed');
    expect(b?.status).toBe('deferred');
    expect(b?.reason).toMatch(/only 120 s of the invocation left when its turn came: the next run renews it/);
    expect(presented).toEqual(['first']);
    expect(await txtValues(stack.dnsResolver, `_acme-challenge.${second}`)).toEqual([]);
    // The second one's store write (its lease's records) came before its slot, not inside it…
    expect(secondLeaseMeanwhile?.records?.map((r) => r.name)).toEqual([`_acme-challenge.${second}`]);
    // …and, deferred at its slot, it left no lease behind (nothing of it was published).
    await expect(stat(join(dir, 'second.lock'))).rejects.toThrow(/ENOENT/);
    // Not a failure: the next run renews it at once, with no backoff.
    left = 3_600_000;
    const next = await runLocal(raw, { remainingTimeMs: () => left });
    expect(next.results.map((r) => r.status)).toEqual(['skipped', 'renewed']);
  });

  it("one certificate's failure never stops the others", async () => {
    const dir = await tempDir();
    const good = uniqueZone('good');
    const bad = uniqueZone('bad');
    const report = await runLocal(
      localConfig(stack, dir, [
        { id: 'bad', domains: [bad] },
        { id: 'good', domains: [good] },
      ]),
      {
        dns: (real, id): DnsProvider =>
          id === 'bad'
            ? {
                name: 'broken',
                present: async () => {
                  throw new Error('provider exploded');
                },
                cleanup: async () => {},
              }
            : real,
      },
    );
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    expect(byId.bad).toMatchObject({ status: 'failed', error: { class: 'dns-provider' } });
    expect(byId.good).toMatchObject({ status: 'renewed' });
    expect(report.summary).toMatchObject({ renewed: 1, failed: 1 });
  });

  it('two runs at once on one config: exactly one issues, the other reports locked or sees the new one', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('race');
    const raw = localConfig(stack, dir, [{ id: 'race', domains: [zone] }]);
    // Account and first certificate first, so both runs race on the forced renewal.
    await runLocal(raw);
    const [a, b] = await Promise.all([runLocal(raw, { force: true }), runLocal(raw, { force: true })]);
    const results = [a.results[0]!, b.results[0]!];
    expect(results.filter((r) => r.status === 'renewed')).toHaveLength(1);
    const other = results.find((r) => r.status !== 'renewed')!;
    expect(['locked', 'skipped']).toContain(other.status);
    if (other.status === 'skipped') expect(other.reason).toContain('renewed meanwhile by another run');
  });

  it('five runs at once over three certificates: each certificate issued exactly once', async () => {
    const dir = await tempDir();
    const certificates = [0, 1, 2].map((i) => ({ id: `five${i}`, domains: [uniqueZone(`five${i}`)] }));
    const raw = localConfig(stack, dir, certificates);
    await runLocal(raw, { dryRun: true });
    // Register the account first so no run races on registration.
    await runLocal(localConfig(stack, dir, [{ id: 'warmup', domains: [uniqueZone('warm')] }]));
    const reports = await Promise.all(Array.from({ length: 5 }, () => runLocal(raw)));
    for (const { id } of certificates) {
      const renewed = reports.flatMap((r) => r.results).filter((r) => r.id === id && r.status === 'renewed');
      expect(renewed, id).toHaveLength(1);
      const others = reports.flatMap((r) => r.results).filter((r) => r.id === id && r.status !== 'renewed');
      for (const o of others) expect(['locked', 'skipped']).toContain(o.status);
    }
  });

  it('breaks an expired lease: removes the TXT values it lists, then renews', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('stale');
    const name = `_acme-challenge.${zone}`;
    // What a run killed during its DNS wait leaves behind: a TXT value and an expired lease naming it.
    await fetch(`${stack.challtestsrvUrl}/set-txt`, {
      method: 'POST',
      body: JSON.stringify({ host: `${name}.`, value: 'left-by-a-dead-run' }),
    });
    expect(await txtValues(stack.dnsResolver, name)).toEqual(['left-by-a-dead-run']);
    await writeFile(
      join(dir, 'stale.lock'),
      JSON.stringify({
        owner: 'cli:dead:1',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
        records: [{ name, value: 'left-by-a-dead-run' }],
      }),
    );
    const log = captureLog();
    const report = await runLocal(localConfig(stack, dir, [{ id: 'stale', domains: [zone] }]), { log });
    expect(report.results[0]).toMatchObject({ status: 'renewed' });
    expect(log.lines.some((l) => l.includes('breaking an expired lease of cli:dead:1'))).toBe(true);
    expect(await txtValues(stack.dnsResolver, name)).toEqual([]);
  });

  it('a live lease held by another run: locked, nothing issued', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('live');
    await writeFile(
      join(dir, 'held.lock'),
      JSON.stringify({ owner: 'lambda:abc', expiresAt: new Date(Date.now() + 60_000).toISOString(), records: [] }),
    );
    const report = await runLocal(localConfig(stack, dir, [{ id: 'held', domains: [zone] }]));
    expect(report.results[0]).toMatchObject({ status: 'locked' });
    expect(report.results[0]!.reason).toContain('lambda:abc');
    await expect(stat(join(dir, 'held'))).rejects.toThrow(/ENOENT/);
  });

  it('dry run decides but changes nothing', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('dry');
    const report = await runLocal(localConfig(stack, dir, [{ id: 'dry', domains: [zone] }]), { dryRun: true });
    expect(report.results[0]).toMatchObject({ status: 'would-renew', health: 'missing' });
    await expect(stat(join(dir, '_account'))).rejects.toThrow(/ENOENT/);
  });
});

describe('ACME accounts on a private Pebble', () => {
  it('registers again when the CA does not know the stored account (accountDoesNotExist)', async () => {
    const pebble = await startOwnPebble();
    onTestFinished(() => pebble.stop());
    const dir = await tempDir();
    const zone = uniqueZone('gone');
    const raw = localConfig(pebble, dir, [{ id: 'g', domains: [zone] }]);
    await runLocal(raw);
    const file = join(dir, '_account', `127.0.0.1_${new URL(pebble.acmeDirectory).port}.json`);
    const account = JSON.parse(await readFile(file, 'utf8'));
    // Point the stored account at an URL this CA never issued.
    await writeFile(
      file,
      JSON.stringify({ ...account, accountUrl: account.accountUrl.replace(/[^/]+$/, 'ffffffffffff') }),
    );
    const log = captureLog();
    const report = await runLocal(raw, { force: true, log });
    expect(report.results[0]).toMatchObject({ status: 'renewed' });
    expect(log.lines.some((l) => l.includes('does not know the stored account'))).toBe(true);
    const replaced = JSON.parse(await readFile(file, 'utf8'));
    expect(replaced.accountUrl).not.toContain('ffffffffffff');
  });

  it('external account binding: required by the CA, given in the config', async () => {
    const eab = { kid: 'kid-1', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };
    const pebble = await startOwnPebble({ eab });
    onTestFinished(() => pebble.stop());
    const zone = uniqueZone('eab');
    const without = await runLocal(localConfig(pebble, await tempDir(), [{ id: 'e', domains: [zone] }]));
    expect(without.results[0]).toMatchObject({ status: 'failed', error: { class: 'acme-account' } });
    const withEab = await runLocal(
      localConfig(pebble, await tempDir(), [{ id: 'e', domains: [zone] }], { acme: { eab } }),
    );
    expect(withEab.results[0]).toMatchObject({ status: 'renewed' });
  });
});
