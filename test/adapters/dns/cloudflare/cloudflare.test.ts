import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { CloudflareApiError, createCloudflareProvider } from '../../../../src/adapters/dns/cloudflare/cloudflare.js';
import { cloudflareDescriptor, cloudflareOptions } from '../../../../src/adapters/dns/cloudflare/descriptor.js';
import { freePort } from '../../../../src/devstack/process.js';
import { toErrorInfo } from '../../../../src/ports/errors.js';
import { challengeValue } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { fakeClock } from '../../../support/clock.js';
import { type FakeCloudflare, startFakeCloudflare } from '../../../support/fakes/cloudflare.js';
import { registerSecret, scanForSecrets } from '../../../support/secrets-guard.js';
import { context, provider, tableLookup } from './helpers.js';

let fake: FakeCloudflare;
let seq = 0;
/** A zone of its own per test, under example.com. */
const fresh = (tag: string) => `${tag}${++seq}x${process.pid}.example.com`;
const rec = (name: string, value: string) => ({ name, value });
const sorted = (v: string[]) => [...v].sort();
/** The error a promise rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  fake = await startFakeCloudflare();
  fake.addZone('example.com');
});
afterAll(() => fake?.stop());
afterEach(() => fake.setBudget(undefined));

describe('cloudflare: zones', () => {
  it('a child zone held as its own zone wins over its parent; one zone listing serves every name', async () => {
    const parent = fresh('parent');
    fake.addZone(parent);
    const child = `sub.${parent}`;
    fake.addZone(child);
    const p = provider(fake.env(fake.addToken()));
    const before = fake.requests.length;
    const [inChild, inParent] = [`_acme-challenge.www.${child}`, `_acme-challenge.${parent}`];
    const [a, b] = [challengeValue(), challengeValue()];
    await p.present([rec(inChild, a), rec(inParent, b)]);

    expect(fake.records({ zone: child, type: 'TXT' }).map((r) => r.name)).toEqual([inChild]);
    expect(fake.records({ zone: parent, type: 'TXT' }).map((r) => r.name)).toEqual([inParent]);
    // As a resolver sees it: the child's records come from the child zone.
    expect(await txtValues(fake.dns.address, inChild)).toEqual([a]);
    const calls = fake.requests.slice(before);
    expect(calls.filter((c) => c.method === 'GET' && c.path === '/zones')).toHaveLength(1);
    expect(calls).toHaveLength(3);
    await p.cleanup([rec(inChild, a), rec(inParent, b)]);
    expect(fake.records({ zone: child })).toEqual([]);
  });

  it('a pending child zone is not served yet, so its names go into the parent', async () => {
    const parent = fresh('pend');
    fake.addZone(parent);
    fake.addZone(`new.${parent}`, { status: 'pending' });
    const p = provider(fake.env(fake.addToken()));
    const name = `_acme-challenge.new.${parent}`;
    const v = challengeValue();
    await p.present([rec(name, v)]);
    expect(fake.records({ zone: parent, name }).map((r) => r.content)).toEqual([`"${v}"`]);
    expect(await txtValues(fake.dns.address, name)).toEqual([v]);
    await p.cleanup([rec(name, v)]);
  });

  it('with more zones than one page, asks for each suffix by name, longest first, and remembers the answers', async () => {
    const many = await startFakeCloudflare();
    try {
      for (let i = 0; i < 120; i++) many.addZone(`z${String(i).padStart(3, '0')}.example.net`);
      many.addZone('target.example.net');
      const p = provider(many.env(many.addToken()));
      const name = '_acme-challenge.www.target.example.net';
      const v = challengeValue();
      await p.present([rec(name, v)]);
      expect(many.records({ zone: 'target.example.net', name })).toHaveLength(1);
      const zoneQueries = many.requests.filter((r) => r.method === 'GET' && r.path === '/zones');
      // The first page (50 of 121), then `_acme-challenge.www.target…`, `www.target…`, `target…`.
      expect(zoneQueries.map((r) => new URLSearchParams(r.query).get('name'))).toEqual([
        null,
        name,
        'www.target.example.net',
        'target.example.net',
      ]);
      await p.cleanup([rec(name, v)]);
      expect(many.requests.filter((r) => r.path === '/zones')).toHaveLength(4);
      expect(many.records({ name })).toEqual([]);
    } finally {
      await many.stop();
    }
  });

  it('with zoneId, writes into that zone without looking zones up; describeZone reads it', async () => {
    const name = fresh('byid');
    const zone = fake.addZone(name);
    const p = provider(fake.env(fake.addToken()), { zoneId: zone.id });
    const before = fake.requests.length;
    const v = challengeValue();
    await p.present([rec(`_acme-challenge.${name}`, v)]);
    await p.cleanup([rec(`_acme-challenge.${name}`, v)]);
    expect(fake.requests.slice(before).map((r) => r.method)).toEqual(['POST', 'DELETE']);
    expect(await p.describeZone(`_acme-challenge.${name}`)).toEqual({
      name,
      id: zone.id,
      nameServers: ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'],
    });
  });

  it('a zoneId naming another zone fails clearly and leaves no record under the wrong name', async () => {
    const name = fresh('wrongzone');
    const zone = fake.addZone(name);
    const p = provider(fake.env(fake.addToken()), { zoneId: zone.id });
    const error = await failure(p.present([rec('_acme-challenge.elsewhere.example.org', challengeValue())]));
    expect(toErrorInfo(error)).toMatchObject({
      class: 'dns-provider',
      message: `cloudflare: _acme-challenge.elsewhere.example.org is not in zone ${name}`,
      hint: expect.stringMatching(/dns\.zoneId/),
    });
    expect(fake.records({ zone: name, type: 'TXT' })).toEqual([]);
  });

  it('a zoneId the token cannot reach fails with Cloudflare’s code and a hint naming dns.zoneId', async () => {
    const p = provider(fake.env(fake.addToken()), { zoneId: '0123456789abcdef0123456789abcdef' });
    const error = await failure(p.present([rec('_acme-challenge.x.example.com', challengeValue())]));
    expect(error).toBeInstanceOf(CloudflareApiError);
    expect((error as Error).message).toMatch(/^cloudflare: 7003 Could not route to/);
    expect(toErrorInfo(error)).toMatchObject({ class: 'dns-provider', hint: expect.stringMatching(/dns\.zoneId/) });
  });

  it('describeZone and defaultResolvers report the zone and its Cloudflare name servers', async () => {
    const name = fresh('desc');
    const zone = fake.addZone(name, { nameServers: ['kate.ns.cloudflare.com', 'walt.ns.cloudflare.com'] });
    const lookup = tableLookup({ 'kate.ns.cloudflare.com': ['192.0.2.1'], 'walt.ns.cloudflare.com': ['2001:db8::2'] });
    const p = provider(fake.env(fake.addToken()), {}, { ctx: { lookup } });
    expect(await p.describeZone(`_acme-challenge.${name}`)).toEqual({
      name,
      id: zone.id,
      nameServers: ['kate.ns.cloudflare.com', 'walt.ns.cloudflare.com'],
    });
    expect(await p.defaultResolvers(`_acme-challenge.${name}`)).toEqual(['192.0.2.1:53', '[2001:db8::2]:53']);
    await expect(p.describeZone('_acme-challenge.example.invalid')).rejects.toThrow(
      /^cloudflare: no active zone for _acme-challenge\.example\.invalid/,
    );
  });
});

describe('cloudflare: records', () => {
  it('after a crash, a new provider finds its records by name + content and leaves a foreign value', async () => {
    const name = `_acme-challenge.${fresh('crash')}`;
    const token = fake.addToken();
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    fake.addRecord('example.com', { type: 'TXT', name, content: '"someone-elses-value"' });
    await provider(fake.env(token)).present([rec(name, apex), rec(name, wildcard)]);
    expect(sorted(await txtValues(fake.dns.address, name))).toEqual(sorted([apex, wildcard, 'someone-elses-value']));

    // The run died here; the next one knows only what the lease recorded: names and values.
    const next = provider(fake.env(token));
    const before = fake.requests.length;
    await next.cleanup([rec(name, apex), rec(name, wildcard)]);
    expect(await txtValues(fake.dns.address, name)).toEqual(['someone-elses-value']);
    const calls = fake.requests.slice(before);
    expect(calls.map((c) => c.method).sort()).toEqual(['DELETE', 'DELETE', 'GET', 'GET']);
    const list = calls.find((c) => c.path.endsWith('/dns_records') && c.method === 'GET');
    const query = new URLSearchParams(list?.query);
    expect([query.get('type'), query.get('name.exact')]).toEqual(['TXT', name]);
  });

  it('finds its records on a later page among many others at the name', async () => {
    const name = `_acme-challenge.${fresh('paged')}`;
    for (let i = 0; i < 130; i++) fake.addRecord('example.com', { type: 'TXT', name, content: `"other-${i}"` });
    const token = fake.addToken();
    const v = challengeValue();
    await provider(fake.env(token)).present([rec(name, v)]);
    const before = fake.requests.length;
    await provider(fake.env(token)).cleanup([rec(name, v)]);
    const lists = fake.requests.slice(before).filter((c) => c.method === 'GET' && c.path.endsWith('/dns_records'));
    expect(lists.map((c) => new URLSearchParams(c.query).get('page'))).toEqual(['1', '2']);
    const left = fake.txtValues(name);
    expect(left).toHaveLength(130);
    expect(left).not.toContain(v);
  });

  it('writes quoted content, and treats an identical record written unquoted (older tools) as present and ours to clean', async () => {
    const name = `_acme-challenge.${fresh('legacy')}`;
    const v = challengeValue();
    fake.addRecord('example.com', { type: 'TXT', name, content: v });
    const fresh2 = challengeValue();
    const p = provider(fake.env(fake.addToken()));
    const before = fake.requests.length;
    await p.present([rec(name, v), rec(name, fresh2)]);
    expect(
      fake
        .records({ name })
        .map((r) => r.content)
        .sort(),
    ).toEqual(sorted([v, `"${fresh2}"`]));
    // 81058 for the value already there, unquoted.
    expect(
      fake.requests
        .slice(before)
        .filter((r) => r.method === 'POST')
        .map((r) => r.status)
        .sort(),
    ).toEqual([200, 400]);
    await p.cleanup([rec(name, v), rec(name, fresh2)]);
    expect(fake.records({ name })).toEqual([]);
  });

  it('a record deleted behind its back is clean, by id (81044) as by content', async () => {
    const name = `_acme-challenge.${fresh('gone')}`;
    const token = fake.addToken();
    const v = challengeValue();
    const p = provider(fake.env(token));
    await p.present([rec(name, v)]);
    await provider(fake.env(token)).cleanup([rec(name, v)]);
    const before = fake.requests.length;
    await expect(p.cleanup([rec(name, v)])).resolves.toBeUndefined();
    expect(fake.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 404']);
  });
});

describe('cloudflare: rate limits', () => {
  it('a 429 is retried after its Retry-After, waited on the injected clock', async () => {
    const clock = fakeClock(new Date());
    const limited = await startFakeCloudflare({ now: () => clock.now().getTime() });
    try {
      limited.addZone('rl.example.com');
      limited.setBudget({ requests: 2, windowMs: 60_000 });
      const p = provider(limited.env(limited.addToken()), {}, { clock });
      const values = [challengeValue(), challengeValue()];
      const started = clock.now().getTime();
      await p.present(values.map((v) => rec('_acme-challenge.rl.example.com', v)));
      expect(sorted(limited.txtValues('_acme-challenge.rl.example.com'))).toEqual(sorted(values));
      expect(limited.requests.filter((r) => r.status === 429)).toHaveLength(1);
      expect(clock.sleeps).toContain(60_000);
      expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(60_000);
    } finally {
      await limited.stop();
    }
  });

  it('keeps within the budget on its side, shared by every provider on the same token', async () => {
    const clock = fakeClock(new Date());
    const limited = await startFakeCloudflare({ now: () => clock.now().getTime() });
    try {
      limited.addZone('budget.example.com');
      // Cloudflare's rule scaled down: at most 4 requests in any 2 s; the client's bucket holds
      // 2 and refills 1/s, so 2 + 2 s × 1/s never exceeds it.
      limited.setBudget({ requests: 4, windowMs: 2_000 });
      const token = limited.addToken();
      const tuning = { budget: { burst: 2, perSecond: 1 } };
      const [p1, p2] = [0, 1].map(() => provider(limited.env(token), {}, { clock, tuning }));
      const started = clock.now().getTime();
      const names = Array.from({ length: 4 }, (_, i) => `_acme-challenge.h${i}.budget.example.com`);
      await Promise.all(names.map((n, i) => (i % 2 ? p1 : p2)?.present([rec(n, challengeValue())])));
      expect(limited.requests.filter((r) => r.status === 429)).toEqual([]);
      // 1 zone listing per provider + 4 creates = 6 requests: 2 at once, then 1 per second.
      expect(limited.requests).toHaveLength(6);
      expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(4_000);

      // Without the client-side budget the same traffic runs into Cloudflare's limit.
      const greedy = provider(
        limited.env(limited.addToken()),
        {},
        { clock, tuning: { budget: { burst: 100, perSecond: 100 } } },
      );
      await Promise.all(names.map((n) => greedy.present([rec(n, challengeValue())])));
      expect(limited.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });
});

describe('cloudflare: failures', () => {
  it('a wrong token fails as dns-provider with Cloudflare’s code, a hint naming the scope, and no token in sight', async () => {
    const wrong = 'Wr0ngTokenWr0ngTokenWr0ngTokenWr0ngToken';
    registerSecret(wrong);
    const p = provider(fake.env(wrong));
    const error = await failure(p.present([rec('_acme-challenge.example.com', challengeValue())]));
    const info = toErrorInfo(error);
    expect(info.class).toBe('dns-provider');
    expect(info.message).toMatch(/^cloudflare: 10000 Authentication error \(listing zones, HTTP 403\)$/);
    expect(info.hint).toMatch(/Zone → DNS → Edit/);
    const everything = JSON.stringify({ info, stack: (error as Error).stack, cause: String((error as Error).cause) });
    expect(everything).not.toContain(wrong);
    expect(scanForSecrets('cloudflare error', everything)).toEqual([]);
  });

  it('a token of the wrong format, and one without DNS edit, keep Cloudflare’s codes', async () => {
    const malformed = await failure(
      provider(fake.env('short')).present([rec('_acme-challenge.example.com', challengeValue())]),
    );
    expect(malformed.message).toBe(
      'cloudflare: 6003 Invalid request headers (6111 Invalid format for Authorization header) (listing zones, HTTP 400)',
    );
    const readOnly = provider(fake.env(fake.addToken({ dns: 'read' })));
    const denied = await failure(readOnly.present([rec('_acme-challenge.ro.example.com', challengeValue())]));
    expect(denied.message).toMatch(/^cloudflare: 10000 Authentication error \(creating the TXT record at/);
    const blind = provider(fake.env(fake.addToken({ zoneRead: false })));
    const unseen = await failure(blind.present([rec('_acme-challenge.zr.example.com', challengeValue())]));
    expect(toErrorInfo(unseen)).toMatchObject({
      class: 'dns-provider',
      message: 'cloudflare: no active zone for _acme-challenge.zr.example.com among the zones this API token can see',
      hint: expect.stringMatching(/Zone → Zone → Read/),
    });
  });

  it('an unreachable API is retried with backoff on the clock, then named in the error', async () => {
    const clock = fakeClock(new Date());
    const port = await freePort();
    const p = provider(
      { CLOUDFLARE_BASE_URL: `http://127.0.0.1:${port}/client/v4`, CLOUDFLARE_API_TOKEN: 'x'.repeat(40) },
      {},
      { clock },
    );
    const error = await failure(p.present([rec('_acme-challenge.example.com', challengeValue())]));
    expect(error.message).toMatch(
      new RegExp(
        `^cloudflare: cannot reach http://127\\.0\\.0\\.1:${port}/client/v4 \\(listing zones\\): ECONNREFUSED$`,
      ),
    );
    expect(clock.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('reads CLOUDFLARE_BASE_URL and the token from the injected environment, never process.env', async () => {
    const saved = { url: process.env.CLOUDFLARE_BASE_URL, token: process.env.CLOUDFLARE_API_TOKEN };
    process.env.CLOUDFLARE_BASE_URL = `http://127.0.0.1:${await freePort()}/client/v4`;
    process.env.CLOUDFLARE_API_TOKEN = fake.addToken();
    try {
      expect(() => provider({})).toThrow(/^cloudflare: no API token$/);
      const token = fake.addToken();
      const name = `_acme-challenge.${fresh('env')}`;
      const v = challengeValue();
      await provider(fake.env(), { apiToken: token }).present([rec(name, v)]);
      expect(fake.txtValues(name)).toEqual([v]);
      // No CLOUDFLARE_BASE_URL injected: Cloudflare's own endpoint (reached through the injected fetch).
      const seen: string[] = [];
      const offline = createCloudflareProvider(
        { provider: 'cloudflare', ttl: 60, propagation: { timeoutMs: 1, intervalMs: 1 }, apiToken: token },
        context(
          {},
          {
            clock: fakeClock(new Date()),
            fetch: async (url) => {
              seen.push(String(url));
              throw new TypeError('fetch failed');
            },
          },
        ),
        { maxAttempts: 1 },
      );
      await expect(offline.present([rec(name, v)])).rejects.toThrow(
        /cannot reach https:\/\/api\.cloudflare\.com\/client\/v4/,
      );
      expect(seen).toEqual(['https://api.cloudflare.com/client/v4/zones?per_page=50']);
    } finally {
      for (const [k, v] of [
        ['CLOUDFLARE_BASE_URL', saved.url],
        ['CLOUDFLARE_API_TOKEN', saved.token],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('cloudflare: descriptor', () => {
  const parse = (raw: unknown) => z.object(cloudflareOptions).strict().safeParse(raw);

  it('a missing token is a config issue naming apiToken, unless CLOUDFLARE_API_TOKEN is set', () => {
    expect(cloudflareDescriptor.check?.({}, { env: {} })).toEqual([
      { path: 'apiToken', message: expect.stringMatching(/CLOUDFLARE_API_TOKEN/) },
    ]);
    expect(cloudflareDescriptor.check?.({}, { env: { CLOUDFLARE_API_TOKEN: 't' } })).toEqual([]);
    expect(cloudflareDescriptor.check?.({ apiToken: 't' }, { env: {} })).toEqual([]);
  });

  it('a zoneId that is not 32 hex characters is a config issue naming zoneId', () => {
    const bad = parse({ zoneId: 'example.com' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['zoneId', 'a Cloudflare zone id is 32 hexadecimal characters'],
    ]);
    expect(parse({ zoneId: '023e105f4ecef8ad9ca31a8372d0c353' }).success).toBe(true);
  });

  it('declares its secrets and the grants the token needs', async () => {
    expect(cloudflareDescriptor.secrets).toEqual(['apiToken']);
    expect(cloudflareDescriptor.secretEnv).toEqual(['CLOUDFLARE_API_TOKEN']);
    const perms = await cloudflareDescriptor.permissions(
      { provider: 'cloudflare', ttl: 60, propagation: { timeoutMs: 1, intervalMs: 1 } },
      {
        certificate: { id: 'c', domains: ['example.com'] },
        challengeNames: ['_acme-challenge.example.com'],
        directoryUrl: 'https://acme.example/dir',
      },
    );
    expect(perms.grants?.join('\n')).toMatch(/Zone → DNS → Edit[\s\S]*Zone → Zone → Read/);
  });

  it('create loads the implementation lazily and builds a working provider', async () => {
    const token = fake.addToken();
    const p = await cloudflareDescriptor.create(
      { provider: 'cloudflare', ttl: 60, propagation: { timeoutMs: 1, intervalMs: 1 }, apiToken: token },
      context(fake.env()),
    );
    const name = `_acme-challenge.${fresh('desc')}`;
    const v = challengeValue();
    await p.present([rec(name, v)]);
    await p.cleanup([rec(name, v)]);
    expect(p.name).toBe('cloudflare');
    expect(fake.records({ name })).toEqual([]);
  });
});
