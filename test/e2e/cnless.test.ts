import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureItems, summaryLine, summaryTable } from '../../src/entrypoints/action/summary.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { useEnv } from '../faults/helpers.js';
import { type AriShim, startAriShim } from '../support/ari-shim.js';
import { localConfig, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

/**
 * Certificates without a subject CN, as a newer CA issues them (Let's Encrypt's tlsserver and
 * shortlived; newer Pebble unless a profile promotes one): the shim's default profile drops the CN,
 * so every order, with or without a profile, gets one. Before certinfo handled Node's `undefined`
 * subject, such a certificate failed the run after issuance (a TypeError) and was thrown away.
 */

const stack = getStack();
const setEnv = useEnv();
let shim: AriShim;

beforeAll(async () => {
  shim = await startAriShim({
    upstream: stack,
    profiles: { tlsserver: { description: 'no CN', commonName: false } },
    defaultProfile: 'tlsserver',
  });
  setEnv(stack.motoEnv);
});
afterAll(() => shim?.stop());

const viaShim = (dir: string, certificates: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  localConfig(
    { ...stack, acmeDirectory: shim.directoryUrl, caBundlePath: shim.caBundlePath },
    dir,
    certificates,
    extra,
  );

describe('a certificate without a subject CN', () => {
  it('is issued, stored in the file store, read back by the next run, reported, and its event sent', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('nocn');
    const out = join(dir, 'hook.txt');
    const raw = viaShim(dir, [
      {
        id: 'nocn',
        domains: [zone, `*.${zone}`],
        hooks: [
          {
            type: 'command',
            run: `printf '%s %s %s' "$CERTKEEPER_EVENT" "$CERTKEEPER_SERIAL" "$CERTKEEPER_DOMAINS" > '${out}'`,
          },
        ],
      },
    ]);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const report = await runLocal(raw, { env });
    const [r] = report.results;
    expect(r, JSON.stringify(r?.error)).toMatchObject({ status: 'renewed', health: 'ok' });
    const leaf = new X509Certificate(await readFile(join(dir, 'nocn', 'cert.pem'), 'utf8'));
    expect(leaf.subject).toBeUndefined();
    expect(leaf.serialNumber.toLowerCase()).toBe(r!.serialNumber);
    expect(await readFile(out, 'utf8')).toBe(`certificate.renewed ${r!.serialNumber} ${zone},*.${zone}`);
    const meta = JSON.parse(await readFile(join(dir, 'nocn', 'meta.json'), 'utf8'));
    expect(meta.issuer).toMatch(/^CN=ARI shim profile CA/);

    const again = await runLocal(raw, { env });
    expect(again.results[0]).toMatchObject({ status: 'skipped', serialNumber: r!.serialNumber, health: 'ok' });

    const table = JSON.stringify(summaryTable(report));
    expect(table).toContain('nocn');
    expect(summaryLine(report)).toContain('1');
    expect(failureItems(report)).toEqual([]);
  });

  it('is stored in Secrets Manager and read back', async () => {
    const zone = uniqueZone('nocnsm');
    const secretId = `certkeeper/test-nocn/${zone}`;
    const raw = viaShim(await tempDir(), [
      { id: 'nocnsm', domains: [zone], store: { type: 'aws-secrets-manager', secretId } },
    ]);
    const report = await runLocal(raw);
    expect(report.results[0], JSON.stringify(report.results[0]?.error)).toMatchObject({ status: 'renewed' });
    const sm = new SecretsManagerClient({});
    const stored = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString as string,
    ) as StoredCertificate;
    expect(new X509Certificate(stored.certificate).subject).toBeUndefined();
    expect((await runLocal(raw)).results[0]).toMatchObject({ status: 'skipped', serialNumber: stored.serialNumber });
  });
});
