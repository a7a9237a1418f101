import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS, parseMessage, TYPE } from '../../../../src/adapters/dns/rfc2136/message.js';
import type { AuthDnsServer, TsigAlgorithmName } from '../../../../src/devstack/authdns.js';
import { startBind } from '../../../../src/devstack/bind.js';
import { freePort } from '../../../../src/devstack/process.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { type DnsProxy, startDnsProxy, truncatedAnswer } from '../../../support/dns-proxy.js';
import { providerError, registerKeys, rfc2136, testZone, txtValues } from '../selfhosted.js';

const ALGORITHMS: TsigAlgorithmName[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'];
const zone = testZone('bind');
const refusedZone = testZone('bind-refused');
const allowZone = testZone('bind-allow');
const brokenZone = testZone('bind-broken');
const wideZone = testZone('bind-wide');
const child = `child.${zone}`;
const foreignName = `_acme-challenge.foreign.${zone}`;

let bind: AuthDnsServer;
let proxy: DnsProxy;

beforeAll(async () => {
  bind = await startBind({
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
          // A child zone on this same server, and one delegated elsewhere.
          'child IN NS ns1.child',
          'ns1.child IN A 127.0.0.1',
          'ext IN NS ns.elsewhere.invalid.',
          '_acme-challenge.alias IN CNAME _acme-challenge.validation.example.invalid.',
        ],
      },
      { name: child, updateKeys: ['k-hmac-sha256'] },
      { name: refusedZone, updateKeys: ['other'] },
      { name: allowZone, updateKeys: ['k-hmac-sha256'], bindAllowUpdate: true },
      { name: brokenZone, updateKeys: ['k-hmac-sha256'], bindJournal: '/nonexistent/certkeeper/broken.jnl' },
      // More NS records than fit a 512-byte UDP answer: BIND sets TC.
      {
        name: wideZone,
        records: Array.from(
          { length: 16 },
          (_, i) => `@ IN NS ns-${String(i).padStart(2, '0')}-${'x'.repeat(30)}.example.invalid.`,
        ),
      },
    ],
  });
  registerKeys(bind);
  proxy = await startDnsProxy(bind);
});

afterAll(async () => {
  await proxy?.stop();
  await bind?.stop();
});

const provider = (overrides = {}, deps = {}) => rfc2136(bind, 'k-hmac-sha256', overrides, deps);
const viaProxy = (overrides = {}) =>
  rfc2136({ address: proxy.address }, 'k-hmac-sha256', { secret: bind.key('k-hmac-sha256').secret, ...overrides });
const read = (name: string) => txtValues(bind.address, name);
const name = (label: string) => `_acme-challenge.${label}-${challengeValue().slice(0, 6).toLowerCase()}.${zone}`;

describe('rfc2136 against BIND 9', () => {
  dnsProviderContract(
    'rfc2136 (BIND, hmac-sha256 by default)',
    () => rfc2136(bind, 'k-hmac-sha256', { tsig: { name: 'k-hmac-sha256', secret: bind.key('k-hmac-sha256').secret } }),
    read,
    { domain: zone },
  );

  it.each(ALGORITHMS)('signs with %s and accepts only answers signed with it', async (algorithm) => {
    const p = rfc2136(bind, `k-${algorithm}`);
    const n = name(algorithm);
    const v = challengeValue();
    await p.present([{ name: n, value: v }]);
    expect(await read(n)).toEqual([v]);
    await p.cleanup([{ name: n, value: v }]);
    expect(await read(n)).toEqual([]);
  });

  it('keeps a foreign TXT value on the challenge name through present and cleanup', async () => {
    const p = provider();
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    await p.present([
      { name: foreignName, value: apex },
      { name: foreignName, value: wildcard },
    ]);
    expect((await read(foreignName)).sort()).toEqual(['foreign-value', apex, wildcard].sort());
    await p.cleanup([
      { name: foreignName, value: apex },
      { name: foreignName, value: wildcard },
    ]);
    expect(await read(foreignName)).toEqual(['foreign-value']);
  });

  it('works with allow-update as well as update-policy', async () => {
    const p = provider();
    const n = `_acme-challenge.${allowZone}`;
    const v = challengeValue();
    await p.present([{ name: n, value: v }]);
    expect(await read(n)).toEqual([v]);
    await p.cleanup([{ name: n, value: v }]);
    expect(await read(n)).toEqual([]);
  });

  describe('zone discovery by SOA', () => {
    it('finds the zone of a name that does not exist yet, and its name servers', async () => {
      expect(await provider().describeZone!(name('discover'))).toEqual({ name: zone, nameServers: [`ns1.${zone}`] });
    });

    it('finds a child zone delegated to this same server and writes there', async () => {
      const p = provider();
      const n = `_acme-challenge.www.${child}`;
      expect(await p.describeZone!(n)).toEqual({ name: child, nameServers: [`ns1.${child}`] });
      const v = challengeValue();
      await p.present([{ name: n, value: v }]);
      expect(await read(n)).toEqual([v]);
      await p.cleanup([{ name: n, value: v }]);
      expect(await read(n)).toEqual([]);
    });

    it('refuses a name delegated to a server it does not serve, instead of writing into the parent', async () => {
      const e = await providerError(
        provider().present([{ name: `_acme-challenge.ext.${zone}`, value: challengeValue() }]),
        bind,
      );
      expect(e.message).toContain(`delegated to ns.elsewhere.invalid`);
      expect(e.hint).toContain('`server`');
    });

    it('a CNAME at the challenge name points at challengeAlias', async () => {
      const e = await providerError(provider().present([{ name: `_acme-challenge.alias.${zone}`, value: 'x' }]), bind);
      expect(e.message).toContain('is a CNAME to _acme-challenge.validation.example.invalid');
      expect(e.hint).toContain('challengeAlias');
    });

    it('says so when the server holds no zone for the name', async () => {
      const e = await providerError(
        provider().present([{ name: '_acme-challenge.nowhere.invalid', value: 'x' }]),
        bind,
      );
      expect(e.message).toContain('authoritative for no zone holding _acme-challenge.nowhere.invalid');
    });

    it('defaultResolvers is the server itself', async () => {
      expect(await provider().defaultResolvers!(name('r'))).toEqual([bind.address]);
    });
  });

  describe('UDP with TCP fallback', () => {
    it('retries over TCP when the UDP answer is truncated', async () => {
      const before = { ...proxy.counts };
      proxy.hooks = { udp: async (request) => truncatedAnswer(request) };
      try {
        const p = viaProxy({ zone });
        const n = name('tc');
        const v = challengeValue();
        await p.present([{ name: n, value: v }]);
        expect(await read(n)).toEqual([v]);
        expect(proxy.counts.udp - before.udp).toBe(1);
        expect(proxy.counts.tcp - before.tcp).toBe(1);
        await p.cleanup([{ name: n, value: v }]);
      } finally {
        proxy.hooks = {};
      }
    });

    it('sends an update too large for UDP over TCP at once', async () => {
      const before = { ...proxy.counts };
      const p = viaProxy({ zone });
      const records = Array.from({ length: 12 }, (_, i) => ({ name: name(`big${i}`), value: challengeValue() }));
      await p.present(records);
      expect(proxy.counts.udp - before.udp).toBe(0);
      expect(proxy.counts.tcp - before.tcp).toBe(1);
      for (const r of records) expect(await read(r.name)).toEqual([r.value]);
      await p.cleanup(records);
      for (const r of records) expect(await read(r.name)).toEqual([]);
    });

    it('reads an NS set larger than 512 bytes: BIND truncates over UDP, the answer comes over TCP', async () => {
      const before = { ...proxy.counts };
      const info = await viaProxy({ zone: wideZone }).describeZone!(`_acme-challenge.${wideZone}`);
      expect(info.name).toBe(wideZone);
      expect(info.nameServers).toHaveLength(17);
      expect(info.nameServers).toContain(`ns-00-${'x'.repeat(30)}.example.invalid`);
      expect(info.nameServers).toContain(`ns1.${wideZone}`);
      expect(proxy.counts.udp - before.udp).toBe(1);
      expect(proxy.counts.tcp - before.tcp).toBe(1);
    });
  });

  describe('answers without a valid TSIG are errors', () => {
    const tamper = async (change: (answer: Buffer) => Buffer) => {
      proxy.hooks = { udp: async (_request, forward) => change(await forward()) };
      try {
        return await providerError(
          viaProxy({ zone }).present([{ name: name('tamper'), value: challengeValue() }]),
          bind,
        );
      } finally {
        proxy.hooks = {};
      }
    };

    it('rejects an answer whose MAC was altered', async () => {
      const e = await tamper((answer) => {
        const tsig = parseMessage(answer).additionals.at(-1)!;
        expect(tsig.type).toBe(TYPE.TSIG);
        const copy = Buffer.from(answer);
        const i = tsig.end - 10; // a byte of the MAC (it ends 6 bytes before the record does)
        copy.writeUInt8(copy.readUInt8(i) ^ 0xff, i);
        return copy;
      });
      expect(e.message).toContain(
        "NOERROR, but the answer's signature is invalid (the MAC does not match); not trusting it",
      );
    });

    it('rejects an answer whose header was altered after signing', async () => {
      const e = await tamper((answer) => {
        const copy = Buffer.from(answer);
        copy[3] = copy[3]! | 0x20; // RA on: not what the server signed
        return copy;
      });
      expect(e.message).toContain('the MAC does not match');
    });

    it('a malformed answer is a provider error, not a crash', async () => {
      proxy.hooks = {
        udp: async (request) => {
          const answer = truncatedAnswer(request);
          answer[2] = answer[2]! & ~0x02;
          answer.writeUInt16BE(1, 6); // one answer record announced, none there
          return answer;
        },
      };
      try {
        const e = await providerError(viaProxy().present([{ name: name('garbage'), value: 'x' }]), bind);
        expect(e.message).toMatch(
          /^rfc2136: SOA query for _acme-challenge\.garbage-.*: malformed answer from 127\.0\.0\.1:\d+/,
        );
      } finally {
        proxy.hooks = {};
      }
    });

    it('rejects an answer with the TSIG record stripped', async () => {
      const e = await tamper((answer) => {
        const tsig = parseMessage(answer).additionals.at(-1)!;
        const copy = Buffer.from(answer.subarray(0, tsig.offset));
        copy.writeUInt16BE(copy.readUInt16BE(10) - 1, 10);
        return copy;
      });
      expect(e.message).toContain('NOERROR, but the answer is not signed; not trusting it');
      expect(e.hint).toContain('k-hmac-sha256');
    });
  });

  describe('errors name the cause and the fix', () => {
    it('BADSIG: a wrong secret', async () => {
      const e = await providerError(
        provider({ secret: Buffer.alloc(32, 7).toString('base64') }).present([{ name: name('badsig'), value: 'x' }]),
        bind,
      );
      expect(e.message).toContain('BADSIG');
      expect(e.hint).toMatch(/wrong secret/);
    });

    it('BADKEY: an unknown key name', async () => {
      const p = rfc2136(bind, 'k-hmac-sha256', {
        tsig: { name: 'no-such-key', algorithm: 'hmac-sha256', secret: bind.key('k-hmac-sha256').secret },
      });
      const e = await providerError(p.present([{ name: name('badkey'), value: 'x' }]), bind);
      expect(e.message).toContain('BADKEY, the server does not know key no-such-key with hmac-sha256');
      expect(e.hint).toMatch(/wrong key name or algorithm/);
    });

    it('BADKEY: the right name with the wrong algorithm', async () => {
      const p = rfc2136(bind, 'k-hmac-sha256', {
        tsig: { name: 'k-hmac-sha256', algorithm: 'hmac-sha512', secret: bind.key('k-hmac-sha256').secret },
      });
      const e = await providerError(p.present([{ name: name('badalg'), value: 'x' }]), bind);
      expect(e.message).toMatch(/BAD(KEY|SIG)/);
    });

    it('BADTIME: a clock an hour ahead, with the offset', async () => {
      const skewed = { now: () => new Date(Date.now() + 3_600_000), sleep: systemClock.sleep };
      const e = await providerError(
        provider({}, { clock: skewed }).present([{ name: name('badtime'), value: 'x' }]),
        bind,
      );
      expect(e.message).toMatch(/BADTIME.*this clock is 360[01] s ahead of the server's/);
      expect(e.hint).toMatch(/clock skew/);
    });

    it('BADTIME: a clock behind', async () => {
      const skewed = { now: () => new Date(Date.now() - 900_000), sleep: systemClock.sleep };
      const e = await providerError(
        provider({}, { clock: skewed }).present([{ name: name('behind'), value: 'x' }]),
        bind,
      );
      expect(e.message).toMatch(/this clock is (899|900) s behind the server's/);
    });

    it('REFUSED: the key may not update the zone', async () => {
      const e = await providerError(provider().present([{ name: `_acme-challenge.${refusedZone}`, value: 'x' }]), bind);
      expect(e.message).toContain(`REFUSED: the server does not let key k-hmac-sha256 update ${refusedZone}`);
      expect(e.hint).toContain(`update-policy { grant k-hmac-sha256 name _acme-challenge.${refusedZone}. TXT; }`);
      expect(e.hint).toContain('allow-update');
    });

    it('NOTAUTH: the server is not authoritative for the configured zone', async () => {
      const e = await providerError(
        provider({ zone: 'not-here.invalid' }).present([{ name: '_acme-challenge.not-here.invalid', value: 'x' }]),
        bind,
      );
      expect(e.message).toContain('NOTAUTH');
      expect(e.hint).toMatch(/wrong zone or server/);
    });

    it('NOTZONE: a record outside the configured zone', async () => {
      const e = await providerError(provider({ zone: child }).present([{ name: name('notzone'), value: 'x' }]), bind);
      expect(e.message).toContain(`NOTZONE: a record name is outside zone ${child}`);
      expect(e.hint).toMatch(/wrong zone/);
    });

    it('SERVFAIL: the server cannot write its journal', async () => {
      const e = await providerError(provider().present([{ name: `_acme-challenge.${brokenZone}`, value: 'x' }]), bind);
      expect(e.message).toContain('SERVFAIL');
      expect(e.hint).toMatch(/journal/);
    });

    it('no server listening: says who did not answer', async () => {
      const p = rfc2136({ address: `127.0.0.1:${await freePort()}` }, 'k', {
        zone,
        secret: bind.key('k-hmac-sha256').secret,
      });
      const e = await providerError(p.present([{ name: name('down'), value: 'x' }]), bind);
      expect(e.message).toMatch(/did not answer/);
      expect(e.hint).toMatch(/reachable over UDP and TCP/);
    });
  });

  it('a delete is RR-specific (class NONE), never the whole rrset', async () => {
    // What goes on the wire, seen through the proxy.
    let update: Buffer | undefined;
    proxy.hooks = {
      udp: async (request, forward) => {
        update = request;
        return forward();
      },
    };
    try {
      await viaProxy({ zone }).cleanup([{ name: foreignName, value: 'not-there' }]);
    } finally {
      proxy.hooks = {};
    }
    const rr = parseMessage(update!).authorities;
    expect(rr).toHaveLength(1);
    expect(rr[0]).toMatchObject({ name: foreignName, type: TYPE.TXT, klass: CLASS.NONE, ttl: 0 });
    expect(await read(foreignName)).toEqual(['foreign-value']);
  });
});
