import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, runLocal, tempDir, txtValues } from '../../../support/certkeeper.js';
import { issuedSecrets } from '../../../support/fakes/google-cloud-dns.js';
import { getStack, routeZones } from '../../../support/stack.js';
import { type GoogleSetup, googleSetup, PROJECT } from './helpers.js';

/**
 * Apex + wildcard issuance end to end: the shared Pebble validates DNS-01 through the Cloud DNS
 * fake's name servers, so the certificate is issued only if the provider really wrote both values
 * (through the real SDK, with workload identity federation as google-github-actions/auth sets it
 * up), and none of ours is left afterwards. The provider comes from the config through the registry,
 * as in a real run.
 */

let g: GoogleSetup;
/** The shared Pebble, validating this file's zone against its server (routeZones). */
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;

beforeAll(async () => {
  g = await googleSetup({ zones: [{ name: 'e2e-example-com', dnsName: 'gcp-e2e.example.com.' }] });
  unroute = await routeZones([{ zone: 'gcp-e2e.example.com', address: g.fake.dns.address }]);
}, 60_000);

afterAll(async () => {
  await unroute?.();
  await g?.fake.stop();
});

describe('ACME DNS-01 through Google Cloud DNS (fake) with workload identity federation', () => {
  it('issues apex + wildcard and leaves no TXT value of ours', async () => {
    const dir = await tempDir();
    const credentials = await g.credentials({ source: 'url', impersonate: true });
    const log = captureLog();
    const started = performance.now();
    const report = await runLocal(
      {
        version: 1,
        acme: { directory: pebble.acmeDirectory, caBundle: pebble.caBundlePath },
        defaults: {
          dns: {
            provider: 'google-cloud-dns',
            project: PROJECT,
            endpoint: g.fake.endpoint,
            propagation: { resolvers: [g.fake.dns.address], timeout: '20s', interval: '100ms' },
          },
          store: { type: 'file', dir },
        },
        certificates: [{ id: 'gcp-site', domains: ['gcp-e2e.example.com', '*.gcp-e2e.example.com'] }],
      },
      // Application Default Credentials: what google-github-actions/auth exports.
      { log, env: { GOOGLE_APPLICATION_CREDENTIALS: credentials } },
    );
    const elapsed = performance.now() - started;
    const [r] = report.results;
    expect(r?.error, log.lines.join('\n')).toBeUndefined();
    expect(r).toMatchObject({ id: 'gcp-site', status: 'renewed' });
    const leaf = new X509Certificate(await readFile(join(dir, 'gcp-site', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toContain('DNS:*.gcp-e2e.example.com');
    expect(leaf.subjectAltName).toContain('DNS:gcp-e2e.example.com');

    const name = '_acme-challenge.gcp-e2e.example.com';
    expect(g.fake.rrset(name)).toBeUndefined();
    expect(await txtValues(g.fake.dns.address, name)).toEqual([]);
    // Both values went out in one Change and were removed in one.
    const [written, removed] = g.fake.changes('e2e-example-com');
    expect(written?.additions[0]?.rrdatas).toHaveLength(2);
    expect(removed?.deletions[0]?.rrdatas).toHaveLength(2);
    expect(g.fake.calls).toEqual([
      'github.oidc',
      'sts.token',
      'iam.generateAccessToken',
      'managedZones.list',
      'resourceRecordSets.list',
      'changes.create',
      'changes.get',
      'resourceRecordSets.list',
      'changes.create',
    ]);
    const text = log.lines.join('\n');
    for (const s of issuedSecrets) expect(text).not.toContain(s);
    expect(elapsed).toBeLessThan(10_000);
  });
});
