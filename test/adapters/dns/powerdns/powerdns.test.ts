import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { powerdns } from '../../../../src/adapters/dns/powerdns/descriptor.js';
import { createPowerDnsProvider, type PowerDnsDeps } from '../../../../src/adapters/dns/powerdns/provider.js';
import { type PowerDnsServer, startPowerDns } from '../../../../src/devstack/powerdns.js';
import { freePort } from '../../../../src/devstack/process.js';
import { type Clock, systemClock } from '../../../../src/ports/clock.js';
import type { DnsProvider } from '../../../../src/ports/dns.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { captureLog } from '../../../support/certkeeper.js';
import { recordingLogger } from '../../../support/logger.js';
import { registerSecret } from '../../../support/secrets-guard.js';
import { providerError, testZone, txtValues } from '../selfhosted.js';

const zone = testZone('pdns-api');
const sub = `sub.${zone}`;
const foreignName = `_acme-challenge.foreign.${zone}`;

let pdns: PowerDnsServer;

beforeAll(async () => {
  pdns = await startPowerDns({
    zones: [
      {
        name: zone,
        records: [
          '_acme-challenge.foreign 300 IN TXT "foreign-value"',
          '_acme-challenge.cname IN CNAME elsewhere.example.',
          'sub IN NS ns1.sub',
          'ns1.sub IN A 127.0.0.1',
        ],
      },
      { name: sub },
    ],
  });
  registerSecret(pdns.apiKey);
});

afterAll(() => pdns?.stop());

interface Call {
  method: string;
  path: string;
}

/** The real fetch, recording each call (method and path; never the headers, which hold the key). */
function recordingFetch(calls: Call[], after?: (call: Call, response: Response) => Promise<void>): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const call = { method: init?.method ?? 'GET', path: `${url.pathname}${url.search}` };
    calls.push(call);
    const response = await fetch(input, init);
    await after?.(call, response);
    return response;
  };
}

function provider(overrides: Record<string, unknown> = {}, deps: Partial<PowerDnsDeps> = {}): DnsProvider {
  return createPowerDnsProvider(
    { url: pdns.apiUrl, apiKey: pdns.apiKey, serverId: 'localhost', ...overrides },
    { clock: systemClock, logger: recordingLogger(), ...deps },
  );
}

/** The TXT rrset as the API holds it. */
async function rrset(zoneName: string, name: string) {
  const { json } = await pdns.api('GET', `/servers/localhost/zones/${zoneName}.?rrset_name=${name}.&rrset_type=TXT`);
  return (json as { rrsets: { ttl: number; records: { content: string }[] }[] }).rrsets[0];
}

const read = (name: string) => txtValues(pdns.address, name);
const name = (label: string, in_ = zone) =>
  `_acme-challenge.${label}-${challengeValue().slice(0, 6).toLowerCase()}.${in_}`;

/** Sleeps up to 5 s are cut to 1 ms (retry backoff, re-read delay); request timeouts stay. */
const quickClock: Clock = {
  now: systemClock.now,
  sleep: (ms, signal) => systemClock.sleep(ms > 5_000 ? ms : 1, signal),
};

describe('powerdns (HTTP API)', () => {
  dnsProviderContract('powerdns', () => provider(), read, { domain: zone });

  it('one present = read, PATCH REPLACE, re-read; one cleanup the same, DELETE once empty', async () => {
    const calls: Call[] = [];
    const p = provider({}, { fetch: recordingFetch(calls) });
    const n = name('calls');
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    await p.present([
      { name: n, value: apex },
      { name: n, value: wildcard },
    ]);
    expect(calls.map((c) => c.method)).toEqual(['GET', 'GET', 'PATCH', 'GET']);
    expect(calls[0]!.path).toBe('/api/v1/servers/localhost/zones?dnssec=false');
    expect(calls[1]!.path).toBe(`/api/v1/servers/localhost/zones/${zone}.?rrset_name=${n}.&rrset_type=TXT`);
    expect((await rrset(zone, n))!.ttl).toBe(60);
    calls.length = 0;
    await p.cleanup([
      { name: n, value: apex },
      { name: n, value: wildcard },
    ]);
    expect(calls.map((c) => c.method)).toEqual(['GET', 'PATCH', 'GET']);
    expect(await rrset(zone, n)).toBeUndefined();
  });

  it('keeps a foreign value and its TTL through present and cleanup; a new set gets ours', async () => {
    const p = provider({ ttl: 120 });
    const mine = challengeValue();
    await p.present([{ name: foreignName, value: mine }]);
    expect((await read(foreignName)).sort()).toEqual(['foreign-value', mine].sort());
    expect((await rrset(zone, foreignName))!.ttl).toBe(300);
    await p.cleanup([{ name: foreignName, value: mine }]);
    expect(await read(foreignName)).toEqual(['foreign-value']);
    expect((await rrset(zone, foreignName))!.ttl).toBe(300);
    const fresh = name('ttl');
    await p.present([{ name: fresh, value: mine }]);
    expect((await rrset(zone, fresh))!.ttl).toBe(120);
    await p.cleanup([{ name: fresh, value: mine }]);
  });

  it('a value needing escapes round-trips', async () => {
    const p = provider();
    const n = name('esc');
    const odd = 'a "quoted" \\ value';
    await p.present([{ name: n, value: odd }]);
    expect(await read(n)).toEqual([odd]);
    await p.cleanup([{ name: n, value: odd }]);
    expect(await read(n)).toEqual([]);
  });

  it('picks the longest zone suffix: a child zone on the same server wins', async () => {
    const p = provider();
    const n = name('child', sub);
    expect(await p.describeZone!(n)).toEqual({ name: sub, id: `${sub}.`, nameServers: [`ns1.${sub}`] });
    const v = challengeValue();
    await p.present([{ name: n, value: v }]);
    expect((await rrset(sub, n))!.records).toEqual([{ content: `"${v}"`, disabled: false }]);
    await p.cleanup([{ name: n, value: v }]);
    expect(await rrset(sub, n)).toBeUndefined();
  });

  it('detects a concurrent writer that dropped our value, and writes again keeping theirs', async () => {
    const log = captureLog();
    const n = name('race');
    const theirs = challengeValue();
    let clobbered = false;
    // Another process read the set before our PATCH (empty) and writes its own value after it.
    const fetchImpl = recordingFetch([], async (call, response) => {
      if (call.method === 'PATCH' && response.ok && !clobbered) {
        clobbered = true;
        await pdns.api('PATCH', `/servers/localhost/zones/${zone}.`, {
          rrsets: [
            {
              name: `${n}.`,
              type: 'TXT',
              ttl: 60,
              changetype: 'REPLACE',
              records: [{ content: `"${theirs}"`, disabled: false }],
            },
          ],
        });
      }
    });
    const p = provider({}, { fetch: fetchImpl, logger: log.logger });
    const mine = challengeValue();
    await p.present([{ name: n, value: mine }]);
    expect((await read(n)).sort()).toEqual([mine, theirs].sort());
    expect(log.lines.join('\n')).toContain('changed by another writer while we wrote it; writing again');
    await p.cleanup([{ name: n, value: mine }]);
    expect(await read(n)).toEqual([theirs]);
  });

  it('gives up when the rrset keeps changing under it', async () => {
    const n = name('busy');
    const fetchImpl = recordingFetch([], async (call, response) => {
      if (call.method === 'PATCH' && response.ok) {
        await pdns.api('PATCH', `/servers/localhost/zones/${zone}.`, {
          rrsets: [{ name: `${n}.`, type: 'TXT', changetype: 'DELETE' }],
        });
      }
    });
    const e = await providerError(
      provider({}, { fetch: fetchImpl, clock: quickClock }).present([{ name: n, value: 'x' }]),
    );
    expect(e.message).toContain('kept changing under us; gave up after 5 rounds');
  });

  describe('errors keep PowerDNS’s text and name the fix', () => {
    it('a wrong API key: 401', async () => {
      const e = await providerError(provider({ apiKey: 'wrong-key' }).present([{ name: name('k'), value: 'x' }]));
      expect(e.message).toBe('powerdns: listing zones: HTTP 401: Unauthorized');
      expect(e.hint).toMatch(/API key was not accepted/);
    });

    it('an unknown server id: 404', async () => {
      const e = await providerError(provider({ serverId: 'nope' }).present([{ name: name('s'), value: 'x' }]));
      expect(e.message).toContain('HTTP 404');
      expect(e.hint).toContain('serverId (nope)');
    });

    it('a configured zone that does not exist: 404 on the read', async () => {
      const e = await providerError(
        provider({ zone: 'missing.invalid' }).present([{ name: '_acme-challenge.missing.invalid', value: 'x' }]),
      );
      expect(e.message).toMatch(/^powerdns: reading TXT _acme-challenge\.missing\.invalid: HTTP 404/);
    });

    it('a rejected change: 422 with PowerDNS’s error', async () => {
      const e = await providerError(provider().present([{ name: `_acme-challenge.cname.${zone}`, value: 'x' }]));
      expect(e.message).toMatch(
        /^powerdns: writing TXT _acme-challenge\.cname\..*: HTTP 422: .*Conflicts with pre-existing RRset/,
      );
    });

    it('no zone holds the name', async () => {
      const e = await providerError(provider().present([{ name: '_acme-challenge.example.invalid', value: 'x' }]));
      expect(e.message).toMatch(/^powerdns: no zone on server localhost holds _acme-challenge\.example\.invalid/);
    });

    it('a name outside the configured zone fails before any call', async () => {
      const calls: Call[] = [];
      const e = await providerError(
        provider({ zone: sub }, { fetch: recordingFetch(calls) }).present([{ name: name('out'), value: 'x' }]),
      );
      expect(e.message).toContain(`is not inside the configured zone ${sub}`);
      expect(calls).toEqual([]);
    });

    it('something other than PowerDNS at the url', async () => {
      const html: typeof fetch = async () => new Response('<html>welcome</html>', { status: 200 });
      const e = await providerError(provider({}, { fetch: html }).present([{ name: name('h'), value: 'x' }]));
      expect(e.message).toBe('powerdns: listing zones: HTTP 200 with an answer that is not JSON');
      expect(e.hint).toContain('does not look like the PowerDNS webserver');
    });

    it('nothing listening at the url', async () => {
      const e = await providerError(
        provider({ url: `http://127.0.0.1:${await freePort()}` }).present([{ name: name('d'), value: 'x' }]),
      );
      expect(e.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
      expect(e.hint).toMatch(/api=yes/);
    });
  });
});

describe('powerdns options', () => {
  const schema = z.strictObject(powerdns.options);
  const issues = (input: unknown) => {
    const r = schema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('defaults serverId, requires an http(s) url (plain http allowed: the webserver has no TLS) and an apiKey', () => {
    expect(schema.parse({ url: 'http://ns1:8081', apiKey: 'k' }).serverId).toBe('localhost');
    expect(issues({ url: 'http://ns1.example.com:8081', apiKey: 'k' })).toEqual([]);
    expect(issues({ url: 'ns1 port 8081', apiKey: 'k' })).toEqual([{ path: 'url', message: 'url is not a valid URL' }]);
    expect(issues({ url: 'ftp://ns1:8081', apiKey: 'k' })).toEqual([{ path: 'url', message: 'url must use https' }]);
    expect(issues({ url: 'http://ns1:8081', apiKey: '' }).map((i) => i.path)).toEqual(['apiKey']);
    expect(powerdns.secrets).toEqual(['apiKey']);
  });

  it('permissions name the API key; create() loads the implementation lazily', async () => {
    const config = {
      ...schema.parse({ url: 'http://ns1:8081', apiKey: 'k' }),
      provider: 'powerdns',
      ttl: 60,
      propagation: { timeoutMs: 1, intervalMs: 1 },
    };
    const { grants } = await powerdns.permissions(config, {
      certificate: { id: 'c', domains: ['example.com'] },
      challengeNames: ['_acme-challenge.example.com'],
      directoryUrl: 'https://acme.example/dir',
    });
    expect(grants![0]).toContain('api-key of server localhost at http://ns1:8081');
    const p = await powerdns.create(config, {
      clock: systemClock,
      logger: recordingLogger(),
      env: {},
      entry: 'cli',
      lookup: {} as never,
    });
    expect(p.name).toBe('powerdns');
  });
});
