import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/adapters/store/file/store.js';
import { main } from '../../src/entrypoints/cli/main.js';
import { systemClock } from '../../src/ports/clock.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { tempDir } from '../support/certkeeper.js';
import { registerSecret, scanForSecrets } from '../support/secrets-guard.js';
import { createTestCa, type Issued, type TestCa, toSec1 } from '../support/test-ca.js';

/**
 * Import through the CLI into the file store, from layouts built here: acme.sh's (not packaged for
 * Debian: its layout is built from acme.sh's `_initpath`, `_split_cert_chain` and `_setopt`) and
 * plain PEM files; and the core's decisions (matching, idempotence, never going backwards).
 */

let ca: TestCa;
const DAY = 86_400_000;

async function cli(args: string[], env: Record<string, string | undefined> = { PATH: process.env.PATH }) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  expect(scanForSecrets('certkeeper import output', stdout + stderr)).toEqual([]);
  return { code, stdout, stderr };
}

async function issue(names: string[], opts?: Parameters<TestCa['issue']>[1]): Promise<Issued> {
  const issued = await ca.issue(names, opts);
  registerSecret(issued.keyPem);
  return issued;
}

async function configFile(dir: string, certificates: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const path = join(dir, 'certkeeper.json');
  await writeFile(
    path,
    JSON.stringify({
      version: 1,
      acme: { directory: 'https://127.0.0.1:9/dir' },
      defaults: {
        dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' },
        store: { type: 'file', dir: join(dir, 'store') },
      },
      certificates,
      ...extra,
    }),
  );
  return path;
}

async function storedMeta(dir: string, id: string): Promise<StoredCertificate | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'store', id, 'meta.json'), 'utf8')) as StoredCertificate;
  } catch {
    return undefined;
  }
}

async function pemFiles(dir: string, issued: Issued, name = 'site') {
  const cert = join(dir, `${name}.crt`);
  const full = join(dir, `${name}.fullchain.pem`);
  const chain = join(dir, `${name}.chain.pem`);
  const key = join(dir, `${name}.key`);
  await writeFile(cert, issued.certPem);
  await writeFile(full, issued.certPem + issued.chainPem);
  await writeFile(chain, issued.chainPem);
  await writeFile(key, issued.keyPem, { mode: 0o600 });
  return { cert, full, chain, key };
}

beforeAll(async () => {
  ca = await createTestCa();
});

describe('import --from acme.sh (its documented layout)', () => {
  let home: string;
  let dir: string;
  const ecc = 'ecc.example.net';
  const rsa = 'rsa.example.net';
  const wild = '*.wild.example.net';
  const issued: Record<string, Issued> = {};

  beforeAll(async () => {
    dir = await tempDir('ck-acmesh-');
    home = join(dir, '.acme.sh');
    issued[ecc] = await issue([ecc, `www.${ecc}`]);
    issued[rsa] = await issue([rsa], { key: 'rsa-2048' });
    issued[wild] = await issue([wild, 'wild.example.net']);
    // What acme.sh leaves besides the certificates: its account, CA accounts, hook scripts.
    await mkdir(join(home, 'ca', 'acme-v02.api.letsencrypt.org', 'directory'), { recursive: true });
    await writeFile(join(home, 'account.conf'), "LOG_FILE='/root/.acme.sh/acme.sh.log'\nAUTO_UPGRADE='1'\n");
    await writeFile(join(home, 'ca', 'acme-v02.api.letsencrypt.org', 'directory', 'ca.conf'), "CA_EMAIL=''\n");
    await mkdir(join(home, 'deploy'));
    await mkdir(join(home, 'dnsapi'));
    const layout = async (domain: string, folder: string, key: string, keyLength: string, alt: string) => {
      const d = join(home, folder);
      await mkdir(d, { recursive: true });
      const i = issued[domain] as Issued;
      // _split_cert_chain: the leaf alone in <domain>.cer, the rest in ca.cer, both in fullchain.cer.
      await writeFile(join(d, `${domain}.cer`), i.certPem);
      await writeFile(join(d, 'ca.cer'), i.chainPem);
      await writeFile(join(d, 'fullchain.cer'), i.certPem + i.chainPem);
      await writeFile(join(d, `${domain}.key`), key, { mode: 0o600 });
      await writeFile(
        join(d, `${domain}.csr`),
        '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n',
      );
      // _setopt writes Key='value' lines; hook commands go base64-wrapped.
      await writeFile(
        join(d, `${domain}.conf`),
        [
          `Le_Domain='${domain}'`,
          `Le_Alt='${alt}'`,
          "Le_Webroot='dns_cf'",
          "Le_PreHook=''",
          "Le_RenewHook='__ACME_BASE64__START_c3lzdGVtY3RsIHJlbG9hZCBuZ2lueA==__ACME_BASE64__END_'",
          "Le_API='https://acme-v02.api.letsencrypt.org/directory'",
          `Le_Keylength='${keyLength}'`,
          "Le_CertCreateTime='1764547200'",
          "Le_NextRenewTimeStr='2026-01-29T00:00:00Z'",
          "Le_NextRenewTime='1769644800'",
          '',
        ].join('\n'),
      );
    };
    // acme.sh keeps EC keys as `openssl ecparam -genkey` writes them (SEC1), RSA ones as PKCS#8.
    await layout(ecc, `${ecc}_ecc`, toSec1((issued[ecc] as Issued).keyPem), 'ec-256', `www.${ecc}`);
    await layout(rsa, rsa, (issued[rsa] as Issued).keyPem, '2048', 'no');
    await layout(wild, `${wild}_ecc`, toSec1((issued[wild] as Issued).keyPem), 'ec-256', 'wild.example.net');
    // An order that never completed: a conf, no certificate.
    await mkdir(join(home, 'broken.example.net_ecc'));
    await writeFile(
      join(home, 'broken.example.net_ecc', 'broken.example.net.conf'),
      "Le_Domain='broken.example.net'\n",
    );
  });

  it('imports ECC, RSA and wildcard directories, and says which one it could not read', async () => {
    const config = await configFile(dir, [
      { id: 'ecc', domains: [ecc, `www.${ecc}`] },
      { id: 'rsa', domains: [rsa], keyType: 'rsa-2048' },
      { id: 'wild', domains: ['wild.example.net', wild] },
    ]);
    const r = await cli(['import', '--from', 'acme.sh', home, '-c', config, '--json']);
    expect(r.code).toBe(1); // the broken one
    const report = JSON.parse(r.stdout) as { results: Record<string, unknown>[]; summary: Record<string, number> };
    expect(report.summary).toMatchObject({ imported: 3, refused: 1 });
    const broken = report.results.find((x) => x.name === 'broken.example.net');
    expect(broken?.reason).toMatch(/broken\.example\.net\.cer and broken\.example\.net\.key missing/);
    const byId = Object.fromEntries(report.results.filter((x) => x.id).map((x) => [x.id, x]));
    expect(byId.ecc).toMatchObject({
      name: ecc,
      status: 'imported',
      metadata: {
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        keyType: 'ec-256',
        domains: [ecc, `www.${ecc}`],
      },
    });
    expect(byId.wild).toMatchObject({ name: wild, status: 'imported' });

    for (const [id, domain, keyType] of [
      ['ecc', ecc, 'ec-p256'],
      ['rsa', rsa, 'rsa-2048'],
      ['wild', wild, 'ec-p256'],
    ] as const) {
      const meta = await storedMeta(dir, id);
      const i = issued[domain] as Issued;
      expect(meta).toMatchObject({
        serialNumber: i.serialNumber,
        keyType,
        issuedBy: { via: 'import', runId: `acme.sh:${home}` },
      });
      const key = await readFile(join(dir, 'store', id, 'privkey.pem'), 'utf8');
      // The SEC1 key is stored as PKCS#8 (the stored format's), and still the certificate's.
      expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(new X509Certificate(i.certPem).checkPrivateKey(createPrivateKey(key))).toBe(true);
      expect(await readFile(join(dir, 'store', id, 'chain.pem'), 'utf8')).toBe(i.chainPem);
    }
  });

  it('a directory that is not acme.sh home is a usage error naming what it expects', async () => {
    const config = await configFile(dir, [{ id: 'any', domains: ['any.example.net'] }]);
    const r = await cli(['import', '--from', 'acme.sh', join(home, 'deploy'), '-c', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds no certificate directory');
    expect(r.stderr).toContain("hint: give acme.sh's home");
  });
});

describe('import --from pem', () => {
  it('a full-chain --cert, or a leaf with --chain; a leaf alone is refused', async () => {
    const dir = await tempDir('ck-pem-');
    const i = await issue(['pem.example.org']);
    const files = await pemFiles(dir, i);
    const config = await configFile(dir, [{ id: 'pem', domains: ['pem.example.org'] }]);

    const alone = await cli(['import', '--from', 'pem', '--cert', files.cert, '--key', files.key, '-c', config]);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('no intermediate certificate');
    expect(alone.stdout).toContain('hint: give the chain too');
    expect(await storedMeta(dir, 'pem')).toBeUndefined();

    const full = await cli(['import', '--from', 'pem', '--cert', files.full, '--key', files.key, '-c', config]);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/imported\s+pem/);
    expect(await storedMeta(dir, 'pem')).toMatchObject({
      serialNumber: i.serialNumber,
      issuedBy: { runId: `pem:${files.full}` },
    });

    const split = await cli([
      'import',
      '--from',
      'pem',
      '--cert',
      files.cert,
      '--chain',
      files.chain,
      '--key',
      files.key,
      '-c',
      config,
    ]);
    expect(split.code).toBe(0);
    expect(split.stdout).toMatch(/unchanged\s+pem/);
  });

  it('refuses a chain out of order (the root before the intermediate)', async () => {
    const dir = await tempDir('ck-pem-order-');
    const i = await issue(['order.example.org']);
    const files = await pemFiles(dir, i);
    await writeFile(files.chain, ca.rootPem + ca.intermediatePem);
    const config = await configFile(dir, [{ id: 'order', domains: ['order.example.org'] }]);
    const r = await cli([
      'import',
      '--from',
      'pem',
      '--cert',
      files.cert,
      '--chain',
      files.chain,
      '--key',
      files.key,
      '-c',
      config,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /the chain does not link: the certificate .* is not signed by the next one \(CN=certkeeper test root\)/,
    );
    expect(await storedMeta(dir, 'order')).toBeUndefined();
  });

  it('usage errors exit 2', async () => {
    const dir = await tempDir('ck-pem-usage-');
    const config = await configFile(dir, [{ id: 'any', domains: ['any.example.org'] }]);
    for (const args of [
      ['import', '-c', config, '/x'],
      ['import', '--from', 'caddy', '/x', '-c', config],
      ['import', '--from', 'pem', '--cert', '/x.pem', '-c', config],
      ['import', '--from', 'certbot', '-c', config],
      ['import', '--from', 'certbot', '/nonexistent', '-c', config],
      ['import', '--from', 'lego', '/x', '--cert', '/x.pem', '-c', config],
      ['import', '--from', 'lego', '/x', '--json', '--print-config', '-c', config],
    ]) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
  });
});

describe('what the core decides', () => {
  it('--dry-run lists what would be imported and writes nothing', async () => {
    const dir = await tempDir('ck-import-dry-');
    const files = await pemFiles(dir, await issue(['dry.example.org']));
    const config = await configFile(dir, [{ id: 'dry', domains: ['dry.example.org'] }]);
    const r = await cli([
      'import',
      '--from',
      'pem',
      '--cert',
      files.full,
      '--key',
      files.key,
      '-c',
      config,
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would-import\s+dry/);
    expect(r.stdout).toContain('(nothing written)');
    await expect(readdir(join(dir, 'store'))).rejects.toThrow();
  });

  it('never replaces a newer stored certificate with an older one', async () => {
    const dir = await tempDir('ck-import-older-');
    const newer = await pemFiles(dir, await issue(['keep.example.org'], { days: 90 }), 'newer');
    const older = await pemFiles(
      dir,
      await issue(['keep.example.org'], { notBefore: new Date(Date.now() - 30 * DAY), days: 60 }),
      'older',
    );
    const config = await configFile(dir, [{ id: 'keep', domains: ['keep.example.org'] }]);
    expect((await cli(['import', '--from', 'pem', '--cert', newer.full, '--key', newer.key, '-c', config])).code).toBe(
      0,
    );
    const before = await storedMeta(dir, 'keep');
    const r = await cli(['import', '--from', 'pem', '--cert', older.full, '--key', older.key, '-c', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/skipped\s+keep.*already holds a newer certificate/);
    expect(await storedMeta(dir, 'keep')).toEqual(before);
  });

  it('of two found for one certificate the one valid longest wins; names matching two configs need --only', async () => {
    const dir = await tempDir('ck-import-two-');
    const home = join(dir, 'lego');
    await mkdir(join(home, 'certificates'), { recursive: true });
    const write = async (base: string, i: Issued) => {
      await writeFile(join(home, 'certificates', `${base}.crt`), i.certPem + i.chainPem);
      await writeFile(join(home, 'certificates', `${base}.issuer.crt`), i.chainPem);
      await writeFile(join(home, 'certificates', `${base}.key`), toSec1(i.keyPem));
    };
    const short = await issue(['two.example.org'], { days: 30 });
    const long = await issue(['two.example.org'], { days: 80 });
    await write('two.example.org', short);
    await write('two-copy', long);
    const config = await configFile(dir, [{ id: 'two', domains: ['two.example.org'] }]);
    const r = await cli(['import', '--from', 'lego', home, '-c', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/two\.example\.org\s+skipped\s+two\s.*two-copy .* is newer/);
    expect((await storedMeta(dir, 'two'))?.serialNumber).toBe(long.serialNumber);

    const both = await configFile(dir, [
      { id: 'one', domains: ['two.example.org'] },
      { id: 'other', domains: ['two.example.org'] },
    ]);
    const ambiguous = await cli(['import', '--from', 'lego', home, '-c', both]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stdout).toContain('its names match several configured certificates: one, other');
    const chosen = await cli(['import', '--from', 'lego', home, '-c', both, '--only', 'other']);
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toMatch(/imported\s+other/);
  });

  it('warns when the key type differs from the config: the next run would replace it', async () => {
    const dir = await tempDir('ck-import-keytype-');
    const files = await pemFiles(dir, await issue(['rsa.example.org'], { key: 'rsa-2048' }));
    const config = await configFile(dir, [{ id: 'rsa', domains: ['rsa.example.org'] }]);
    const r = await cli(['import', '--from', 'pem', '--cert', files.full, '--key', files.key, '-c', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning: its key is rsa-2048 but the config says ec-p256');
  });

  it('hooks run only with --hooks, and see the import as a renewal', async () => {
    const dir = await tempDir('ck-import-hooks-');
    const files = await pemFiles(dir, await issue(['hook.example.org']));
    const marker = join(dir, 'hook.out');
    const hooks = [
      {
        type: 'command',
        run: `echo "$CERTKEEPER_EVENT $CERTKEEPER_ID $CERTKEEPER_SERIAL $(head -c 27 "$CERTKEEPER_KEY_FILE")" >> ${marker}`,
      },
    ];
    const config = await configFile(dir, [{ id: 'hook', domains: ['hook.example.org'], hooks }]);
    const quiet = await cli(['import', '--from', 'pem', '--cert', files.full, '--key', files.key, '-c', config]);
    expect(quiet.code).toBe(0);
    await expect(readFile(marker, 'utf8')).rejects.toThrow();

    const dir2 = await tempDir('ck-import-hooks2-');
    const config2 = await configFile(dir2, [{ id: 'hook', domains: ['hook.example.org'], hooks }]);
    const loud = await cli([
      'import',
      '--from',
      'pem',
      '--cert',
      files.full,
      '--key',
      files.key,
      '-c',
      config2,
      '--hooks',
      '--json',
    ]);
    expect(loud.code).toBe(0);
    const serial = new X509Certificate(await readFile(files.cert, 'utf8')).serialNumber.toLowerCase();
    expect(await readFile(marker, 'utf8')).toBe(`certificate.renewed hook ${serial} -----BEGIN PRIVATE KEY-----\n`);
    expect(JSON.parse(loud.stdout).results[0].hooks).toMatchObject([{ type: 'command', status: 'ok' }]);
  });

  it('reports a certificate under a live lease as locked and writes nothing', async () => {
    const dir = await tempDir('ck-import-locked-');
    const files = await pemFiles(dir, await issue(['locked.example.org']));
    const config = await configFile(dir, [{ id: 'locked', domains: ['locked.example.org'] }]);
    const store = new FileStore(join(dir, 'store'), 'locked', systemClock);
    const held = await store.acquireLease('cli:someone-else', 60_000, async () => {});
    expect(held.kind).toBe('acquired');
    const r = await cli(['import', '--from', 'pem', '--cert', files.full, '--key', files.key, '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/locked\s+locked.*another run holds the lease \(cli:someone-else\)/);
    expect(await storedMeta(dir, 'locked')).toBeUndefined();
    if (held.kind === 'acquired') await held.lease.release();
  });
});
