import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureDnsProvider } from '../../../../src/adapters/dns/azure-dns/provider.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { captureLog, runLocal, tempDir, txtValues } from '../../../support/certkeeper.js';
import { issuedSecrets } from '../../../support/fakes/azure-dns.js';
import { getStack, routeZones } from '../../../support/stack.js';
import { type AzureSetup, azureSetup, RESOURCE_GROUP, SUBSCRIPTION, withAzureEnv } from './helpers.js';

/**
 * Apex + wildcard issuance end to end: the shared Pebble validates DNS-01 through the Azure DNS
 * fake's name servers, so the certificate is issued only if the provider really wrote both values
 * (through the real SDKs, DefaultAzureCredential with a federated GitHub OIDC token), and none of
 * ours is left afterwards. The config goes through the registry as in a real run; the provider it
 * builds is swapped for the same one with the HTTP client that trusts the fake's certificate (the
 * only way into the Azure SDKs' TLS).
 */

let a: AzureSetup;
/** The shared Pebble, validating this file's zone against its server (routeZones). */
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;

beforeAll(async () => {
  a = await azureSetup({ zones: [{ name: 'azure-e2e.example.com' }] });
  unroute = await routeZones([{ zone: 'azure-e2e.example.com', address: a.fake.dns.address }]);
}, 60_000);

afterAll(async () => {
  await unroute?.();
  await a?.fake.stop();
});

describe('ACME DNS-01 through Azure DNS (fake) with a federated credential', () => {
  it('issues apex + wildcard and leaves no TXT value of ours', async () => {
    const dir = await tempDir();
    const env = await a.fake.federatedEnv(a.dir);
    const provider = withAzureEnv(env, () =>
      createAzureDnsProvider(
        {
          provider: 'azure-dns',
          subscriptionId: SUBSCRIPTION,
          resourceGroup: RESOURCE_GROUP,
          endpoint: a.fake.endpoint,
          ttl: 60,
          propagation: { timeoutMs: 30_000, intervalMs: 200 },
        },
        {
          clock: systemClock,
          logger: captureLog().logger,
          env: { AZURE_AUTHORITY_HOST: a.fake.authorityHost },
          httpClient: a.httpClient,
        },
      ),
    );
    const log = captureLog();
    const started = performance.now();
    const report = await runLocal(
      {
        version: 1,
        acme: { directory: pebble.acmeDirectory, caBundle: pebble.caBundlePath },
        defaults: {
          dns: {
            provider: 'azure-dns',
            subscriptionId: SUBSCRIPTION,
            resourceGroup: RESOURCE_GROUP,
            endpoint: a.fake.endpoint,
            propagation: { resolvers: [a.fake.dns.address], timeout: '20s', interval: '100ms' },
          },
          store: { type: 'file', dir },
        },
        certificates: [{ id: 'azure-site', domains: ['azure-e2e.example.com', '*.azure-e2e.example.com'] }],
      },
      // The registry's provider, rebuilt with the HTTP client that trusts the fake's certificate.
      {
        log,
        env: { AZURE_AUTHORITY_HOST: a.fake.authorityHost },
        dns: (real) => (real.name === 'azure-dns' ? provider : real),
      },
    );
    const elapsed = performance.now() - started;
    const [r] = report.results;
    expect(r?.error, log.lines.join('\n')).toBeUndefined();
    expect(r).toMatchObject({ id: 'azure-site', status: 'renewed' });
    const leaf = new X509Certificate(await readFile(join(dir, 'azure-site', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toContain('DNS:*.azure-e2e.example.com');
    expect(leaf.subjectAltName).toContain('DNS:azure-e2e.example.com');

    const name = '_acme-challenge.azure-e2e.example.com';
    expect(a.fake.recordSet(name)).toBeUndefined();
    expect(await txtValues(a.fake.dns.address, name)).toEqual([]);
    // One write with both values, one delete (its last values) with If-Match.
    expect(a.fake.calls).toEqual([
      'entra.openid',
      'entra.token',
      'zones.listByResourceGroup',
      'recordSets.get',
      'recordSets.createOrUpdate',
      'recordSets.get',
      'recordSets.delete',
    ]);
    const text = log.lines.join('\n');
    for (const s of issuedSecrets) expect(text).not.toContain(s);
    expect(elapsed).toBeLessThan(10_000);
  });
});
