import { X509Certificate } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { main } from '../../src/entrypoints/cli/main.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { tempDir, uniqueZone } from '../support/certkeeper.js';
import { acmeCounts, legoIssue } from '../support/import-tools.js';
import { registerSecret, scanForSecrets } from '../support/secrets-guard.js';
import { getStack, type PebbleStack, startOwnPebble } from '../support/stack.js';
import { createTestCa } from '../support/test-ca.js';

/**
 * lego 4.x (the Debian package) issues an apex + wildcard certificate against a Pebble of this
 * file's own; certkeeper imports lego's `--path` into Secrets Manager with an ACM export (the
 * shared moto), and prints config entries for what it does not know.
 */

const shared = getStack();
let pebble: PebbleStack;
let work: string;
let legoPath: string;
let zone: string;
let sm: SecretsManagerClient;
let acm: ACMClient;
const secretId = `import-test/${Math.random().toString(36).slice(2, 8)}/lego`;

async function cli(args: string[], cwd?: string) {
  let stdout = '';
  let stderr = '';
  const saved = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
    expect(scanForSecrets('certkeeper output', stdout + stderr)).toEqual([]);
    return { code, stdout, stderr };
  } finally {
    process.chdir(saved);
  }
}

function baseConfig(certificates: Record<string, unknown>[]) {
  return {
    version: 1,
    acme: { directory: pebble.acmeDirectory, caBundle: pebble.caBundlePath },
    defaults: {
      dns: { provider: 'challtestsrv', url: pebble.challtestsrvUrl, propagation: { resolvers: [pebble.dnsResolver] } },
      store: { type: 'aws-secrets-manager' },
    },
    certificates,
  };
}

async function writeConfig(obj: unknown, name = 'certkeeper.json'): Promise<string> {
  const path = join(work, name);
  await writeFile(path, JSON.stringify(obj));
  return path;
}

const legoFile = (ext: string) => readFile(join(legoPath, 'certificates', `_.${zone}${ext}`), 'utf8');

beforeAll(async () => {
  for (const [k, v] of Object.entries(shared.motoEnv)) process.env[k] = v;
  sm = new SecretsManagerClient({});
  acm = new ACMClient({});
  pebble = await startOwnPebble();
  work = await tempDir('ck-import-lego-');
  zone = uniqueZone('lg');
  legoPath = join(work, 'lego');
  // The wildcard first: lego names the files after the first domain, `_.<zone>.*`.
  await legoIssue(pebble, legoPath, [`*.${zone}`, zone]);
  registerSecret(await legoFile('.key'));
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('import --from lego (lego 4.x output)', () => {
  let configPath: string;

  it('imports the wildcard certificate by its names into Secrets Manager and ACM, without an ACME order', async () => {
    configPath = await writeConfig(
      baseConfig([
        {
          id: 'web',
          domains: [zone, `*.${zone}`],
          store: { type: 'aws-secrets-manager', secretId },
          exports: [{ type: 'aws-acm', region: 'us-east-1' }],
        },
      ]),
    );
    const before = acmeCounts(pebble);
    const r = await cli(['import', '--from', 'lego', legoPath, '-c', configPath, '--json']);
    expect(r.code).toBe(0);
    const [result] = (JSON.parse(r.stdout) as { results: Record<string, unknown>[] }).results;
    const serial = new X509Certificate(await legoFile('.crt')).serialNumber.toLowerCase();
    expect(result).toMatchObject({ name: `*.${zone}`, id: 'web', status: 'imported', serialNumber: serial });
    expect(result?.reason).toBe('matches web by names');

    const stored = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString as string,
    ) as StoredCertificate;
    registerSecret(stored.privateKey);
    expect(stored).toMatchObject({ serialNumber: serial, domains: [zone, `*.${zone}`], keyType: 'ec-p256' });
    expect(stored.issuedBy).toEqual({ via: 'import', runId: `lego:${legoPath}` });
    // lego bundles leaf + issuer in .crt and keeps a SEC1 key: stored split, and as PKCS#8.
    expect(stored.chain).toBe(await legoFile('.issuer.crt'));
    expect(stored.fullchain).toBe(await legoFile('.crt'));
    expect(stored.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await legoFile('.key')).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);

    // The export ran as after a renewal: ACM holds the same certificate, its ARN is remembered.
    const arn = stored.exports?.['aws-acm'];
    expect(arn).toMatch(/^arn:aws:acm:us-east-1:/);
    expect(result?.exports).toEqual({ 'aws-acm': arn });
    const described = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    // AWS prints the serial as colon-separated hex; moto prints it in decimal.
    const acmSerial = described.Certificate?.Serial ?? '';
    expect(BigInt(acmSerial.includes(':') ? `0x${acmSerial.replace(/:/g, '')}` : acmSerial)).toBe(
      BigInt(`0x${serial}`),
    );

    expect(acmeCounts(pebble)).toEqual(before);
  });

  it('the next run skips it, and importing again writes nothing', async () => {
    const before = acmeCounts(pebble);
    const run = await cli(['run', '--json', '-c', configPath]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { results: { status: string }[] }).results.map((x) => x.status)).toEqual([
      'skipped',
    ]);
    expect(acmeCounts(pebble)).toEqual(before);

    const versions = async () =>
      (await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }))).Versions
        ?.length;
    const n = await versions();
    const again = await cli(['import', '--from', 'lego', legoPath, '-c', configPath]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged\s+web/);
    expect(await versions()).toBe(n);
  });

  it('--print-config prints an entry that, added to the config, imports it', async () => {
    const other = baseConfig([{ id: 'unrelated', domains: [`other.${zone}`] }]);
    const path = await writeConfig(other, 'other.json');
    const r = await cli(['import', '--from', 'lego', legoPath, '-c', path, '--print-config']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/unmatched/);
    const entries = YAML.parse(r.stdout) as Record<string, unknown>[];
    const id = zone.replace(/\./g, '-');
    expect(entries).toEqual([{ id, domains: [`*.${zone}`, zone], keyType: 'ec-p256' }]);

    const secret = `${secretId}-printed`;
    other.certificates.push({
      ...(entries[0] as { id: string }),
      store: { type: 'aws-secrets-manager', secretId: secret },
    });
    const path2 = await writeConfig(other, 'other2.json');
    expect(() => parseConfig(other, { env: {} })).not.toThrow();
    const imported = await cli(['import', '--from', 'lego', legoPath, '-c', path2]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`imported\\s+${id}`));
  });

  it('--print-config without a config file prints a whole config that validates', async () => {
    const empty = await tempDir('ck-import-noconfig-');
    const r = await cli(['import', '--from', 'lego', legoPath, '--print-config'], empty);
    expect(r.code).toBe(0);
    const config = parseConfig(YAML.parse(r.stdout), { env: {} });
    expect(config.certificates.map((c) => c.domains)).toEqual([[`*.${zone}`, zone]]);
    // Without --print-config, a missing config is a usage error that says how to start one.
    const plain = await cli(['import', '--from', 'lego', legoPath], empty);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--print-config');
  });

  it('refuses a key that does not match, writing nothing', async () => {
    const copy = await tempDir('ck-import-lego-broken-');
    await cp(legoPath, copy, { recursive: true });
    const stranger = await (await createTestCa()).issue([zone]);
    await writeFile(join(copy, 'certificates', `_.${zone}.key`), stranger.keyPem);
    const secret = `${secretId}-wrongkey`;
    const path = await writeConfig(
      baseConfig([
        { id: 'web', domains: [zone, `*.${zone}`], store: { type: 'aws-secrets-manager', secretId: secret } },
      ]),
      'wrongkey.json',
    );
    const r = await cli(['import', '--from', 'lego', copy, '-c', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the private key does not match the certificate');
    await expect(sm.send(new GetSecretValueCommand({ SecretId: secret }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
