import {
  type HostedZone,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { txtCharacterStrings } from '../../src/adapters/dns/route53/txt.js';
import { normName as norm, startZoneDns, type ZoneRecord, type ZoneSnapshot } from './zone-dns.js';

/**
 * A small authoritative DNS server (UDP and TCP on 127.0.0.1) that serves moto's Route 53 zones,
 * so Pebble (`-dnsserver`) validates DNS-01 against what the route53 provider wrote, and the
 * propagation check can ask it like it would ask Route 53's name servers.
 *
 * Every query is answered from a read of moto's zones (ListHostedZones + ListResourceRecordSets)
 * begun after the query arrived: no caching, so a test sees its writes at once (concurrent queries
 * share one read, see `read`). Answers TXT, CNAME (chased, also across zones),
 * NS, SOA, CAA, A, AAAA, MX; NXDOMAIN for names that do not exist, NOERROR/NODATA with the SOA for names
 * that exist without the asked type (empty non-terminals included), REFUSED outside every zone.
 */

export type { ZoneDns as Route53Dns } from './zone-dns.js';

import type { ZoneDns } from './zone-dns.js';

export interface Route53DnsOptions {
  /** moto's endpoint (http://127.0.0.1:<port>); else `client`. */
  endpoint?: string;
  client?: Route53Client;
  port?: number;
  /** Serve only the zones named so (a shared moto holds other tests' zones, each read per query). */
  only?: (zoneName: string) => boolean;
  /**
   * What the resolver's view adds to or changes in moto's zones, e.g. the parent zones a public
   * resolver would also answer for, or NS records that point elsewhere (a zone never delegated).
   */
  transform?: (zones: ZoneSnapshot[]) => ZoneSnapshot[];
  /**
   * Answer from a snapshot up to this old (default 0: every query reads moto). Each snapshot costs
   * one ListResourceRecordSets per zone, so a burst of lookups (the doctor's) is answered from one.
   */
  cacheMs?: number;
}

/** moto renders its SOA oddly ("{'Value': '…'}"): take the seven fields wherever they are. */
function soaData(value: string, zone: string) {
  const m = /(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(value);
  if (!m) {
    return {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: 60,
    };
  }
  const [, mname, rname, serial, refresh, retry, expire, minimum] = m as unknown as string[];
  return {
    mname: norm((mname as string).replace(/^.*'/, '')),
    rname: norm(rname as string),
    serial: Number(serial),
    refresh: Number(refresh),
    retry: Number(retry),
    expire: Number(expire),
    minimum: Number(minimum),
  };
}

function toRecords(set: ResourceRecordSet, name: string, zone: string): ZoneRecord[] {
  const ttl = set.TTL ?? 300;
  const values = (set.ResourceRecords ?? []).map((r) => r.Value ?? '');
  switch (set.Type) {
    case 'TXT':
      return values.map((v) => ({ type: 'TXT', name, ttl, data: txtCharacterStrings(v) }) as ZoneRecord);
    case 'CNAME':
    case 'NS':
    case 'A':
    case 'AAAA':
      return values.map((v) => ({ type: set.Type, name, ttl, data: norm(v) }) as ZoneRecord);
    case 'MX':
      return values.map((v) => {
        const [pref, exchange] = v.split(/\s+/);
        return {
          type: 'MX',
          name,
          ttl,
          data: { preference: Number(pref), exchange: norm(exchange ?? '') },
        } as ZoneRecord;
      });
    case 'SOA':
      return values.map((v) => ({ type: 'SOA', name, ttl, data: soaData(v, zone) }) as ZoneRecord);
    case 'CAA':
      return values.flatMap((v) => {
        // Route 53 writes CAA as `<flags> <tag> "<value>"`.
        const m = /^(\d+)\s+(\S+)\s+"(.*)"$/.exec(v.trim());
        return m
          ? [{ type: 'CAA', name, ttl, data: { flags: Number(m[1]), tag: m[2], value: m[3] } } as ZoneRecord]
          : [];
      });
    default:
      return [];
  }
}

export async function startRoute53Dns(options: Route53DnsOptions): Promise<ZoneDns> {
  const client =
    options.client ??
    new Route53Client({
      region: 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });

  async function allZones(): Promise<HostedZone[]> {
    const zones: HostedZone[] = [];
    let marker: string | undefined;
    do {
      const out = await client.send(new ListHostedZonesCommand({ ...(marker ? { Marker: marker } : {}) }));
      zones.push(...(out.HostedZones ?? []));
      marker = out.IsTruncated ? out.NextMarker : undefined;
    } while (marker);
    return zones;
  }

  async function zoneSets(zone: HostedZone): Promise<ResourceRecordSet[]> {
    const sets: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string } = {};
    for (;;) {
      const out = await client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zone.Id,
          ...(start.name ? { StartRecordName: start.name } : {}),
          ...(start.type ? { StartRecordType: start.type as never } : {}),
        }),
      );
      sets.push(...(out.ResourceRecordSets ?? []));
      if (!out.IsTruncated || !out.NextRecordName) return sets;
      start = { name: out.NextRecordName, type: out.NextRecordType };
    }
  }

  async function snapshot(): Promise<ZoneSnapshot[]> {
    const zones = (await allZones()).filter((z) => !options.only || options.only(norm(z.Name ?? '')));
    const served = await Promise.all(
      zones.map(async (z) => {
        const name = norm(z.Name ?? '');
        const sets = (await zoneSets(z)).filter((s) => !s.SetIdentifier);
        return {
          name,
          private: z.Config?.PrivateZone === true,
          records: sets.flatMap((s) => toRecords(s, norm(s.Name ?? ''), name)),
        };
      }),
    );
    return options.transform ? options.transform(served) : served;
  }

  // A burst of queries (Pebble validating a dozen names at once, each also asked by the
  // propagation check) would each read every zone from moto, and under load the reads queue up
  // past Pebble's lookup timeout. So reads are coalesced without going stale: a query arriving
  // while a read is in flight waits for the next read, which starts when that one ends and is
  // shared by everyone who arrived meanwhile. Every answer still comes from a read that began
  // after its query arrived, and at most one read per server is in flight.
  let inflight: Promise<ZoneSnapshot[]> | undefined;
  let next: Promise<ZoneSnapshot[]> | undefined;
  const read = (): Promise<ZoneSnapshot[]> => {
    if (!inflight) {
      inflight = snapshot().finally(() => {
        inflight = undefined;
      });
      return inflight;
    }
    next ??= inflight
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return read();
      });
    return next;
  };

  let cached: { at: number; zones: Promise<ZoneSnapshot[]> } | undefined;
  const zones = (): Promise<ZoneSnapshot[]> => {
    const cacheMs = options.cacheMs ?? 0;
    if (cacheMs > 0 && cached && Date.now() - cached.at < cacheMs) return cached.zones;
    const fresh = read();
    if (cacheMs > 0) {
      cached = { at: Date.now(), zones: fresh };
      fresh.catch(() => {
        cached = undefined;
      });
    }
    return fresh;
  };

  return startZoneDns({
    zones,
    label: 'route53-dns',
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
}
