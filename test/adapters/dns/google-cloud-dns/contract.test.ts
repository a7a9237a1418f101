import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsProvider } from '../../../../src/ports/dns.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { type GoogleSetup, googleSetup } from './helpers.js';

/**
 * The shared DNS provider contract through the real @google-cloud/dns SDK and google-auth-library
 * (workload identity federation with service account impersonation) against the Cloud DNS fake.
 */

let g: GoogleSetup;
let provider: DnsProvider;

beforeAll(async () => {
  g = await googleSetup({ zones: [{ name: 'contract-example-com', dnsName: 'contract.example.com.' }] });
  ({ provider } = await g.provider());
});

afterAll(async () => {
  await g?.fake.stop();
});

dnsProviderContract(
  'google-cloud-dns',
  () => provider,
  async (name) => g.fake.txtValues(name),
  { domain: 'contract.example.com' },
);

describe('google-cloud-dns against the fake', () => {
  it('serves a presented value from the zone’s name servers once the change is done', async () => {
    const name = '_acme-challenge.served.contract.example.com';
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(await txtValues(g.fake.dns.address, name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
    expect(g.fake.rrset(name)).toBeUndefined();
  });
});
