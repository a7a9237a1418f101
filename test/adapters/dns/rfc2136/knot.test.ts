import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDnsServer, TsigAlgorithmName } from '../../../../src/devstack/authdns.js';
import { startKnot } from '../../../../src/devstack/knot.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { providerError, registerKeys, rfc2136, testZone, txtValues } from '../selfhosted.js';

const ALGORITHMS: TsigAlgorithmName[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'];
const zone = testZone('knot');
const lockedZone = testZone('knot-locked');
const foreignName = `_acme-challenge.foreign.${zone}`;

let knot: AuthDnsServer;

beforeAll(async () => {
  knot = await startKnot({
    keys: [
      ...ALGORITHMS.map((algorithm) => ({ name: `k-${algorithm}`, algorithm })),
      { name: 'other', algorithm: 'hmac-sha256' },
    ],
    zones: [
      {
        name: zone,
        updateKeys: ALGORITHMS.map((a) => `k-${a}`),
        records: [
          '_acme-challenge.foreign IN TXT "foreign-value"',
          'child IN NS ns1.child',
          'ns1.child IN A 127.0.0.1',
        ],
      },
      { name: `child.${zone}`, updateKeys: ['k-hmac-sha256'] },
      { name: lockedZone, updateKeys: ['other'] },
    ],
  });
  registerKeys(knot);
});

afterAll(() => knot?.stop());

const provider = (overrides = {}, deps = {}) => rfc2136(knot, 'k-hmac-sha256', overrides, deps);
const read = (name: string) => txtValues(knot.address, name);
const name = (label: string) => `_acme-challenge.${label}-${challengeValue().slice(0, 6).toLowerCase()}.${zone}`;

describe('rfc2136 against Knot DNS', () => {
  dnsProviderContract('rfc2136 (Knot)', () => provider(), read, { domain: zone });

  it.each(ALGORITHMS)('signs with %s', async (algorithm) => {
    const p = rfc2136(knot, `k-${algorithm}`);
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

  it('finds a child zone on the same server by SOA', async () => {
    expect(await provider().describeZone!(`_acme-challenge.www.child.${zone}`)).toEqual({
      name: `child.${zone}`,
      nameServers: [`ns1.child.${zone}`],
    });
  });

  it('BADSIG, BADKEY and BADTIME, as Knot answers them', async () => {
    const badsig = await providerError(
      provider({ secret: Buffer.alloc(32, 9).toString('base64') }).present([{ name: name('s'), value: 'x' }]),
      knot,
    );
    expect(badsig.message).toContain('BADSIG');
    const badkey = await providerError(
      rfc2136(knot, 'k-hmac-sha256', {
        tsig: { name: 'nobody', algorithm: 'hmac-sha256', secret: knot.key('k-hmac-sha256').secret },
      }).present([{ name: name('k'), value: 'x' }]),
      knot,
    );
    expect(badkey.message).toContain('BADKEY');
    const skewed = { now: () => new Date(Date.now() + 1_200_000), sleep: systemClock.sleep };
    const badtime = await providerError(
      provider({}, { clock: skewed }).present([{ name: name('t'), value: 'x' }]),
      knot,
    );
    expect(badtime.message).toMatch(/BADTIME.*this clock is 120[01] s ahead/);
  });

  it('a key no acl allows: the answer names the permission to add', async () => {
    const e = await providerError(provider().present([{ name: `_acme-challenge.${lockedZone}`, value: 'x' }]), knot);
    // Knot treats a key that no acl of the zone names as unknown there.
    expect(e.message).toContain('BADKEY');
    expect(e.hint).toContain('Knot an acl with `key: k-hmac-sha256` and `action: update`');
  });
});
