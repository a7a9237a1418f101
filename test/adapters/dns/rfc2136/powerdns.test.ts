import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TsigAlgorithmName } from '../../../../src/devstack/authdns.js';
import { type PowerDnsServer, startPowerDns } from '../../../../src/devstack/powerdns.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { registerSecret } from '../../../support/secrets-guard.js';
import { providerError, registerKeys, rfc2136, testZone, txtValues } from '../selfhosted.js';

const ALGORITHMS: TsigAlgorithmName[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'];
const zone = testZone('pdns-update');
const lockedZone = testZone('pdns-locked');
const foreignName = `_acme-challenge.foreign.${zone}`;

let pdns: PowerDnsServer;

beforeAll(async () => {
  pdns = await startPowerDns({
    keys: [
      ...ALGORITHMS.map((algorithm) => ({ name: `k-${algorithm}`, algorithm })),
      { name: 'other', algorithm: 'hmac-sha256' },
    ],
    zones: [
      {
        name: zone,
        updateKeys: ALGORITHMS.map((a) => `k-${a}`),
        records: ['_acme-challenge.foreign IN TXT "foreign-value"'],
      },
      { name: lockedZone, updateKeys: ['other'] },
    ],
  });
  registerKeys(pdns);
  registerSecret(pdns.apiKey);
});

afterAll(() => pdns?.stop());

const provider = (overrides = {}, deps = {}) => rfc2136(pdns, 'k-hmac-sha256', overrides, deps);
const read = (name: string) => txtValues(pdns.address, name);
const name = (label: string) => `_acme-challenge.${label}-${challengeValue().slice(0, 6).toLowerCase()}.${zone}`;

describe('rfc2136 against PowerDNS (dnsupdate=yes)', () => {
  dnsProviderContract('rfc2136 (PowerDNS)', () => provider(), read, { domain: zone });

  it.each(ALGORITHMS)('signs with %s', async (algorithm) => {
    const p = rfc2136(pdns, `k-${algorithm}`);
    const n = name(algorithm);
    const v = challengeValue();
    await p.present([{ name: n, value: v }]);
    expect(await read(n)).toEqual([v]);
    await p.cleanup([{ name: n, value: v }]);
    expect(await read(n)).toEqual([]);
  });

  it('keeps a foreign TXT value through present and cleanup', async () => {
    const p = provider();
    const values = [challengeValue(), challengeValue()];
    await p.present(values.map((value) => ({ name: foreignName, value })));
    expect((await read(foreignName)).sort()).toEqual(['foreign-value', ...values].sort());
    await p.cleanup(values.map((value) => ({ name: foreignName, value })));
    expect(await read(foreignName)).toEqual(['foreign-value']);
  });

  it('finds the zone by SOA and its name servers', async () => {
    expect(await provider().describeZone!(name('z'))).toEqual({ name: zone, nameServers: [`ns1.${zone}`] });
  });

  it('PowerDNS refuses a wrong secret, an unknown key and a skewed clock alike, unsigned: the hint covers all three', async () => {
    const wrongSecret = provider({ secret: Buffer.alloc(32, 3).toString('base64') });
    const unknownKey = rfc2136(pdns, 'k-hmac-sha256', {
      tsig: { name: 'nobody', algorithm: 'hmac-sha256', secret: pdns.key('k-hmac-sha256').secret },
    });
    const skewed = provider({}, { clock: { now: () => new Date(Date.now() + 3_600_000), sleep: systemClock.sleep } });
    for (const p of [wrongSecret, unknownKey, skewed]) {
      const e = await providerError(p.present([{ name: name('bad'), value: 'x' }]), pdns);
      expect(e.message).toMatch(/REFUSED, unsigned: the server did not accept key (k-hmac-sha256|nobody)/);
      expect(e.hint).toMatch(/tsig\.name, tsig\.algorithm, tsig\.secret and this machine's clock/);
      expect(e.hint).toContain('TSIG-ALLOW-DNSUPDATE');
    }
  });

  it('a key the zone does not allow (TSIG-ALLOW-DNSUPDATE): REFUSED with the metadata to set', async () => {
    const e = await providerError(provider().present([{ name: `_acme-challenge.${lockedZone}`, value: 'x' }]), pdns);
    expect(e.message).toContain('REFUSED');
    expect(e.hint).toContain('PowerDNS zone metadata TSIG-ALLOW-DNSUPDATE=k-hmac-sha256');
  });
});
