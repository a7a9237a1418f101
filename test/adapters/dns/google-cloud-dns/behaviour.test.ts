import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGoogleCloudDnsClient,
  parseTxt,
  quoteTxt,
  ROLE_HINT,
} from '../../../../src/adapters/dns/google-cloud-dns/provider.js';
import { CertkeeperError, toErrorInfo } from '../../../../src/ports/errors.js';
import { challengeValue } from '../../../contract/dns-provider.js';
import { txtValues } from '../../../support/certkeeper.js';
import { DNS_PERMISSIONS, issuedSecrets } from '../../../support/fakes/google-cloud-dns.js';
import { type GoogleSetup, googleSetup, PROJECT } from './helpers.js';

/**
 * google-cloud-dns beyond the contract, through the real SDKs against the fake: concurrent writers
 * (412/409/404 from a second writer between our read and our Change), the pending → done wait,
 * zone discovery, retries on the injected clock, credential and permission failures.
 */

let g: GoogleSetup;
let seq = 0;
const fresh = (zone = 'example.com') => `_acme-challenge.w${++seq}.${zone}`;

beforeAll(async () => {
  g = await googleSetup({
    zones: [
      { name: 'example-com', dnsName: 'example.com.' },
      // A child zone of its own: records under it go there, not into example.com.
      { name: 'sub-example-com', dnsName: 'sub.example.com.' },
      { name: 'internal', dnsName: 'internal.example.com.', visibility: 'private' },
      { name: 'only-private', dnsName: 'corp.example.net.', visibility: 'private' },
      { name: 'other-org', dnsName: 'example.org.' },
    ],
    // Two per page: discovery has to follow nextPageToken.
    pageSize: 2,
  });
});

afterAll(async () => {
  await g?.fake.stop();
});

const calls = (from: number, method?: string) => g.fake.calls.slice(from).filter((c) => !method || c === method);

describe('writes: one Change deleting the rrset as read and adding the merged one', () => {
  it('merges apex + wildcard into one rrset, keeping a foreign value, its strings and the rrset TTL', async () => {
    const { provider } = await g.provider();
    const name = fresh();
    g.fake.setRrset(name, 'TXT', ['"foreign" "two strings"'], 3600);
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    const start = g.fake.calls.length;
    await provider.present([
      { name, value: apex },
      { name, value: wildcard },
    ]);
    expect(calls(start, 'changes.create')).toHaveLength(1);
    const set = g.fake.rrset(name);
    expect(set?.ttl).toBe(3600);
    expect(set?.rrdatas.sort()).toEqual(['"foreign" "two strings"', `"${apex}"`, `"${wildcard}"`].sort());
    await provider.cleanup([
      { name, value: apex },
      { name, value: wildcard },
    ]);
    expect(g.fake.rrset(name)?.rrdatas).toEqual(['"foreign" "two strings"']);
  });

  it('reads TXT rrdatas in presentation format: several strings, \\" \\\\ and decimal \\DDD escapes', () => {
    expect(parseTxt('"a\\"b" "c\\\\d" "\\065\\066"')).toBe('a"bc\\dAB');
    expect(parseTxt(quoteTxt('x'.repeat(300)))).toBe('x'.repeat(300));
    expect(quoteTxt('say "hi"')).toBe('"say \\"hi\\""');
  });

  it('a new rrset gets the configured TTL', async () => {
    const { provider } = await g.provider({ ttl: 120 });
    const name = fresh();
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(g.fake.rrset(name)).toMatchObject({ ttl: 120, rrdatas: [`"${value}"`] });
    await provider.cleanup([{ name, value }]);
  });

  it('412: a second writer changes the rrset between our read and our Change; we re-read and keep both', async () => {
    const { provider, clock } = await g.provider();
    const name = fresh();
    const [ours, theirs, first] = [challengeValue(), challengeValue(), challengeValue()];
    g.fake.setRrset(name, 'TXT', [`"${first}"`]);
    g.fake.beforeNextChange(() => g.fake.setRrset(name, 'TXT', [`"${first}"`, `"${theirs}"`]));
    const start = g.fake.calls.length;
    await provider.present([{ name, value: ours }]);
    expect(g.fake.txtValues(name).sort()).toEqual([ours, theirs, first].sort());
    // read, refused Change, backoff on the clock, read again, accepted Change.
    expect(calls(start).filter((c) => c === 'resourceRecordSets.list' || c === 'changes.create')).toEqual([
      'resourceRecordSets.list',
      'changes.create',
      'resourceRecordSets.list',
      'changes.create',
    ]);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(500);
    await provider.cleanup([{ name, value: ours }]);
    expect(g.fake.txtValues(name).sort()).toEqual([theirs, first].sort());
  });

  it('409: a second writer creates the rrset we were about to create; we re-read and merge', async () => {
    const { provider } = await g.provider();
    const name = fresh();
    const [ours, theirs] = [challengeValue(), challengeValue()];
    g.fake.beforeNextChange(() => g.fake.setRrset(name, 'TXT', [`"${theirs}"`]));
    const start = g.fake.calls.length;
    await provider.present([{ name, value: ours }]);
    expect(calls(start, 'changes.create')).toHaveLength(2);
    expect(g.fake.txtValues(name).sort()).toEqual([ours, theirs].sort());
    await provider.cleanup([{ name, value: ours }]);
    expect(g.fake.txtValues(name)).toEqual([theirs]);
  });

  it('two runs at once: the other run’s Change lands between our read and ours (409, then 412); both values stay', async () => {
    const ours = await g.provider();
    const theirs = await g.provider();
    const name = fresh();
    const [a, b, c] = [challengeValue(), challengeValue(), challengeValue()];
    // The other run writes through its own SDK client while our Change waits at the API.
    g.fake.beforeNextChange(() => theirs.provider.present([{ name, value: b }]));
    const start = g.fake.calls.length;
    await ours.provider.present([{ name, value: a }]);
    expect(g.fake.txtValues(name).sort()).toEqual([a, b].sort());
    expect(calls(start, 'changes.create')).toHaveLength(3);
    g.fake.beforeNextChange(() => theirs.provider.present([{ name, value: c }]));
    await ours.provider.cleanup([{ name, value: a }]);
    expect(g.fake.txtValues(name).sort()).toEqual([b, c].sort());
    await theirs.provider.cleanup([
      { name, value: b },
      { name, value: c },
    ]);
    expect(g.fake.rrset(name)).toBeUndefined();
  });

  it('404: a second writer deletes the rrset our cleanup was deleting; the value is already gone', async () => {
    const { provider } = await g.provider();
    const name = fresh();
    const ours = challengeValue();
    await provider.present([{ name, value: ours }]);
    g.fake.beforeNextChange(() => g.fake.setRrset(name, 'TXT', []));
    const start = g.fake.calls.length;
    await provider.cleanup([{ name, value: ours }]);
    expect(calls(start, 'changes.create')).toHaveLength(1);
    expect(calls(start, 'resourceRecordSets.list')).toHaveLength(2);
    expect(g.fake.rrset(name)).toBeUndefined();
  });

  it('a cleanup racing a foreign addition leaves the foreign value', async () => {
    const { provider } = await g.provider();
    const name = fresh();
    const [ours, theirs] = [challengeValue(), challengeValue()];
    await provider.present([{ name, value: ours }]);
    g.fake.beforeNextChange(() => g.fake.setRrset(name, 'TXT', [`"${ours}"`, `"${theirs}"`]));
    await provider.cleanup([{ name, value: ours }]);
    expect(g.fake.txtValues(name)).toEqual([theirs]);
  });

  it('gives up after bounded re-reads when the rrset keeps changing, as dns-provider', async () => {
    const { provider, clock } = await g.provider();
    const name = fresh();
    let n = 0;
    const churn = () => {
      g.fake.setRrset(name, 'TXT', [`"churn-${++n}"`]);
      g.fake.beforeNextChange(churn);
    };
    g.fake.setRrset(name, 'TXT', ['"churn-0"']);
    g.fake.beforeNextChange(churn);
    const error = await provider.present([{ name, value: challengeValue() }]).catch((e: unknown) => e);
    g.fake.beforeNextChange(() => {});
    expect(error).toBeInstanceOf(CertkeeperError);
    expect(toErrorInfo(error)).toMatchObject({ class: 'dns-provider' });
    expect((error as Error).message).toMatch(
      /^google-cloud-dns: 412 conditionNotMet: .*still conflicting after 6 re-reads/,
    );
    // Jittered backoff between rounds, on the injected clock, growing.
    expect(clock.sleeps).toHaveLength(5);
    expect(clock.sleeps[4]).toBeGreaterThan(clock.sleeps[0] as number);
  });

  it('coalesces concurrent presents to one zone into one Change', async () => {
    const { provider } = await g.provider();
    const [a, b] = [fresh(), fresh()];
    const values = [challengeValue(), challengeValue(), challengeValue()];
    const start = g.fake.calls.length;
    await Promise.all([
      provider.present([{ name: a, value: values[0] as string }]),
      provider.present([{ name: a, value: values[1] as string }]),
      provider.present([{ name: b, value: values[2] as string }]),
    ]);
    expect(calls(start, 'changes.create')).toHaveLength(1);
    expect(g.fake.txtValues(a).sort()).toEqual([values[0], values[1]].sort());
    await provider.cleanup([
      { name: a, value: values[0] as string },
      { name: a, value: values[1] as string },
      { name: b, value: values[2] as string },
    ]);
    expect(g.fake.rrset(a)).toBeUndefined();
    expect(g.fake.rrset(b)).toBeUndefined();
  });

  it('retries a 429 rateLimitExceeded on the injected clock', async () => {
    const { provider, clock } = await g.provider();
    const name = fresh();
    const value = challengeValue();
    g.fake.failNext('changes.create', 429, 'rateLimitExceeded', 'Rate Limit Exceeded');
    await provider.present([{ name, value }]);
    expect(g.fake.txtValues(name)).toEqual([value]);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(500);
    await provider.cleanup([{ name, value }]);
  });
});

describe('waiting for the Change to be done', () => {
  it('present resolves only once the change is done, polling with growing intervals; DNS serves it only then', async () => {
    const name = fresh();
    const value = challengeValue();
    // The fake stays pending for three polls of the change.
    const slow = await googleSetup({ pending: { polls: 3 } });
    const p = await slow.provider();
    let servedWhilePending: string[] | undefined;
    const sleep = p.clock.sleep;
    p.clock.sleep = async (ms, signal) => {
      servedWhilePending ??= await txtValues(slow.fake.dns.address, name);
      return sleep(ms, signal);
    };
    await p.provider.present([{ name, value }]);
    expect(servedWhilePending).toEqual([]);
    expect(await txtValues(slow.fake.dns.address, name)).toEqual([value]);
    expect(slow.fake.calls.filter((c) => c === 'changes.get')).toHaveLength(4);
    expect(p.clock.sleeps).toEqual([500, 750, 1125, 1687.5]);
    // Cleanup returns once Cloud DNS accepted its change: nobody waits for a removal to be served.
    const before = slow.fake.calls.length;
    await p.provider.cleanup([{ name, value }]);
    expect(slow.fake.calls.slice(before)).toEqual(['resourceRecordSets.list', 'changes.create']);
    await slow.fake.stop();
  });

  it('logs progress on a long wait and fails as dns-propagation at the timeout', async () => {
    const slow = await googleSetup({ pending: { polls: 1_000 } });
    const { provider, log, clock } = await slow.provider({ propagation: { timeoutMs: 40_000, intervalMs: 2_000 } });
    const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
    expect(toErrorInfo(error)).toMatchObject({ class: 'dns-propagation' });
    expect((error as Error).message).toMatch(
      /^google-cloud-dns: change \d+ in zone example-com still pending after 40 s/,
    );
    expect(
      log.lines.filter((l) => /waiting for change \d+ .* to be done/.test(l.message)).length,
    ).toBeGreaterThanOrEqual(2);
    expect(clock.sleeps.every((ms) => ms <= 5_000)).toBe(true);
    await slow.fake.stop();
  });
});

describe('zone discovery', () => {
  it('picks the managed zone with the longest DNS name suffix, a child zone over its parent, across pages', async () => {
    const { provider } = await g.provider();
    const [inChild, inParent] = [fresh('deep.sub.example.com'), fresh('example.com')];
    const [v1, v2] = [challengeValue(), challengeValue()];
    await provider.present([
      { name: inChild, value: v1 },
      { name: inParent, value: v2 },
    ]);
    expect(g.fake.changes('sub-example-com').at(-1)?.additions[0]?.name).toBe(`${inChild}.`);
    expect(g.fake.changes('example-com').at(-1)?.additions[0]?.name).toBe(`${inParent}.`);
    expect(await provider.describeZone?.(inChild)).toEqual({
      name: 'sub.example.com',
      id: 'sub-example-com',
      nameServers: ['a', 'b', 'c', 'd'].map((l) => `ns-cloud-${l}1.googledomains.com`),
    });
    await provider.cleanup([
      { name: inChild, value: v1 },
      { name: inParent, value: v2 },
    ]);
  });

  it('lists the zones once per provider, following nextPageToken', async () => {
    const { provider } = await g.provider();
    const start = g.fake.calls.length;
    await provider.describeZone?.('_acme-challenge.example.org');
    await provider.describeZone?.('_acme-challenge.example.com');
    // Five zones, two per page.
    expect(calls(start, 'managedZones.list')).toHaveLength(3);
  });

  it('skips private zones unless named: a name under a private zone goes to its public parent', async () => {
    const { provider } = await g.provider();
    expect((await provider.describeZone?.('_acme-challenge.app.internal.example.com'))?.name).toBe('example.com');
    const named = (await g.provider({ managedZone: 'internal' })).provider;
    expect((await named.describeZone?.('_acme-challenge.app.internal.example.com'))?.name).toBe('internal.example.com');
    const error = await provider.describeZone?.('_acme-challenge.corp.example.net').catch((e: unknown) => e);
    expect(toErrorInfo(error)).toMatchObject({ class: 'dns-provider' });
    expect((error as Error).message).toBe(
      `google-cloud-dns: no public managed zone in project ${PROJECT} holds _acme-challenge.corp.example.net`,
    );
    expect(toErrorInfo(error).hint).toMatch(
      /only private zones match \(only-private \(corp\.example\.net\)\); name one in dns\.managedZone/,
    );
  });

  it('refuses a name outside the named managed zone, and a name in no zone', async () => {
    const named = (await g.provider({ managedZone: 'example-com' })).provider;
    const error = await named.present([{ name: '_acme-challenge.example.org', value: 'x' }]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^google-cloud-dns: _acme-challenge\.example\.org is not in managed zone example-com/,
    );
    const { provider } = await g.provider();
    const none = await provider.present([{ name: '_acme-challenge.example.net', value: 'x' }]).catch((e: unknown) => e);
    expect(toErrorInfo(none)).toMatchObject({
      class: 'dns-provider',
      hint: expect.stringMatching(/create the managed zone/),
    });
  });

  it('defaultResolvers are the zone’s name servers, resolved', async () => {
    const { provider } = await g.provider(
      {},
      {
        lookup: {
          addresses: async (host: string) =>
            host.startsWith('ns-cloud-a1') ? ['192.0.2.1', '2001:db8::1'] : ['192.0.2.2'],
        } as never,
      },
    );
    expect((await provider.defaultResolvers?.('_acme-challenge.example.com'))?.sort()).toEqual(
      ['192.0.2.1:53', '[2001:db8::1]:53', '192.0.2.2:53'].sort(),
    );
  });
});

describe('credentials and permissions', () => {
  it('runs workload identity federation the way google-github-actions/auth sets it up (OIDC token from GitHub’s URL)', async () => {
    const file = await g.credentials({ source: 'url' });
    const { provider } = await g.provider({}, { credentialsFile: file });
    const start = g.fake.calls.length;
    const name = fresh();
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(calls(start).slice(0, 2)).toEqual(['github.oidc', 'sts.token']);
    expect(g.fake.txtValues(name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
  });

  it('a token exchange the pool refuses is dns-provider, google-cloud-dns first, with a hint', async () => {
    const file = await g.credentials({
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/x/providers/y',
    });
    const { provider, log } = await g.provider({}, { credentialsFile: file });
    const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
    const info = toErrorInfo(error);
    expect(info.class).toBe('dns-provider');
    expect(info.message).toMatch(
      /^google-cloud-dns: credentials: 400 invalid_target: The target service indicated by the "audience"/,
    );
    expect(info.hint).toMatch(/workload identity pool provider/);
    assertNoCredential([info.message, info.hint, JSON.stringify(log.lines), String((error as Error).cause)]);
  });

  it('GOOGLE_APPLICATION_CREDENTIALS naming a missing file: says so', async () => {
    const { provider } = await g.provider({}, { credentialsFile: `${g.dir}/no-such-file.json` });
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
    expect(info).toMatchObject({
      class: 'dns-provider',
      message: expect.stringMatching(/^google-cloud-dns: ENOENT: /),
    });
    expect(info.hint).toMatch(/GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist/);
  });

  it('a forged OIDC token is refused as invalid_grant', async () => {
    const file = await g.credentials({ subjectToken: 'eyJhbGciOi.forged.token' });
    const { provider } = await g.provider({}, { credentialsFile: file });
    const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
    expect(toErrorInfo(error).message).toMatch(/^google-cloud-dns: credentials: 400 invalid_grant: /);
  });

  it('impersonation refused: names roles/iam.workloadIdentityUser', async () => {
    g.fake.impersonators.clear();
    try {
      const { provider } = await g.provider();
      const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
      const info = toErrorInfo(error);
      expect(info).toMatchObject({ class: 'dns-provider' });
      expect(info.message).toMatch(
        /^google-cloud-dns: 403 PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource/,
      );
      expect(info.hint).toMatch(/roles\/iam\.workloadIdentityUser/);
    } finally {
      g.fake.impersonators.add(g.fake.federatedPrincipal);
    }
  });

  it('403 without dns.changes.create: names the role and the permissions', async () => {
    const perms = g.fake.permissions.get(`serviceAccount:${g.fake.serviceAccount}`) as Set<string>;
    perms.delete('dns.changes.create');
    try {
      const { provider, log } = await g.provider();
      const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
      const info = toErrorInfo(error);
      expect(info.class).toBe('dns-provider');
      expect(info.message).toBe('google-cloud-dns: 403 forbidden: Forbidden (changes.create in zone example-com)');
      expect(info.hint).toBe(ROLE_HINT);
      expect(info.hint).toMatch(
        /roles\/dns\.admin.*dns\.changes\.create, dns\.changes\.get, dns\.resourceRecordSets\.list/,
      );
      assertNoCredential([info.message, JSON.stringify(log.lines)]);
    } finally {
      for (const p of DNS_PERMISSIONS) perms.add(p);
    }
  });

  it('404 for an unknown project names dns.project', async () => {
    const { provider } = await g.provider({ project: 'no-such-project' });
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
    expect(info.message).toMatch(
      /^google-cloud-dns: 404 notFound: The 'parameters.project' resource named 'no-such-project' does not exist/,
    );
    expect(info.hint).toBe('check dns.project (no-such-project)');
  });

  it('the Cloud DNS API disabled in the project: says to enable it', async () => {
    const { provider } = await g.provider();
    g.fake.failNext(
      'managedZones.list',
      403,
      'accessNotConfigured',
      `Cloud DNS API has not been used in project ${PROJECT} before or it is disabled.`,
    );
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
    expect(info.message).toMatch(/^google-cloud-dns: 403 accessNotConfigured: Cloud DNS API has not been used/);
    expect(info.hint).toBe(`enable the Cloud DNS API (dns.googleapis.com) in project ${PROJECT}`);
  });
});

describe('the fake, through the SDK', () => {
  it('filters managedZones.list by dnsName, and refuses an rrset type filter without a name', async () => {
    const client = createGoogleCloudDnsClient(
      {
        provider: 'google-cloud-dns',
        project: PROJECT,
        endpoint: g.fake.endpoint,
        ttl: 60,
        propagation: { timeoutMs: 1_000, intervalMs: 100 },
      },
      { GOOGLE_APPLICATION_CREDENTIALS: await g.credentials() },
    );
    const [zones] = await client.getZones({ autoPaginate: false, dnsName: 'example.org.' } as never);
    expect(zones.map((z) => z.name)).toEqual(['other-org']);
    const error = await client
      .zone('example-com')
      .getRecords({ type: 'TXT', autoPaginate: false })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 400, errors: [{ reason: 'required' }] });
  });
});

/** No token, OIDC JWT or secret the fakes issued appears in what a user could see. */
function assertNoCredential(texts: (string | undefined)[]): void {
  expect(issuedSecrets.length).toBeGreaterThan(0);
  for (const text of texts) for (const s of issuedSecrets) expect(text ?? '').not.toContain(s);
}
