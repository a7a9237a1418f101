import { lookup } from 'node:dns/promises';
import { GetHostedZoneCommand, ListHostedZonesByNameCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { Clock } from '../../../ports/clock.js';
import type { DnsProvider, TxtRecord } from '../../../ports/dns.js';
import { DnsProviderError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { type AwsClientFactory, defaultAwsClientFactory } from '../../aws/clients.js';
import type { Route53Config } from './descriptor.js';
import { RateLimiter, ROUTE53_REQUESTS_PER_SECOND } from './rate-limiter.js';
import { normalizeName } from './txt.js';
import { type OpContext, withRetry, type Zone, ZoneWriter } from './zone-writer.js';

/**
 * Route 53 DNS-01 provider (PRODUCT §2).
 *
 * Writes are compare-and-swap: a change batch DELETEs the record set exactly as it was read (TTL and
 * values) and CREATEs the merged set, atomically. If anyone changed the set in between, Route 53
 * rejects the whole batch ("values do not match", "already exists", "not found") and we read again.
 * That keeps apex + wildcard values (and other runs' values) instead of the last writer's only,
 * which a plain UPSERT cannot guarantee across processes (certbot #5772, acme.sh #3036).
 * Inside one process, writes to a zone are queued and coalesced (zone-writer.ts), so concurrent
 * certificates that share `_acme-challenge.<d>` send one batch instead of racing each other.
 */

export interface Route53Deps {
  logger: Logger;
  clock: Clock;
  /** A ready client (tests: aws-sdk-client-mock). Else one from `clients` for the config's region/role. */
  client?: Route53Client;
  clients?: AwsClientFactory;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
  /** Name server host → its addresses (default: the system resolver). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** How long to wait for INSYNC; default `propagation.timeout`. */
  changeTimeoutMs?: number;
}

/**
 * The zone write queues, shared by every provider on the same client: providers for different
 * certificates (or DNS configs) of one process still take turns on a zone. Zone lookups are cached
 * per provider instead, i.e. per run, so a warm Lambda sees a recreated zone on its next run.
 */
const writersByClient = new WeakMap<Route53Client, Map<string, ZoneWriter>>();
const limitersByClient = new WeakMap<Route53Client, RateLimiter>();

function limiterOf(client: Route53Client): RateLimiter {
  let l = limitersByClient.get(client);
  if (!l) {
    l = new RateLimiter(ROUTE53_REQUESTS_PER_SECOND, ROUTE53_REQUESTS_PER_SECOND);
    limitersByClient.set(client, l);
  }
  return l;
}

function writersOf(client: Route53Client): Map<string, ZoneWriter> {
  let w = writersByClient.get(client);
  if (!w) {
    w = new Map();
    writersByClient.set(client, w);
  }
  return w;
}

function zoneIdOf(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

export function createRoute53Provider(config: Route53Config, deps: Route53Deps): DnsProvider {
  const client =
    deps.client ??
    (deps.clients ?? defaultAwsClientFactory()).route53({
      region: config.region,
      roleArn: config.roleArn,
      externalId: config.externalId,
    });
  const state = {
    zones: undefined as Promise<Zone[]> | undefined,
    zoneById: new Map<string, Promise<Zone & { nameServers: string[] }>>(),
    writers: writersOf(client),
  };
  const propagationTimeout = config.propagation.timeoutMs;
  const ctx: OpContext = {
    logger: deps.logger,
    clock: deps.clock,
    limiter: limiterOf(client),
    random: deps.random ?? Math.random,
    ttl: config.ttl,
    changeTimeoutMs: deps.changeTimeoutMs ?? propagationTimeout,
    pollIntervalMs: config.propagation.intervalMs,
  };
  const configuredZoneId = config.hostedZoneId ? zoneIdOf(config.hostedZoneId) : undefined;
  const resolveHost =
    deps.resolveHost ?? (async (host: string) => (await lookup(host, { all: true })).map((a) => a.address));

  function getZone(id: string): Promise<Zone & { nameServers: string[] }> {
    let p = state.zoneById.get(id);
    if (!p) {
      p = withRetry(ctx, `GetHostedZone ${id}`, () => client.send(new GetHostedZoneCommand({ Id: id }))).then(
        (out) => ({
          id,
          name: normalizeName(out.HostedZone?.Name ?? ''),
          private: out.HostedZone?.Config?.PrivateZone === true,
          nameServers: out.DelegationSet?.NameServers ?? [],
        }),
      );
      p.catch(() => state.zoneById.delete(id));
      state.zoneById.set(id, p);
    }
    return p;
  }

  /**
   * Every hosted zone of the account, listed once per provider (i.e. per run): one page of 100
   * zones serves every certificate, where a lookup per name label cost several calls per
   * certificate. (AWS lists from a DNSName onwards, moto only exact matches; both list all zones
   * in order without one.) Accounts with more zones page on; `hostedZoneId` skips the listing.
   */
  function allZones(): Promise<Zone[]> {
    if (!state.zones) {
      const p = (async () => {
        const found: Zone[] = [];
        let next: { name: string; id?: string } | undefined = { name: '' };
        while (next) {
          const page: { name: string; id?: string } = next;
          const out = await withRetry(ctx, 'ListHostedZonesByName', () =>
            client.send(
              new ListHostedZonesByNameCommand({
                ...(page.name ? { DNSName: page.name } : {}),
                ...(page.id ? { HostedZoneId: page.id } : {}),
                MaxItems: 100,
              }),
            ),
          );
          for (const z of out.HostedZones ?? []) {
            found.push({
              id: zoneIdOf(z.Id ?? ''),
              name: normalizeName(z.Name ?? ''),
              private: z.Config?.PrivateZone === true,
            });
          }
          next =
            out.IsTruncated && out.NextDNSName
              ? { name: out.NextDNSName, ...(out.NextHostedZoneId ? { id: out.NextHostedZoneId } : {}) }
              : undefined;
        }
        return found;
      })();
      p.catch(() => {
        state.zones = undefined;
      });
      state.zones = p;
    }
    return state.zones;
  }

  async function zoneFor(recordName: string): Promise<Zone> {
    if (configuredZoneId) {
      const zone = await getZone(configuredZoneId);
      if (recordName !== zone.name && !recordName.endsWith(`.${zone.name}`)) {
        throw new DnsProviderError(`route53: ${recordName} is not in hosted zone ${zone.id} (${zone.name})`, {
          hint: 'dns.hostedZoneId must be the zone that holds the _acme-challenge names (or the challengeAlias zone)',
        });
      }
      return zone;
    }
    const labels = recordName.split('.');
    const privateSeen: string[] = [];
    // Longest suffix first; a single label cannot be a public hosted zone.
    const listed = await allZones();
    for (let i = 0; i < labels.length - 1; i++) {
      const suffix = labels.slice(i).join('.');
      const zones = listed.filter((z) => z.name === suffix);
      const publicZones = zones.filter((z) => !z.private);
      privateSeen.push(...zones.filter((z) => z.private).map((z) => `${z.id} (${z.name})`));
      if (publicZones.length === 1) return publicZones[0] as Zone;
      if (publicZones.length > 1) {
        throw new DnsProviderError(
          `route53: several public hosted zones are named ${suffix} (${publicZones.map((z) => z.id).join(', ')})`,
          { hint: 'set dns.hostedZoneId to the delegated one' },
        );
      }
    }
    throw new DnsProviderError(`route53: no public hosted zone found for ${recordName}`, {
      hint:
        privateSeen.length > 0
          ? `only private zones match (${privateSeen.join(', ')}); name one in dns.hostedZoneId to use it`
          : 'create the hosted zone in this account (or set dns.roleArn to the account that has it), or set dns.hostedZoneId',
    });
  }

  async function byZone(records: TxtRecord[]): Promise<Map<string, { zone: Zone; records: TxtRecord[] }>> {
    const groups = new Map<string, { zone: Zone; records: TxtRecord[] }>();
    for (const r of records) {
      const record = { name: normalizeName(r.name), value: r.value };
      const zone = await zoneFor(record.name);
      const g = groups.get(zone.id) ?? { zone, records: [] };
      g.records.push(record);
      groups.set(zone.id, g);
    }
    return groups;
  }

  function writer(zone: Zone): ZoneWriter {
    let w = state.writers.get(zone.id);
    if (!w) {
      w = new ZoneWriter(client, zone);
      state.writers.set(zone.id, w);
    }
    return w;
  }

  async function run(kind: 'present' | 'cleanup', records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const groups = await byZone(records);
    // One change batch per zone; zones are independent, so in parallel.
    const results = await Promise.allSettled(
      [...groups.values()].map((g) => writer(g.zone).submit(kind, g.records, ctx, signal)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return {
    name: 'route53',
    present: (records, signal) => run('present', records, signal),
    cleanup: (records, signal) => run('cleanup', records, signal),
    async describeZone(recordName) {
      const zone = await zoneFor(normalizeName(recordName));
      const details = await getZone(zone.id);
      return { name: zone.name, id: zone.id, nameServers: details.nameServers.map(normalizeName) };
    },
    async defaultResolvers(recordName) {
      const zone = await zoneFor(normalizeName(recordName));
      const details = await getZone(zone.id);
      if (details.private || details.nameServers.length === 0) {
        throw new DnsProviderError(
          `route53: zone ${zone.name} (${zone.id}) is private and has no public name servers`,
          {
            hint: 'set dns.propagation.resolvers to a resolver inside its VPC',
          },
        );
      }
      const addresses = new Set<string>();
      await Promise.all(
        details.nameServers.map(async (ns) => {
          try {
            for (const a of await resolveHost(ns)) addresses.add(a.includes(':') ? `[${a}]:53` : `${a}:53`);
          } catch (error) {
            ctx.logger.debug(`route53: cannot resolve name server ${ns}`, { error: (error as Error).message });
          }
        }),
      );
      if (addresses.size === 0) {
        throw new DnsProviderError(
          `route53: none of zone ${zone.name}'s name servers resolved (${details.nameServers.join(', ')})`,
          {
            hint: 'set dns.propagation.resolvers',
          },
        );
      }
      return [...addresses];
    },
  };
}
