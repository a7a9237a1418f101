import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureDnsClient } from '../../../../src/adapters/dns/azure-dns/provider.js';
import { CertkeeperError, toErrorInfo } from '../../../../src/ports/errors.js';
import { challengeValue } from '../../../contract/dns-provider.js';
import { DNS_ACTIONS, issuedSecrets } from '../../../support/fakes/azure-dns.js';
import { type AzureSetup, azureSetup, RESOURCE_GROUP, SUBSCRIPTION, withAzureEnv } from './helpers.js';

/**
 * azure-dns beyond the contract, through the real SDKs against the fake: ETag compare-and-swap
 * (412 from a second writer between our read and our write, for update, create and delete),
 * Azure's 409 and 429 retried on the injected clock, zone discovery, credential and RBAC failures.
 */

let a: AzureSetup;
let seq = 0;
const fresh = (zone = 'example.com') => `_acme-challenge.w${++seq}.${zone}`;

beforeAll(async () => {
  a = await azureSetup({
    zones: [
      { name: 'example.com' },
      { name: 'sub.example.com' },
      { name: 'internal.example.com', zoneType: 'Private' },
      { name: 'corp.example.net', zoneType: 'Private' },
      { name: 'example.org' },
    ],
    // Two per page: discovery has to follow nextLink.
    pageSize: 2,
  });
});

afterAll(async () => {
  await a?.fake.stop();
});

const calls = (from: number, op?: string) => a.fake.calls.slice(from).filter((c) => !op || c === op);
const writes = (from: number) => calls(from).filter((c) => c.startsWith('recordSets.'));

describe('writes: the record set read with its ETag, written back with If-Match', () => {
  it('merges apex + wildcard into one record set, keeping foreign records, the TTL and the metadata', async () => {
    const { provider } = await a.provider();
    const name = fresh();
    a.fake.setRecordSet(name, [['foreign', ' two strings']], 3600, { owner: 'someone-else' });
    const [apex, wildcard] = [challengeValue(), challengeValue()];
    const start = a.fake.calls.length;
    await provider.present([
      { name, value: apex },
      { name, value: wildcard },
    ]);
    expect(writes(start)).toEqual(['recordSets.get', 'recordSets.createOrUpdate']);
    const set = a.fake.recordSet(name);
    expect(set).toMatchObject({ ttl: 3600, metadata: { owner: 'someone-else' } });
    expect(set?.records).toEqual([['foreign', ' two strings'], [apex], [wildcard]]);
    await provider.cleanup([
      { name, value: apex },
      { name, value: wildcard },
    ]);
    expect(a.fake.recordSet(name)?.records).toEqual([['foreign', ' two strings']]);
  });

  it('creates a new record set with If-None-Match and the configured TTL', async () => {
    const { provider } = await a.provider({ ttl: 120 });
    const name = fresh();
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(a.fake.recordSet(name)).toMatchObject({ ttl: 120, records: [[value]] });
    await provider.cleanup([{ name, value }]);
    expect(a.fake.recordSet(name)).toBeUndefined();
  });

  it('412 on update: a second writer changes the set between our read and our PUT; we re-read and keep both', async () => {
    const { provider, clock } = await a.provider();
    const name = fresh();
    const [first, theirs, ours] = [challengeValue(), challengeValue(), challengeValue()];
    a.fake.setRecordSet(name, [[first]]);
    a.fake.beforeNextWrite(() => a.fake.setRecordSet(name, [[first], [theirs]]));
    const start = a.fake.calls.length;
    await provider.present([{ name, value: ours }]);
    expect(writes(start)).toEqual([
      'recordSets.get',
      'recordSets.createOrUpdate',
      'recordSets.get',
      'recordSets.createOrUpdate',
    ]);
    expect(a.fake.txtValues(name).sort()).toEqual([first, theirs, ours].sort());
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(500);
    await provider.cleanup([{ name, value: ours }]);
    expect(a.fake.txtValues(name).sort()).toEqual([first, theirs].sort());
  });

  it('412 on create: a second writer creates the set first (If-None-Match: *); we re-read and merge', async () => {
    const { provider } = await a.provider();
    const name = fresh();
    const [theirs, ours] = [challengeValue(), challengeValue()];
    a.fake.beforeNextWrite(() => a.fake.setRecordSet(name, [[theirs]], 300));
    const start = a.fake.calls.length;
    await provider.present([{ name, value: ours }]);
    expect(calls(start, 'recordSets.createOrUpdate')).toHaveLength(2);
    expect(a.fake.recordSet(name)).toMatchObject({ ttl: 300, records: [[theirs], [ours]] });
    await provider.cleanup([{ name, value: ours }]);
    expect(a.fake.txtValues(name)).toEqual([theirs]);
  });

  it('412 on delete: a value added after our read survives; the set is written back instead of deleted', async () => {
    const { provider } = await a.provider();
    const name = fresh();
    const [ours, theirs] = [challengeValue(), challengeValue()];
    await provider.present([{ name, value: ours }]);
    a.fake.beforeNextWrite(() => a.fake.setRecordSet(name, [[ours], [theirs]]));
    const start = a.fake.calls.length;
    await provider.cleanup([{ name, value: ours }]);
    expect(writes(start)).toEqual([
      'recordSets.get',
      'recordSets.delete',
      'recordSets.get',
      'recordSets.createOrUpdate',
    ]);
    expect(a.fake.txtValues(name)).toEqual([theirs]);
  });

  it('two runs at once: the other run’s write lands between our read and ours (412 each time); both values stay', async () => {
    const ours = await a.provider();
    const theirs = await a.provider();
    const name = fresh();
    const [v1, v2, v3] = [challengeValue(), challengeValue(), challengeValue()];
    // The other run writes through its own SDK client while our PUT waits at the API.
    a.fake.beforeNextWrite(() => theirs.provider.present([{ name, value: v2 }]));
    const start = a.fake.calls.length;
    await ours.provider.present([{ name, value: v1 }]);
    expect(a.fake.txtValues(name).sort()).toEqual([v1, v2].sort());
    expect(calls(start, 'recordSets.createOrUpdate')).toHaveLength(3);
    a.fake.beforeNextWrite(() => theirs.provider.present([{ name, value: v3 }]));
    await ours.provider.cleanup([{ name, value: v1 }]);
    expect(a.fake.txtValues(name).sort()).toEqual([v2, v3].sort());
    await theirs.provider.cleanup([
      { name, value: v2 },
      { name, value: v3 },
    ]);
    expect(a.fake.recordSet(name)).toBeUndefined();
  });

  it('a set deleted by someone else meanwhile: our value is already gone', async () => {
    const { provider } = await a.provider();
    const name = fresh();
    const ours = challengeValue();
    await provider.present([{ name, value: ours }]);
    a.fake.beforeNextWrite(() => a.fake.setRecordSet(name, []));
    await expect(provider.cleanup([{ name, value: ours }])).resolves.toBeUndefined();
    expect(a.fake.recordSet(name)).toBeUndefined();
  });

  it('gives up after bounded re-reads when the set keeps changing, as dns-provider', async () => {
    const { provider, clock } = await a.provider();
    const name = fresh();
    let n = 0;
    const churn = () => {
      a.fake.setRecordSet(name, [[`churn-${++n}`]]);
      a.fake.beforeNextWrite(churn);
    };
    a.fake.setRecordSet(name, [['churn-0']]);
    a.fake.beforeNextWrite(churn);
    const error = await provider.present([{ name, value: challengeValue() }]).catch((e: unknown) => e);
    a.fake.beforeNextWrite(() => {});
    expect(error).toBeInstanceOf(CertkeeperError);
    expect(toErrorInfo(error).class).toBe('dns-provider');
    expect((error as Error).message).toMatch(
      /^azure-dns: PreconditionFailed: The Record set _acme-challenge\.w\d+ has been modified \(etag mismatch\)\. \(update TXT _acme-challenge\.w\d+ in zone example\.com, still conflicting after 6 re-reads\)$/,
    );
    expect(clock.sleeps).toHaveLength(5);
  });

  it('coalesces concurrent presents on one record set into one write', async () => {
    const { provider } = await a.provider();
    const name = fresh();
    const values = [challengeValue(), challengeValue(), challengeValue()];
    const start = a.fake.calls.length;
    await Promise.all(values.map((value) => provider.present([{ name, value }])));
    expect(calls(start, 'recordSets.createOrUpdate')).toHaveLength(1);
    expect(a.fake.txtValues(name).sort()).toEqual([...values].sort());
    await provider.cleanup(values.map((value) => ({ name, value })));
    expect(a.fake.recordSet(name)).toBeUndefined();
  });

  it('retries 409 "another operation is pending" and honours a 429 Retry-After, on the injected clock', async () => {
    const { provider, clock } = await a.provider();
    const name = fresh();
    const value = challengeValue();
    a.fake.failNext(
      'recordSets.createOrUpdate',
      409,
      'Conflict',
      `Another operation is pending for requested object. Operation group '/operations/groups/id/|subscriptions|${SUBSCRIPTION}|resourceGroups|${RESOURCE_GROUP}|dnsZones|example.com|TXT|x' already has 1 operations queued.`,
    );
    await provider.present([{ name, value }]);
    a.fake.failNext('recordSets.get', 429, 'TooManyRequests', 'The request is being throttled.', {
      'retry-after': '17',
    });
    await provider.cleanup([{ name, value }]);
    expect(a.fake.recordSet(name)).toBeUndefined();
    expect(clock.sleeps).toEqual([1_000 * 0.75, 17_000]);
  });

  it('a 409 of another kind is not retried', async () => {
    const { provider } = await a.provider();
    a.fake.failNext(
      'recordSets.createOrUpdate',
      409,
      'Conflict',
      "You have reached or exceeded the maximum number of record resources in zone 'example.com'.",
    );
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
    expect(info.message).toMatch(
      /^azure-dns: Conflict: You have reached or exceeded the maximum number of record resources/,
    );
  });
});

describe('zone discovery', () => {
  it('picks the zone with the longest name suffix, a child zone over its parent, across pages', async () => {
    const { provider } = await a.provider();
    const [inChild, inParent] = [fresh('deep.sub.example.com'), fresh('example.com')];
    const [v1, v2] = [challengeValue(), challengeValue()];
    await provider.present([
      { name: inChild, value: v1 },
      { name: inParent, value: v2 },
    ]);
    expect(a.fake.recordSet(inChild)?.relativeName).toMatch(/^_acme-challenge\.w\d+\.deep$/);
    expect(a.fake.recordSet(inParent)?.relativeName).toMatch(/^_acme-challenge\.w\d+$/);
    expect(await provider.describeZone?.(inChild)).toEqual({
      name: 'sub.example.com',
      id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Network/dnszones/sub.example.com`,
      nameServers: ['ns1-01.azure-dns.com', 'ns2-01.azure-dns.net', 'ns3-01.azure-dns.org'],
    });
    await provider.cleanup([
      { name: inChild, value: v1 },
      { name: inParent, value: v2 },
    ]);
  });

  it('lists the zones once per provider, following nextLink', async () => {
    const { provider } = await a.provider();
    const start = a.fake.calls.length;
    await provider.describeZone?.('_acme-challenge.example.org');
    await provider.describeZone?.('_acme-challenge.example.com');
    expect(calls(start, 'zones.listByResourceGroup')).toHaveLength(3);
  });

  it('writes the apex record set as @', async () => {
    const { provider } = await a.provider({ zoneName: 'example.org' });
    const value = challengeValue();
    await provider.present([{ name: 'example.org', value }]);
    expect(a.fake.recordSet('example.org')?.relativeName).toBe('@');
    await provider.cleanup([{ name: 'example.org', value }]);
  });

  it('skips private zones unless named', async () => {
    const { provider } = await a.provider();
    expect((await provider.describeZone?.('_acme-challenge.app.internal.example.com'))?.name).toBe('example.com');
    const named = (await a.provider({ zoneName: 'internal.example.com' })).provider;
    expect((await named.describeZone?.('_acme-challenge.app.internal.example.com'))?.name).toBe('internal.example.com');
    const info = toErrorInfo(
      await provider.describeZone?.('_acme-challenge.corp.example.net').catch((e: unknown) => e),
    );
    expect(info).toMatchObject({
      class: 'dns-provider',
      message: `azure-dns: no public DNS zone in resource group ${RESOURCE_GROUP} holds _acme-challenge.corp.example.net`,
    });
    expect(info.hint).toMatch(/only private zones match \(corp\.example\.net\); name one in dns\.zoneName/);
  });

  it('refuses a name outside the named zone; an unknown zone or resource group is a hinted 404', async () => {
    const named = (await a.provider({ zoneName: 'example.com' })).provider;
    const outside = await named.present([{ name: '_acme-challenge.example.org', value: 'x' }]).catch((e: unknown) => e);
    expect((outside as Error).message).toBe('azure-dns: _acme-challenge.example.org is not in zone example.com');
    const missing = (await a.provider({ zoneName: 'nope.example.com' })).provider;
    const info = toErrorInfo(
      await missing.present([{ name: '_acme-challenge.nope.example.com', value: 'x' }]).catch((e) => e),
    );
    expect(info.message).toMatch(
      /^azure-dns: ResourceNotFound: The Resource 'Microsoft.Network\/dnszones\/nope.example.com'/,
    );
    expect(info.hint).toBe(`check dns.zoneName (nope.example.com) and dns.resourceGroup (${RESOURCE_GROUP})`);
    const rg = (await a.provider({ resourceGroup: 'other-rg' })).provider;
    const rgInfo = toErrorInfo(await rg.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
    expect(rgInfo.message).toMatch(/^azure-dns: ResourceGroupNotFound: Resource group 'other-rg' could not be found\./);
    expect(rgInfo.hint).toBe(`check dns.resourceGroup (other-rg) in subscription ${SUBSCRIPTION}`);
  });
});

describe('credentials and RBAC', () => {
  it('a client secret credential (EnvironmentCredential) works too', async () => {
    const { provider } = await a.provider({}, { credentialEnv: a.fake.secretEnv() });
    const name = fresh();
    const value = challengeValue();
    await provider.present([{ name, value }]);
    expect(a.fake.txtValues(name)).toEqual([value]);
    await provider.cleanup([{ name, value }]);
  });

  it('a wrong client secret is dns-provider, azure-dns first, and never shows the secret', async () => {
    const env = { ...a.fake.secretEnv(), AZURE_CLIENT_SECRET: 'azs~this-is-the-wrong-secret-value' };
    const { provider, log } = await a.provider({}, { credentialEnv: env });
    const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
    const info = toErrorInfo(error);
    expect(info.class).toBe('dns-provider');
    expect(info.message).toMatch(
      /^azure-dns: credentials: invalid_client: AADSTS7000215: Invalid client secret provided\. .* \(list zones in resource group dns-rg\)$/,
    );
    expect(info.hint).toBe('the client secret in AZURE_CLIENT_SECRET is wrong or expired');
    assertNoCredential(
      [info.message, info.hint, JSON.stringify(log.lines), String((error as Error).cause)],
      [env.AZURE_CLIENT_SECRET],
    );
  });

  it('an OIDC token whose subject has no federated credential names the fix', async () => {
    const env = await a.fake.federatedEnv(a.dir, { subject: 'repo:acme/infra:pull_request' });
    const { provider } = await a.provider({}, { credentialEnv: env });
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e) => e));
    expect(info.class).toBe('dns-provider');
    expect(info.message).toMatch(
      /^azure-dns: credentials: invalid_client: AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:acme\/infra:pull_request'/,
    );
    expect(info.hint).toMatch(/add a federated credential for this repository and branch/);
  });

  it('no credential at all: says which environment variables to set', async () => {
    const { provider } = await a.provider({}, { credentialEnv: { AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential' } });
    const info = toErrorInfo(await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e) => e));
    expect(info.class).toBe('dns-provider');
    expect(info.message).toBe(
      "azure-dns: credentials: no credential of DefaultAzureCredential's chain is available (list zones in resource group dns-rg)",
    );
    expect(info.hint).toMatch(
      /^no Azure credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE/,
    );
  });

  it('403 AuthorizationFailed names DNS Zone Contributor on the zone', async () => {
    a.fake.actions.delete('Microsoft.Network/dnszones/TXT/write');
    try {
      const { provider, log } = await a.provider({ zoneName: 'example.com' });
      const error = await provider.present([{ name: fresh(), value: challengeValue() }]).catch((e: unknown) => e);
      const info = toErrorInfo(error);
      expect(info.class).toBe('dns-provider');
      expect(info.message).toMatch(
        new RegExp(
          `^azure-dns: AuthorizationFailed: The client '${a.fake.clientId}' with object id '[-0-9a-f]+' does not have authorization to perform action 'Microsoft.Network/dnszones/TXT/write'`,
        ),
      );
      expect(info.hint).toBe(
        `grant the identity "DNS Zone Contributor" on the zone example.com (resource group ${RESOURCE_GROUP})`,
      );
      assertNoCredential([info.message, JSON.stringify(log.lines)]);
    } finally {
      for (const action of DNS_ACTIONS) a.fake.actions.add(action);
    }
  });

  it('without zoneName, a missing read on the resource group also says how to find the zone', async () => {
    a.fake.actions.delete('Microsoft.Network/dnszones/read');
    try {
      const { provider } = await a.provider();
      const info = toErrorInfo(await provider.present([{ name: fresh(), value: 'x' }]).catch((e: unknown) => e));
      expect(info.message).toMatch(/^azure-dns: AuthorizationFailed: .*'Microsoft.Network\/dnszones\/read' over scope/);
      expect(info.hint).toMatch(
        /"DNS Zone Contributor" on the zone .*; finding the zone also needs Reader on the resource group, or set dns\.zoneName$/,
      );
    } finally {
      for (const action of DNS_ACTIONS) a.fake.actions.add(action);
    }
  });
});

describe('the fake, through the SDK', () => {
  it('lists zones of the subscription and TXT record sets by type and name suffix, paging by nextLink', async () => {
    const env = a.fake.secretEnv();
    const client = withAzureEnv(env, () =>
      createAzureDnsClient(
        {
          provider: 'azure-dns',
          subscriptionId: SUBSCRIPTION,
          resourceGroup: RESOURCE_GROUP,
          endpoint: a.fake.endpoint,
          ttl: 60,
          propagation: { timeoutMs: 1_000, intervalMs: 100 },
        },
        { env: { AZURE_AUTHORITY_HOST: a.fake.authorityHost }, httpClient: a.httpClient },
      ),
    );
    const zones: string[] = [];
    for await (const z of client.zones.list()) zones.push(z.name as string);
    expect(zones.sort()).toEqual([
      'corp.example.net',
      'example.com',
      'example.org',
      'internal.example.com',
      'sub.example.com',
    ]);
    for (const n of ['_acme-challenge.x.lst', '_acme-challenge.y.lst', '_acme-challenge.other']) {
      a.fake.setRecordSet(`${n}.example.org`, [['v']]);
    }
    const sets: string[] = [];
    for await (const r of client.recordSets.listByType(RESOURCE_GROUP, 'example.org', 'TXT', {
      recordsetnamesuffix: 'lst',
    })) {
      sets.push(r.name as string);
    }
    expect(sets).toEqual(['_acme-challenge.x.lst', '_acme-challenge.y.lst']);
  });
});

/** No secret, token or OIDC JWT the fakes issued (or `extra`) appears in what a user could see. */
function assertNoCredential(texts: (string | undefined)[], extra: string[] = []): void {
  expect(issuedSecrets.length).toBeGreaterThan(0);
  for (const text of texts) for (const s of [...issuedSecrets, ...extra]) expect(text ?? '').not.toContain(s);
}
