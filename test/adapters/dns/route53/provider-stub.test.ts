import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { Route53Config as Route53DnsConfig } from '../../../../src/adapters/dns/route53/descriptor.js';
import { createRoute53Provider } from '../../../../src/adapters/dns/route53/provider.js';
import { parseTxt } from '../../../../src/adapters/dns/route53/txt.js';
import { DnsProviderError, PropagationError } from '../../../../src/ports/errors.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { fakeClock } from '../../../support/clock.js';
import { AwsError, type FakeOptions, FakeRoute53, type FakeZone } from '../../../support/fake-route53.js';
import { recordingLogger } from '../../../support/logger.js';

/** Stubbed SDK (aws-sdk-client-mock): only what moto cannot do. Every wait goes through a fake clock. */

const config = (extra: Partial<Route53DnsConfig> = {}): Route53DnsConfig => ({
  provider: 'route53',
  ttl: 60,
  propagation: { timeoutMs: 120_000, intervalMs: 2000 },
  ...extra,
});

const fakes: FakeRoute53[] = [];
afterEach(() => {
  for (const f of fakes.splice(0)) f.stub.restore();
});

function setup(options: FakeOptions = {}, extra: Partial<Route53DnsConfig> = {}) {
  const fake = new FakeRoute53(options);
  fakes.push(fake);
  const zone = fake.addZone('example.com');
  const clock = fakeClock();
  const logger = recordingLogger();
  const provider = createRoute53Provider(config(extra), { logger, clock, client: fake.client, random: () => 0.5 });
  return { fake, zone, clock, logger, provider };
}

const values = (fake: FakeRoute53, zone: FakeZone, name: string) => fake.raw(zone, name).map(parseTxt).sort();

describe('route53 provider against a strict stubbed Route 53', () => {
  it('survives Throttling and PriorRequestNotComplete on a third of the calls, and cleans up', async () => {
    const { fake, zone, clock, logger, provider } = setup({ faultRate: 1 / 3, pendingPolls: 2 });
    const name = '_acme-challenge.busy.example.com';
    const vs = [challengeValue(), challengeValue(), challengeValue()];
    await Promise.all(vs.map((value) => provider.present([{ name, value }])));
    expect(values(fake, zone, name)).toEqual([...vs].sort());
    const other = { name: '_acme-challenge.other.example.com', value: challengeValue() };
    await provider.present([other]);
    for (const value of vs) await provider.cleanup([{ name, value }]);
    await provider.cleanup([other]);
    expect(fake.raw(zone, name)).toEqual([]);
    expect(fake.raw(zone, other.name)).toEqual([]);
    expect(fake.faults).toBeGreaterThanOrEqual(3);
    expect(fake.calls.some((c) => c.fault === 'PriorRequestNotComplete')).toBe(true);
    expect(fake.calls.some((c) => c.fault === 'Throttling')).toBe(true);
    // Backoff waited on the injected clock, within the cap.
    expect(clock.sleeps.length).toBeGreaterThan(0);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(20_000);
    // Once throttled, the provider paces its calls at Route 53's account limit.
    expect(logger.text()).toContain('throttled; pacing calls at 5/s');
  });

  it('waits for INSYNC: polls GetChange while PENDING, with progress in the log', async () => {
    const { fake, zone, clock, logger, provider } = setup({ pendingPolls: 12 });
    const name = '_acme-challenge.slow.example.com';
    const v = challengeValue();
    const started = clock.now().getTime();
    await provider.present([{ name, value: v }]);
    expect(fake.count('GetChange')).toBe(13);
    expect(values(fake, zone, name)).toEqual([v]);
    const waited = clock.now().getTime() - started;
    expect(waited).toBeGreaterThan(30_000);
    expect(logger.lines.some((l) => l.level === 'info' && /waiting for change .* to be INSYNC/.test(l.message))).toBe(
      true,
    );
    // Polls slow down (the account's 5 requests/s budget is shared) but stay under 10 s apart.
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(10_000);
  });

  it('gives up on a change that stays PENDING past the timeout, as dns-propagation', async () => {
    const { provider } = setup({ pendingPolls: 1_000 }, { propagation: { timeoutMs: 90_000, intervalMs: 2000 } });
    const err = await provider
      .present([{ name: '_acme-challenge.stuck.example.com', value: challengeValue() }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(PropagationError);
    expect(err.message).toMatch(/^route53: change C\d+ in zone example\.com still PENDING after 9\d s$/);
  });

  it('stops retrying after 8 tries with a capped, growing backoff', async () => {
    const { fake, clock, provider } = setup();
    fake.failAlways = { op: 'ListHostedZonesByName', error: () => new AwsError('Throttling', 'Rate exceeded') };
    const err = await provider
      .present([{ name: '_acme-challenge.x.example.com', value: challengeValue() }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(DnsProviderError);
    expect(err.message).toBe('route53: ListHostedZonesByName failed after 8 tries: Throttling: Rate exceeded');
    expect(fake.calls.filter((c) => c.op === 'ListHostedZonesByName')).toHaveLength(8);
    expect(clock.sleeps).toEqual([750, 1500, 3000, 6000, 12000, 15000, 15000]);
  });

  it('does not retry what retrying cannot fix, and hints at IAM for AccessDenied', async () => {
    const { fake, provider } = setup();
    fake.failAlways = {
      op: 'ListHostedZonesByName',
      error: () => new AwsError('AccessDenied', 'User is not authorized to perform route53:ListHostedZonesByName', 403),
    };
    const err = await provider
      .present([{ name: '_acme-challenge.x.example.com', value: challengeValue() }])
      .catch((e) => e);
    expect(err.message).toMatch(/^route53: ListHostedZonesByName failed: AccessDenied: /);
    expect(err.hint).toContain('certkeeper iam-policy');
    expect(fake.calls).toHaveLength(1);
  });

  it('a DELETE must match exactly: a concurrent writer makes us re-read and merge, never overwrite', async () => {
    const { fake, zone, provider } = setup();
    const name = '_acme-challenge.race.example.com';
    const [mine, theirs] = [challengeValue(), challengeValue()];
    const first = challengeValue();
    await provider.present([{ name, value: first }]);
    let raced = false;
    fake.beforeChange = () => {
      if (raced) return;
      raced = true;
      // Another process adds its value between our read and our write.
      const set = zone.sets.get(`${name}.`);
      if (set) set.values.push(`"${theirs}"`);
    };
    await provider.present([{ name, value: mine }]);
    expect(values(fake, zone, name)).toEqual([first, mine, theirs].sort());
    const refused = fake.calls.filter((c) => c.op === 'ChangeResourceRecordSets');
    expect(refused.length).toBe(3);

    // And cleanup, raced the same way, removes only ours.
    raced = false;
    const another = challengeValue();
    fake.beforeChange = () => {
      if (raced) return;
      raced = true;
      zone.sets.get(`${name}.`)?.values.push(`"${another}"`);
    };
    await provider.cleanup([
      { name, value: mine },
      { name, value: first },
    ]);
    expect(values(fake, zone, name)).toEqual([theirs, another].sort());
  });

  it('counts a set that vanished before our DELETE as cleaned', async () => {
    const { fake, zone, provider } = setup();
    const name = '_acme-challenge.gone.example.com';
    const v = challengeValue();
    await provider.present([{ name, value: v }]);
    fake.beforeChange = () => {
      zone.sets.delete(`${name}.`);
      fake.beforeChange = undefined;
    };
    await expect(provider.cleanup([{ name, value: v }])).resolves.toBeUndefined();
    expect(fake.raw(zone, name)).toEqual([]);
  });

  it('finds zones with AWS listing order (zones after DNSName are listed too)', async () => {
    const fake = new FakeRoute53();
    fakes.push(fake);
    fake.addZone('a.example.com');
    const com = fake.addZone('example.com');
    fake.addZone('zzz.example.com');
    const priv = fake.addZone('internal.example.com', { private: true });
    const provider = createRoute53Provider(config(), {
      logger: recordingLogger(),
      clock: fakeClock(),
      client: fake.client,
    });
    const v = challengeValue();
    await provider.present([
      { name: '_acme-challenge.b.example.com', value: v },
      { name: '_acme-challenge.x.internal.example.com', value: v },
    ]);
    expect(fake.raw(com, '_acme-challenge.b.example.com')).toEqual([`"${v}"`]);
    expect(fake.raw(com, '_acme-challenge.x.internal.example.com')).toEqual([`"${v}"`]);
    expect(fake.raw(priv, '_acme-challenge.x.internal.example.com')).toEqual([]);
    // One batch for the one zone, and zone lookups cached.
    expect(fake.count('ChangeResourceRecordSets')).toBe(1);
    const lookups = fake.count('ListHostedZonesByName');
    await provider.cleanup([{ name: '_acme-challenge.b.example.com', value: v }]);
    expect(fake.count('ListHostedZonesByName')).toBe(lookups);
  });

  it('names the zone in errors when the zone id does not exist', async () => {
    const { provider } = setup({}, { hostedZoneId: 'ZNOPE' });
    const err = await provider
      .present([{ name: '_acme-challenge.example.com', value: challengeValue() }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(DnsProviderError);
    expect(err.message).toMatch(/^route53: GetHostedZone ZNOPE failed: NoSuchHostedZone: /);
  });

  it('drops a queued present when its signal aborts', async () => {
    const { fake, zone, provider } = setup({ pendingPolls: 3 });
    const name = '_acme-challenge.abort.example.com';
    const [a, b] = [challengeValue(), challengeValue()];
    const controller = new AbortController();
    const first = provider.present([{ name, value: a }]);
    // Let the first batch start (it reads the name), so the second one queues behind it.
    while (fake.calls.every((c) => c.op !== 'ListResourceRecordSets')) await new Promise((r) => setImmediate(r));
    const second = provider.present([{ name, value: b }], controller.signal);
    controller.abort(new Error('run cancelled'));
    await expect(second).rejects.toThrow('run cancelled');
    await first;
    expect(values(fake, zone, name)).toEqual([a]);
  });

  it('resolves default resolvers from the delegation set', async () => {
    const fake = new FakeRoute53();
    fakes.push(fake);
    fake.addZone('example.com');
    const provider = createRoute53Provider(config(), {
      logger: recordingLogger(),
      clock: fakeClock(),
      client: fake.client,
      resolveHost: async (h) => (h.startsWith('ns-1') ? ['198.51.100.1'] : ['198.51.100.2', '2001:db8::2']),
    });
    expect((await provider.defaultResolvers?.('_acme-challenge.www.example.com'))?.sort()).toEqual(
      ['198.51.100.1:53', '198.51.100.2:53', '[2001:db8::2]:53'].sort(),
    );
  });
});

describe('contract on the strict stub, with faults and PENDING changes', () => {
  let shared: { fake: FakeRoute53; zone: FakeZone } | undefined;
  const get = () => {
    if (!shared) {
      const fake = new FakeRoute53({ faultRate: 1 / 3, pendingPolls: 1 });
      shared = { fake, zone: fake.addZone('contract.example.com') };
    }
    return shared;
  };
  dnsProviderContract(
    'route53 (strict stub, 1/3 faults)',
    () => createRoute53Provider(config(), { logger: recordingLogger(), clock: fakeClock(), client: get().fake.client }),
    async (name) => get().fake.raw(get().zone, name).map(parseTxt),
    { domain: 'contract.example.com' },
  );
});

describe('route53 provider: pipelined zone writes (a fleet in one zone)', () => {
  it("sends each batch without waiting for an earlier batch's INSYNC; each present waits for its own change", async () => {
    const { fake, provider } = setup({ pendingPolls: 3 });
    const a = provider.present([{ name: '_acme-challenge.a.example.com', value: challengeValue() }]);
    // Leaves in a batch of its own: the first one is already on the wire.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const b = provider.present([{ name: '_acme-challenge.b.example.com', value: challengeValue() }]);
    await Promise.all([a, b]);
    const ops = fake.calls.filter((c) => !c.fault).map((c) => c.op);
    const firstPoll = ops.indexOf('GetChange');
    const writes = ops.map((op, i) => (op === 'ChangeResourceRecordSets' ? i : -1)).filter((i) => i >= 0);
    expect(writes).toHaveLength(2);
    // The second batch left before any GetChange of the first came back INSYNC.
    expect(writes[1]).toBeLessThan(firstPoll + 3);
    // Both presents waited for their own change: polls for two change ids.
    const polled = new Set(fake.calls.filter((c) => c.op === 'GetChange').map((c) => (c.input as { Id: string }).Id));
    expect(polled.size).toBe(2);
  });

  it('reads the TXT sets of a batch with one listing, and finds zones with one listing per run', async () => {
    const { fake, provider } = setup();
    const records = Array.from({ length: 20 }, (_, i) => ({
      name: `_acme-challenge.host${i}.example.com`,
      value: challengeValue(),
    }));
    await provider.present(records);
    await provider.cleanup(records);
    expect(fake.count('ListHostedZonesByName')).toBe(1);
    // One listing for the present batch, not one per name; the cleanup of the sets it just wrote
    // builds its compare-and-swap from what it wrote, without listing them again.
    expect(fake.count('ListResourceRecordSets')).toBe(1);
    expect(fake.count('ChangeResourceRecordSets')).toBe(2);
  });

  it('a cleanup of sets someone changed after our present is refused, re-reads and removes only ours', async () => {
    const { fake, zone, provider } = setup();
    const name = '_acme-challenge.later.example.com';
    const [mine, theirs] = [challengeValue(), challengeValue()];
    await provider.present([{ name, value: mine }]);
    // Another process adds its value after our present and before our cleanup.
    zone.sets.get(`${name}.`)?.values.push(`"${theirs}"`);
    const reads = fake.count('ListResourceRecordSets');
    await provider.cleanup([{ name, value: mine }]);
    expect(values(fake, zone, name)).toEqual([theirs]);
    // The DELETE built from what we wrote did not match: refused, then read and retried.
    expect(fake.count('ListResourceRecordSets')).toBe(reads + 1);
    expect(fake.count('ChangeResourceRecordSets')).toBe(3);
  });
});

describe('route53 provider: the run-wide abort signal', () => {
  it('leaves no abort listener behind once its operations settle (a fleet run used to warn MaxListenersExceeded)', async () => {
    const { provider } = setup();
    const run = new AbortController();
    for (let i = 0; i < 15; i++) {
      const records = [{ name: `_acme-challenge.l${i}.example.com`, value: challengeValue() }];
      await provider.present(records, run.signal);
      await provider.cleanup(records, run.signal);
    }
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });
});
