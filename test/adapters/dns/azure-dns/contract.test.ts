import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsProvider } from '../../../../src/ports/dns.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { type AzureSetup, azureSetup } from './helpers.js';

/**
 * The shared DNS provider contract through the real @azure/arm-dns and @azure/identity
 * (DefaultAzureCredential with a federated credential) against the Azure DNS fake; values are read
 * back from the fake's name servers.
 */

let a: AzureSetup;
let provider: DnsProvider;

beforeAll(async () => {
  a = await azureSetup({ zones: [{ name: 'contract.example.com' }] });
  ({ provider } = await a.provider());
});

afterAll(async () => {
  await a?.fake.stop();
});

dnsProviderContract(
  'azure-dns',
  () => provider,
  (name) => txtValues(a.fake.dns.address, name),
  { domain: 'contract.example.com' },
);

describe('azure-dns against the fake', () => {
  it('keeps the API and the name servers in step, and deletes the record set with its last value', async () => {
    const name = '_acme-challenge.served.contract.example.com';
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(a.fake.txtValues(name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
    expect(a.fake.recordSet(name)).toBeUndefined();
    expect(a.fake.calls.at(-1)).toBe('recordSets.delete');
  });
});
