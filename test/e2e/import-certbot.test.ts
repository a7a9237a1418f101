import { X509Certificate } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCertbotReader } from '../../src/adapters/import/certbot/reader.js';
import { createAdapters } from '../../src/adapters/registry.js';
import { importCertificates } from '../../src/core/import.js';
import { main } from '../../src/entrypoints/cli/main.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { captureLog, tempDir, uniqueZone } from '../support/certkeeper.js';
import { fakeClock } from '../support/clock.js';
import { acmeCounts, certbotIssue } from '../support/import-tools.js';
import { registerSecret, scanForSecrets } from '../support/secrets-guard.js';
import { getStack, type PebbleStack, startOwnPebble } from '../support/stack.js';
import { createTestCa, encrypted } from '../support/test-ca.js';

/**
 * certbot 2.x (the Debian package) issues two lineages against a Pebble of this file's own (so its
 * log counts every ACME order); certkeeper imports certbot's real config directory into Secrets
 * Manager (the shared moto) and into the file store, and then must not need the CA.
 */

const shared = getStack();
let pebble: PebbleStack;
let work: string;
let certbotDir: string;
let zone: string;
let sm: SecretsManagerClient;
const secretId = `import-test/${Math.random().toString(36).slice(2, 8)}/site`;

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
  // Whatever import printed, no key line may be in it.
  expect(scanForSecrets('certkeeper import output', stdout + stderr)).toEqual([]);
  return { code, stdout, stderr };
}

function configFor(storeDir: string, site: Record<string, unknown> = {}) {
  return {
    version: 1,
    acme: { directory: pebble.acmeDirectory, caBundle: pebble.caBundlePath },
    defaults: {
      dns: { provider: 'challtestsrv', url: pebble.challtestsrvUrl, propagation: { resolvers: [pebble.dnsResolver] } },
      store: { type: 'file', dir: storeDir },
    },
    certificates: [
      // Matched by id: certbot's lineage is named `site`.
      { id: 'site', domains: [zone, `*.${zone}`], store: { type: 'aws-secrets-manager', secretId }, ...site },
      // Matched by its names: certbot named this lineage after its first domain.
      { id: 'api', domains: [`api.${zone}`], keyType: 'rsa-2048' },
    ],
  };
}

async function writeConfig(dir: string, obj: unknown): Promise<string> {
  const path = join(dir, 'certkeeper.json');
  await writeFile(path, JSON.stringify(obj));
  return path;
}

const live = (name: string, file: string) => readFile(join(certbotDir, 'live', name, file), 'utf8');
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();

async function secretVersions(id: string): Promise<number> {
  const out = await sm.send(new ListSecretVersionIdsCommand({ SecretId: id, IncludeDeprecated: true }));
  return out.Versions?.length ?? 0;
}

beforeAll(async () => {
  for (const [k, v] of Object.entries(shared.motoEnv)) process.env[k] = v;
  sm = new SecretsManagerClient({});
  pebble = await startOwnPebble();
  work = await tempDir('ck-import-certbot-');
  zone = uniqueZone('cb');
  // One after the other: certbot locks its config directory.
  await certbotIssue(pebble, work, [zone, `*.${zone}`], { certName: 'site' });
  await certbotIssue(pebble, work, [`api.${zone}`], { keyType: 'rsa', rsaKeySize: 2048 });
  certbotDir = join(work, 'config');
  for (const name of ['site', `api.${zone}`]) registerSecret(await live(name, 'privkey.pem'));
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('import --from certbot (certbot 2.x output)', () => {
  let configPath: string;
  let storeDir: string;

  it('imports both lineages with their serials, into Secrets Manager and the file store, without an ACME order', async () => {
    storeDir = join(work, 'store');
    configPath = await writeConfig(work, configFor(storeDir));
    const before = acmeCounts(pebble);

    const r = await cli(['import', '--from', 'certbot', certbotDir, '-c', configPath, '--json']);
    expect(r.stderr).not.toContain('refused');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: { name: string; status: string; id: string; serialNumber: string }[];
    };
    const byId = Object.fromEntries(report.results.map((x) => [x.id, x]));
    expect(byId.site).toMatchObject({ name: 'site', status: 'imported' });
    expect(byId.api).toMatchObject({ name: `api.${zone}`, status: 'imported' });

    const siteSerial = serialOf(await live('site', 'cert.pem'));
    const apiSerial = serialOf(await live(`api.${zone}`, 'cert.pem'));
    expect(byId.site?.serialNumber).toBe(siteSerial);
    expect(byId.api?.serialNumber).toBe(apiSerial);

    // Secrets Manager holds certbot's certificate, chain and key (PKCS#8), marked as imported.
    const secret = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    const stored = JSON.parse(secret.SecretString as string) as StoredCertificate;
    registerSecret(stored.privateKey);
    expect(stored).toMatchObject({
      format: 'certkeeper/v1',
      id: 'site',
      domains: [zone, `*.${zone}`],
      serialNumber: siteSerial,
      keyType: 'ec-p256',
      issuedBy: { via: 'import', runId: `certbot:${certbotDir}` },
    });
    expect(stored.certificate).toBe(await live('site', 'cert.pem'));
    expect(stored.chain).toBe(await live('site', 'chain.pem'));
    expect(stored.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(
      new X509Certificate(stored.certificate).checkPrivateKey(
        await import('node:crypto').then((c) => c.createPrivateKey(stored.privateKey)),
      ),
    ).toBe(true);
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).Tags ?? [];
    expect(tags).toContainEqual({ Key: 'certkeeper:not-after', Value: stored.notAfter });

    // The file store: the RSA lineage, as certbot wrote it.
    const meta = JSON.parse(await readFile(join(storeDir, 'api', 'meta.json'), 'utf8')) as StoredCertificate;
    expect(meta).toMatchObject({
      id: 'api',
      serialNumber: apiSerial,
      keyType: 'rsa-2048',
      issuedBy: { via: 'import' },
    });
    expect(await readFile(join(storeDir, 'api', 'cert.pem'), 'utf8')).toBe(await live(`api.${zone}`, 'cert.pem'));

    expect(acmeCounts(pebble)).toEqual(before);
  });

  it('the next run skips them: not due, no order, no signed ACME request (only the directory, for ARI)', async () => {
    const before = acmeCounts(pebble);
    const r = await cli(['run', '--json', '-c', configPath]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: { id: string; status: string; reason: string; serialNumber: string }[];
    };
    expect(report.results.map((x) => [x.id, x.status])).toEqual([
      ['site', 'skipped'],
      ['api', 'skipped'],
    ]);
    expect(report.results[0]?.reason).toMatch(/^not due/);
    expect(report.results[0]?.serialNumber).toBe(serialOf(await live('site', 'cert.pem')));
    expect(acmeCounts(pebble)).toEqual(before);
  });

  it('importing again writes nothing: same secret version, same file-store version', async () => {
    const versions = await secretVersions(secretId);
    const fileVersions = await readdir(join(storeDir, '.versions', 'api'));
    const r = await cli(['import', '--from', 'certbot', certbotDir, '-c', configPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/site\s+unchanged/);
    expect(r.stdout).toMatch(/unchanged\s+api/);
    expect(await secretVersions(secretId)).toBe(versions);
    expect(await readdir(join(storeDir, '.versions', 'api'))).toEqual(fileVersions);
  });

  it('once due, run renews an imported certificate like any other (one ACME order)', async () => {
    const dir = await tempDir('ck-import-due-');
    const storeDir = join(dir, 'store');
    const due = { ...configFor(storeDir), renewal: { renewBefore: '2000d' } }; // more than Pebble's five years
    const path = await writeConfig(dir, due);
    expect((await cli(['import', '--from', 'certbot', certbotDir, '-c', path, '--only', 'api'])).code).toBe(0);
    const imported = serialOf(await live(`api.${zone}`, 'cert.pem'));
    const before = acmeCounts(pebble);
    const r = await cli(['run', '--json', '-c', path, '--only', 'api']);
    expect(r.code, r.stderr).toBe(0);
    const [result] = (JSON.parse(r.stdout) as { results: { status: string; reason: string; serialNumber: string }[] })
      .results;
    expect(result?.status).toBe('renewed');
    expect(result?.reason).toMatch(/renew before 2000d/);
    expect(result?.serialNumber).not.toBe(imported);
    expect(acmeCounts(pebble).orders).toBe(before.orders + 1);
    const meta = JSON.parse(await readFile(join(storeDir, 'api', 'meta.json'), 'utf8')) as StoredCertificate;
    expect(meta).toMatchObject({ serialNumber: result?.serialNumber, keyType: 'rsa-2048', issuedBy: { via: 'cli' } });
    registerSecret(await readFile(join(storeDir, 'api', 'privkey.pem'), 'utf8'));
  });

  describe('refuses, with a clear message and nothing written', () => {
    /** A copy of certbot's directory with one lineage's live file replaced, imported into fresh stores. */
    async function importBroken(file: 'privkey.pem' | 'chain.pem', content: string) {
      const copy = await tempDir('ck-import-broken-');
      await cp(certbotDir, copy, { recursive: true, verbatimSymlinks: true });
      const target = join(copy, 'live', 'site', file);
      await rm(target);
      await writeFile(target, content);
      const freshSecret = `${secretId}-broken-${Math.random().toString(36).slice(2, 6)}`;
      const freshStore = join(copy, 'store');
      const config = configFor(freshStore, { store: { type: 'aws-secrets-manager', secretId: freshSecret } });
      const r = await cli([
        'import',
        '--from',
        'certbot',
        copy,
        '-c',
        await writeConfig(copy, config),
        '--only',
        'site',
      ]);
      const secretMissing = await sm
        .send(new GetSecretValueCommand({ SecretId: freshSecret }))
        .then(() => false)
        .catch((e: Error) => e.name === 'ResourceNotFoundException');
      return { ...r, secretMissing };
    }

    it('a key that does not match the certificate', async () => {
      const r = await importBroken('privkey.pem', await live(`api.${zone}`, 'privkey.pem'));
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/site\s+refused.*the private key does not match the certificate/);
      expect(r.secretMissing).toBe(true);
    });

    it('a chain that does not link to the certificate', async () => {
      const other = await createTestCa('unrelated');
      const r = await importBroken('chain.pem', other.intermediatePem);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/site\s+refused.*the chain does not link/);
      expect(r.secretMissing).toBe(true);
    });

    it('an encrypted key', async () => {
      const key = await live('site', 'privkey.pem');
      const r = await importBroken('privkey.pem', encrypted(key));
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/site\s+refused.*encrypted/);
      expect(r.stdout).toContain('hint: decrypt it first');
      expect(r.secretMissing).toBe(true);
    });

    it('an expired certificate, unless --allow-expired', async () => {
      // Pebble's certificates last five years: look at them from six years on.
      const clock = fakeClock(Date.now() + 6 * 365 * 86_400_000);
      const dir = await tempDir('ck-import-expired-');
      const config = parseConfig(configFor(join(dir, 'store')), { env: {} });
      const log = captureLog();
      const adapters = createAdapters(config, { clock, logger: log.logger, env: {}, entry: 'cli' });
      const reader = await openCertbotReader({ path: certbotDir });
      const refused = await importCertificates(
        config,
        reader,
        { only: ['api'] },
        { adapters, clock, logger: log.logger },
      );
      const api = refused.results.find((x) => x.id === 'api' || x.name === `api.${zone}`);
      expect(api).toMatchObject({ status: 'refused' });
      expect(api?.reason).toMatch(/expired on/);
      await expect(readFile(join(dir, 'store', 'api', 'meta.json'))).rejects.toThrow();

      const allowed = await importCertificates(
        config,
        reader,
        { only: ['api'], allowExpired: true },
        { adapters, clock, logger: log.logger },
      );
      expect(allowed.results.find((x) => x.id === 'api')).toMatchObject({ status: 'imported' });
      expect(allowed.results.find((x) => x.id === 'api')?.warnings?.[0]).toMatch(/next run renews it at once/);
      expect(scanForSecrets('import log', log.lines.join('\n'))).toEqual([]);
    });
  });
});
