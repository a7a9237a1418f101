import { afterAll, beforeAll } from 'vitest';
import { dnsProviderContract } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { type FakeCloudflare, startFakeCloudflare } from '../../../support/fakes/cloudflare.js';
import { provider } from './helpers.js';

/** The shared DNS contract through the real SDK against the fake API, read back over DNS. */

let fake: FakeCloudflare;
let p: ReturnType<typeof provider>;

beforeAll(async () => {
  fake = await startFakeCloudflare();
  fake.addZone('example.com');
  fake.addZone('contract.example.com');
  fake.addZone('other.example.org');
  p = provider(fake.env(fake.addToken()));
});

afterAll(() => fake?.stop());

dnsProviderContract(
  'cloudflare (fake API, real SDK)',
  () => p,
  (name) => txtValues(fake.dns.address, name),
  { domain: 'contract.example.com' },
);
