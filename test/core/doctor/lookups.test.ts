import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeDnsLookup } from '../../../src/adapters/resolver/node-dns.js';
import { decideCaa } from '../../../src/core/doctor/caa.js';
import { DoctorLookups } from '../../../src/core/doctor/lookups.js';
import { startZoneDns, type ZoneDns, type ZoneRecord, type ZoneSnapshot } from '../../support/zone-dns.js';

/**
 * The doctor's lookups against a real authoritative server (zone-dns) through the node:dns adapter:
 * the CAA climb of RFC 8659 with CNAMEs followed by the resolver, the flags and tags as the wire
 * carries them, NS and CNAME chains, caching, and failures that must never read as "no records".
 */

const soa = (zone: string): ZoneRecord => ({
  name: zone,
  type: 'SOA',
  ttl: 60,
  data: {
    mname: `ns1.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: 1,
    refresh: 60,
    retry: 60,
    expire: 60,
    minimum: 60,
  },
});
const caa = (name: string, tag: string, value: string, flags = 0): ZoneRecord => ({
  name,
  type: 'CAA',
  ttl: 60,
  data: { flags, tag, value },
});

const zones: ZoneSnapshot[] = [
  { name: 'com', records: [soa('com')] },
  { name: 'net', records: [soa('net')] },
  {
    name: 'shop.com',
    records: [
      soa('shop.com'),
      { name: 'shop.com', type: 'NS', ttl: 60, data: 'ns1.provider.net' },
      { name: 'shop.com', type: 'NS', ttl: 60, data: 'ns2.provider.net' },
      caa('shop.com', 'issue', 'pebble.test; validationmethods=dns-01'),
      caa('shop.com', 'iodef', 'mailto:sec@shop.com'),
      caa('strict.shop.com', 'issue', ';'),
      caa('strict.shop.com', 'tbs', 'unknown', 128),
      { name: 'cdn.shop.com', type: 'CNAME', ttl: 60, data: 'edge.cdn.net' },
      { name: 'plain.shop.com', type: 'CNAME', ttl: 60, data: 'bare.cdn.net' },
      { name: '_acme-challenge.www.shop.com', type: 'CNAME', ttl: 60, data: 'hop.shop.com' },
      { name: 'hop.shop.com', type: 'CNAME', ttl: 60, data: '_acme-challenge.www.shop.com.alias.net' },
      { name: 'deep.a.b.shop.com', type: 'A', ttl: 60, data: '192.0.2.1' },
    ],
  },
  {
    name: 'cdn.net',
    records: [soa('cdn.net'), caa('edge.cdn.net', 'issue', 'otherca.example')],
  },
];

let dns: ZoneDns;
beforeAll(async () => {
  dns = await startZoneDns({ zones: () => zones });
});
afterAll(() => dns?.stop());

const fresh = () => new DoctorLookups(createNodeDnsLookup());

describe('CAA climb (RFC 8659 §3)', () => {
  it('finds the closest record set above a name, with flags and unknown tags as sent', async () => {
    const l = fresh();
    const r = await l.relevantCaa(dns.address, 'deep.a.b.shop.com');
    expect(r).toEqual({
      ok: true,
      value: {
        at: 'shop.com',
        records: expect.arrayContaining([
          { critical: false, tag: 'issue', value: 'pebble.test; validationmethods=dns-01' },
          { critical: false, tag: 'iodef', value: 'mailto:sec@shop.com' },
        ]),
      },
    });
    const strict = await l.relevantCaa(dns.address, '*.strict.shop.com');
    expect(strict.ok && strict.value?.at).toBe('strict.shop.com');
    expect(strict.ok && strict.value?.records).toContainEqual({ critical: true, tag: 'tbs', value: 'unknown' });
    expect(decideCaa('*.strict.shop.com', strict.ok ? strict.value : undefined, {}).status).toBe('fail');
  });

  it('a CNAME is followed by the resolver: the target’s records apply; a target without any climbs from the name', async () => {
    const l = fresh();
    const viaCname = await l.relevantCaa(dns.address, 'cdn.shop.com');
    expect(viaCname).toMatchObject({
      ok: true,
      value: { at: 'cdn.shop.com', records: [{ tag: 'issue', value: 'otherca.example' }] },
    });
    const ctx = { identities: { domains: ['pebble.test'], source: 'config' as const } };
    expect(decideCaa('cdn.shop.com', viaCname.ok ? viaCname.value : undefined, ctx).status).toBe('fail');
    // bare.cdn.net has no CAA: the climb goes on from plain.shop.com's parent, shop.com.
    const plain = await l.relevantCaa(dns.address, 'plain.shop.com');
    expect(plain).toMatchObject({ ok: true, value: { at: 'shop.com' } });
    expect(decideCaa('plain.shop.com', plain.ok ? plain.value : undefined, ctx).status).toBe('pass');
  });

  it('no CAA anywhere up to the TLD is "none", not a failure', async () => {
    expect(await fresh().relevantCaa(dns.address, 'www.nothing.net')).toEqual({ ok: true, value: undefined });
  });

  it('every level is asked once, however many names share it', async () => {
    const l = fresh();
    const before = dns.queries;
    await Promise.all(
      ['a.b.shop.com', 'c.b.shop.com', 'd.b.shop.com', '*.b.shop.com', 'b.shop.com'].map((n) =>
        l.relevantCaa(dns.address, n),
      ),
    );
    // a, c, d, b (the wildcard's base), shop.com, com: six distinct names.
    expect(dns.queries - before).toBe(6);
    expect(l.size).toBe(6);
  });

  it('a resolver that refuses is "could not check", never "no records" — also when a nearer level fails', async () => {
    const l = fresh();
    const outside = await l.relevantCaa(dns.address, 'www.unserved.org');
    expect(outside.ok).toBe(false);
    expect(!outside.ok && outside.error).toMatch(/CAA at www\.unserved\.org: .*REFUSED.*127\.0\.0\.1:\d+/);
  });

  it('a resolver that does not answer at all times out, once retried', async () => {
    const l = new DoctorLookups(createNodeDnsLookup({ timeoutMs: 150 }));
    // A UDP port nothing listens on: no answer (or ICMP unreachable), never NODATA.
    const silent = await l.caa('127.0.0.1:9', 'shop.com');
    expect(silent.ok).toBe(false);
  });
});

describe('NS and CNAME chains', () => {
  it('NS of a zone apex; none for a name that is no zone', async () => {
    const l = fresh();
    expect(await l.ns(dns.address, 'shop.com')).toEqual({
      ok: true,
      value: expect.arrayContaining(['ns1.provider.net', 'ns2.provider.net']),
    });
    expect(await l.ns(dns.address, 'nozone.shop.com')).toEqual({ ok: true, value: [] });
  });

  it('a CNAME chain is followed hop by hop to its end', async () => {
    const l = fresh();
    expect(await l.cnameChain(dns.address, '_acme-challenge.www.shop.com')).toEqual({
      ok: true,
      value: ['hop.shop.com', '_acme-challenge.www.shop.com.alias.net'],
    });
    expect(await l.cnameChain(dns.address, '_acme-challenge.api.shop.com')).toEqual({ ok: true, value: [] });
  });
});
