import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { azureDns as d } from '../../../../src/adapters/dns/azure-dns/descriptor.js';
import { challengeValue } from '../../../contract/dns-provider.js';
import { fakeClock } from '../../../support/clock.js';
import { recordingLogger } from '../../../support/logger.js';
import { type AzureSetup, azureSetup, RESOURCE_GROUP, SUBSCRIPTION, withAzureEnv } from './helpers.js';

/** The descriptor: option shapes and cloud checks (config issues before any network), permissions, create. */

const parse = (options: Record<string, unknown>) => {
  const r = z.object(d.options).strict().safeParse(options);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};
const common = { provider: 'azure-dns', ttl: 60, propagation: { timeoutMs: 30_000, intervalMs: 1_000 } };
const base = { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP };

describe('azure-dns options', () => {
  it('accepts a GUID, resource group names with their punctuation, a zone, an https endpoint', () => {
    expect(parse(base)).toEqual([]);
    expect(parse({ ...base, resourceGroup: 'My_RG-(prod).eu', zoneName: 'example.com' })).toEqual([]);
    expect(parse({ ...base, endpoint: 'https://management.chinacloudapi.cn' })).toEqual([]);
  });

  it.each([
    [{ ...base, subscriptionId: 'my-subscription' }, 'subscriptionId', /subscription id \(a GUID/],
    [{ ...base, subscriptionId: '6f1d2a3b4c5d4e6f8a9b0c1d2e3f4a5b' }, 'subscriptionId', /GUID/],
    [{ ...base, resourceGroup: 'rg.' }, 'resourceGroup', /not ending in a period/],
    [{ ...base, resourceGroup: 'rg/x' }, 'resourceGroup', /resource group name/],
    [{ ...base, resourceGroup: 'r'.repeat(91) }, 'resourceGroup', /1–90/],
    [{ ...base, zoneName: 'not a zone' }, 'zoneName', /DNS zone name/],
    [{ ...base, endpoint: 'http://management.azure.com' }, 'endpoint', /^endpoint must be an https URL$/],
    [{ subscriptionId: SUBSCRIPTION }, 'resourceGroup', /expected string/i],
    [{ ...base, zone: 'example.com' }, '', /unrecognized key/i],
  ])('refuses %j at %s', (options, path, message) => {
    expect(parse(options)).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('an endpoint of no known cloud needs AZURE_AUTHORITY_HOST (https)', () => {
    const custom = { ...common, ...base, endpoint: 'https://management.local.azurestack.external' };
    expect(d.check?.(custom, { env: {} })).toEqual([
      {
        path: 'endpoint',
        message: expect.stringMatching(
          /^https:\/\/management\.local\.azurestack\.external is not a known Azure cloud .*; set AZURE_AUTHORITY_HOST/,
        ),
      },
    ]);
    expect(d.check?.(custom, { env: { AZURE_AUTHORITY_HOST: 'https://adfs.local.azurestack.external' } })).toEqual([]);
    expect(d.check?.(custom, { env: { AZURE_AUTHORITY_HOST: 'http://adfs.local' } })).toEqual([
      { path: 'endpoint', message: 'AZURE_AUTHORITY_HOST must be an https URL (is http://adfs.local)' },
    ]);
    expect(d.check?.({ ...common, ...base }, { env: {} })).toEqual([]);
    expect(d.check?.({ ...common, ...base, endpoint: 'https://management.usgovcloudapi.net/' }, { env: {} })).toEqual(
      [],
    );
  });

  it('takes no secrets in the config; AZURE_CLIENT_SECRET is masked', () => {
    expect(d.secrets).toEqual([]);
    expect(d.secretEnv).toContain('AZURE_CLIENT_SECRET');
  });
});

describe('azure-dns permissions', () => {
  const ctx = {
    certificate: { id: 'site', domains: ['example.com'] },
    challengeNames: ['_acme-challenge.example.com'],
    directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
  };

  it('names DNS Zone Contributor on the zone, the custom-role actions, and Reader on the group to find the zone', async () => {
    const p = await d.permissions({ ...common, ...base }, ctx);
    expect(p.grants).toEqual([
      `"DNS Zone Contributor" on the DNS zone holding the challenge names in resource group ${RESOURCE_GROUP} of subscription ${SUBSCRIPTION}, or (least privilege) a custom role with Microsoft.Network/dnsZones/read, Microsoft.Network/dnsZones/TXT/read, Microsoft.Network/dnsZones/TXT/write and Microsoft.Network/dnsZones/TXT/delete on it`,
      `Microsoft.Network/dnsZones/read on resource group ${RESOURCE_GROUP} (e.g. "Reader"), to find the zone; or set zoneName`,
    ]);
    const named = await d.permissions({ ...common, ...base, zoneName: 'example.com' }, ctx);
    expect(named.grants).toHaveLength(1);
    expect(named.grants?.[0]).toMatch(/^"DNS Zone Contributor" on the DNS zone example\.com in resource group/);
  });
});

describe('azure-dns create', () => {
  let a: AzureSetup;
  beforeAll(async () => {
    a = await azureSetup();
  });
  afterAll(async () => {
    await a?.fake.stop();
  });

  it('builds the provider without any network call; it writes on present', async () => {
    const env = await a.fake.federatedEnv(a.dir);
    const provider = await withAzureEnv(env, () =>
      d.create(
        { ...common, ...base, endpoint: a.fake.endpoint },
        {
          clock: fakeClock(new Date()),
          logger: recordingLogger(),
          env: { AZURE_AUTHORITY_HOST: a.fake.authorityHost },
          entry: 'cli',
          lookup: {} as never,
          // The descriptor passes the whole context on; the fake's certificate needs the test's HTTP client.
          ...({ httpClient: a.httpClient } as object),
        },
      ),
    );
    expect(provider.name).toBe('azure-dns');
    expect(a.fake.calls).toEqual([]);
    const name = '_acme-challenge.lazy.example.com';
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(a.fake.txtValues(name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
  });
});
