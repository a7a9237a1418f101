import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Route53Config as Route53DnsConfig } from '../../../../src/adapters/dns/route53/descriptor.js';
import { createRoute53Provider } from '../../../../src/adapters/dns/route53/provider.js';
import { parseTxt, quoteTxt } from '../../../../src/adapters/dns/route53/txt.js';
import { DnsProviderError } from '../../../../src/ports/errors.js';
import { challengeValue, dnsProviderContract } from '../../../contract/dns-provider.js';
import { useMoto } from '../../../support/aws.js';
import { fakeClock } from '../../../support/clock.js';
import { recordingLogger } from '../../../support/logger.js';

const aws = useMoto();
let admin: Route53Client;
const zones: Record<string, string> = {};

async function createZone(name: string, opts: { private?: boolean } = {}): Promise<string> {
  const out = await admin.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: `${name}-${Math.random()}`,
      ...(opts.private
        ? { HostedZoneConfig: { PrivateZone: true }, VPC: { VPCRegion: 'us-east-1', VPCId: 'vpc-12345678' } }
        : {}),
    }),
  );
  return (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
}

async function txtSet(zoneId: string, name: string): Promise<ResourceRecordSet | undefined> {
  const out = await admin.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return out.ResourceRecordSets?.find((r) => r.Type === 'TXT' && r.Name === `${name}.`);
}

async function txtValues(zoneId: string, name: string): Promise<string[]> {
  return ((await txtSet(zoneId, name))?.ResourceRecords ?? []).map((r) => parseTxt(r.Value ?? ''));
}

function config(extra: Partial<Route53DnsConfig> = {}): Route53DnsConfig {
  return { provider: 'route53', ttl: 60, propagation: { timeoutMs: 120_000, intervalMs: 2000 }, ...extra };
}

function provider(
  extra: Partial<Route53DnsConfig> = {},
  deps: Partial<Parameters<typeof createRoute53Provider>[1]> = {},
) {
  return createRoute53Provider(config(extra), {
    logger: recordingLogger(),
    clock: fakeClock(),
    clients: aws.clients,
    ...deps,
  });
}

beforeAll(async () => {
  admin = new Route53Client({});
  zones.example = await createZone('example.com');
  zones.sub = await createZone('sub.example.com.');
  zones.privateSub = await createZone('internal.example.com', { private: true });
  zones.privateOnly = await createZone('corp.example.org', { private: true });
  zones.contract = await createZone('contract.example.com');
});

describe('route53 provider against moto', () => {
  it('finds the zone by longest suffix', async () => {
    const p = provider();
    const v = challengeValue();
    await p.present([
      { name: '_acme-challenge.www.sub.example.com', value: v },
      { name: '_acme-challenge.example.com', value: v },
    ]);
    expect(await txtValues(zones.sub as string, '_acme-challenge.www.sub.example.com')).toEqual([v]);
    expect(await txtValues(zones.example as string, '_acme-challenge.www.sub.example.com')).toEqual([]);
    expect(await txtValues(zones.example as string, '_acme-challenge.example.com')).toEqual([v]);
    await p.cleanup([
      { name: '_acme-challenge.www.sub.example.com', value: v },
      { name: '_acme-challenge.example.com', value: v },
    ]);
    expect(await txtSet(zones.sub as string, '_acme-challenge.www.sub.example.com')).toBeUndefined();
    expect(await txtSet(zones.example as string, '_acme-challenge.example.com')).toBeUndefined();
  });

  it('skips a private zone unless hostedZoneId names it', async () => {
    const name = '_acme-challenge.app.internal.example.com';
    const v = challengeValue();
    await provider().present([{ name, value: v }]);
    expect(await txtValues(zones.example as string, name)).toEqual([v]);
    expect(await txtValues(zones.privateSub as string, name)).toEqual([]);
    await provider().cleanup([{ name, value: v }]);

    const named = provider({ hostedZoneId: zones.privateSub as string });
    await named.present([{ name, value: v }]);
    expect(await txtValues(zones.privateSub as string, name)).toEqual([v]);
    expect(await txtValues(zones.example as string, name)).toEqual([]);
    await named.cleanup([{ name, value: v }]);
    expect(await txtValues(zones.privateSub as string, name)).toEqual([]);
  });

  it('accepts hostedZoneId in the /hostedzone/ form', async () => {
    const p = provider({ hostedZoneId: `/hostedzone/${zones.example}` });
    const v = challengeValue();
    await p.present([{ name: '_acme-challenge.form.example.com', value: v }]);
    expect(await txtValues(zones.example as string, '_acme-challenge.form.example.com')).toEqual([v]);
    await p.cleanup([{ name: '_acme-challenge.form.example.com', value: v }]);
  });

  it('fails clearly when no public zone matches, naming the private ones', async () => {
    const err = await provider()
      .present([{ name: '_acme-challenge.x.corp.example.org', value: challengeValue() }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsProviderError);
    expect((err as DnsProviderError).message).toBe(
      'route53: no public hosted zone found for _acme-challenge.x.corp.example.org',
    );
    expect((err as DnsProviderError).hint).toContain(zones.privateOnly);
    expect((err as DnsProviderError).errorClass).toBe('dns-provider');
  });

  it('refuses a name outside the configured hostedZoneId', async () => {
    const err = await provider({ hostedZoneId: zones.sub as string })
      .present([{ name: '_acme-challenge.other.example.com', value: challengeValue() }])
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^route53: _acme-challenge\.other\.example\.com is not in hosted zone /);
  });

  it('merges apex and wildcard values into one quoted TXT record set with the configured TTL', async () => {
    const name = '_acme-challenge.merge.example.com';
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    const p = provider({ ttl: 30 });
    await p.present([{ name, value: apex }]);
    await p.present([{ name, value: wildcard }]);
    const set = await txtSet(zones.example as string, name);
    expect(set?.TTL).toBe(30);
    expect(set?.ResourceRecords?.map((r) => r.Value).sort()).toEqual([`"${apex}"`, `"${wildcard}"`].sort());
    await p.cleanup([{ name, value: apex }]);
    expect(await txtValues(zones.example as string, name)).toEqual([wildcard]);
    await p.cleanup([{ name, value: wildcard }]);
    expect(await txtSet(zones.example as string, name)).toBeUndefined();
  });

  it('keeps values written by others (another tool, another TTL)', async () => {
    const name = '_acme-challenge.foreign.example.com';
    const other = new Route53Client({});
    const { ChangeResourceRecordSetsCommand } = await import('@aws-sdk/client-route-53');
    await other.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zones.example,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: name, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] },
            },
          ],
        },
      }),
    );
    const v = challengeValue();
    const p = provider();
    await p.present([{ name, value: v }]);
    expect((await txtValues(zones.example as string, name)).sort()).toEqual(['v=spf1 -all', v].sort());
    await p.cleanup([{ name, value: v }]);
    const set = await txtSet(zones.example as string, name);
    expect(set?.ResourceRecords).toEqual([{ Value: '"v=spf1 -all"' }]);
    expect(set?.TTL).toBe(300);
  });

  it('coalesces concurrent presents from two providers sharing the client', async () => {
    const name = '_acme-challenge.shared.example.com';
    const [a, b] = [provider(), provider({ ttl: 120 })];
    const values = [challengeValue(), challengeValue(), challengeValue()];
    const before = aws.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length;
    await Promise.all([
      a.present([{ name, value: values[0] as string }]),
      b.present([{ name, value: values[1] as string }]),
      a.present([{ name, value: values[2] as string }]),
    ]);
    const batches = aws.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length - before;
    // Each provider looks its zone up itself; after that their writes queue on one zone writer.
    expect(batches).toBeLessThanOrEqual(2);
    expect((await txtValues(zones.example as string, name)).sort()).toEqual([...values].sort());
    await Promise.all(values.map((value) => b.cleanup([{ name, value }])));
    expect(await txtSet(zones.example as string, name)).toBeUndefined();
  });

  it('sends concurrent presents of one provider in one batch', async () => {
    const p = provider();
    await p.present([{ name: '_acme-challenge.warm.example.com', value: challengeValue() }]);
    const before = aws.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length;
    const name = '_acme-challenge.together.example.com';
    const values = [challengeValue(), challengeValue(), challengeValue()];
    await Promise.all(values.map((value) => p.present([{ name, value }])));
    expect(aws.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length - before).toBe(1);
    expect((await txtValues(zones.example as string, name)).sort()).toEqual([...values].sort());
    await p.cleanup(values.map((value) => ({ name, value })));
  });

  it('sends one change batch per zone per call', async () => {
    const before = aws.calls.length;
    const p = provider();
    const v = challengeValue();
    const records = [
      { name: '_acme-challenge.one.example.com', value: v },
      { name: '_acme-challenge.two.example.com', value: v },
      { name: '_acme-challenge.three.sub.example.com', value: v },
    ];
    await p.present(records);
    const changes = aws.calls.slice(before).filter((c) => c.operation === 'ChangeResourceRecordSets');
    expect(changes.map((c) => String(c.input.HostedZoneId)).sort()).toEqual([zones.example, zones.sub].sort());
    await p.cleanup(records);
  });

  it('returns the zone name servers as default resolvers', async () => {
    const asked: string[] = [];
    const p = provider(
      {},
      {
        resolveHost: async (host) => {
          asked.push(host);
          if (host.endsWith('.net')) throw new Error('ENOTFOUND');
          return host.endsWith('.com') ? ['192.0.2.10'] : ['2001:db8::53'];
        },
      },
    );
    const resolvers = await p.defaultResolvers?.('_acme-challenge.www.example.com');
    expect(asked.length).toBe(4);
    expect(resolvers).toContain('192.0.2.10:53');
    expect(resolvers).toContain('[2001:db8::53]:53');
    await expect(
      provider({ hostedZoneId: zones.privateSub as string }).defaultResolvers?.('_acme-challenge.internal.example.com'),
    ).rejects.toThrow(/^route53: zone internal\.example\.com .* is private/);
  });

  it('quotes and parses TXT strings, splitting long values at 255', () => {
    expect(quoteTxt('abc')).toBe('"abc"');
    expect(quoteTxt('a"b\\c')).toBe('"a\\"b\\\\c"');
    const long = 'x'.repeat(300);
    expect(quoteTxt(long)).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
    expect(parseTxt(quoteTxt(long))).toBe(long);
    expect(parseTxt('"a\\"b\\\\c"')).toBe('a"b\\c');
    expect(parseTxt('"caf\\303\\251"')).toBe('caf\u00e9');
    expect(parseTxt('"caf\u00e9 \u{1f512}"')).toBe('caf\u00e9 \u{1f512}');
  });
});

dnsProviderContract(
  'route53 (moto)',
  () => provider(),
  (name) => txtValues(zones.contract as string, name),
  { domain: 'contract.example.com' },
);
