import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import {
  type HostedZone,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { txtCharacterStrings } from '../../src/adapters/dns/route53/index.js';

/**
 * A small authoritative DNS server (UDP and TCP on 127.0.0.1) that serves moto's Route 53 zones,
 * so Pebble (`-dnsserver`) validates DNS-01 against what the route53 provider wrote, and the
 * propagation check can ask it like it would ask Route 53's name servers.
 *
 * Every query reads the zones from moto (ListHostedZones + ListResourceRecordSets) at that moment:
 * no caching, so a test sees its writes at once. Answers TXT, CNAME (chased, also across zones),
 * NS, SOA, A, AAAA, MX; NXDOMAIN for names that do not exist, NOERROR/NODATA with the SOA for names
 * that exist without the asked type (empty non-terminals included), REFUSED outside every zone.
 */

export interface Route53Dns {
  host: string;
  port: number;
  /** "127.0.0.1:<port>", for `-dnsserver`, `propagation.resolvers`, `Resolver.setServers`. */
  address: string;
  /** Queries answered so far. */
  readonly queries: number;
  stop(): Promise<void>;
}

export interface Route53DnsOptions {
  /** moto's endpoint (http://127.0.0.1:<port>); else `client`. */
  endpoint?: string;
  client?: Route53Client;
  port?: number;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const UDP_LIMIT = 512;
const EDNS_LIMIT = 1232;

const norm = (n: string) =>
  n
    .replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
    .replace(/\.$/, '')
    .toLowerCase();

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

function toAnswer(set: ResourceRecordSet, name: string, zone: string): Answer[] {
  const ttl = set.TTL ?? 300;
  const values = (set.ResourceRecords ?? []).map((r) => r.Value ?? '');
  switch (set.Type) {
    case 'TXT':
      return values.map((v) => ({ type: 'TXT', name, ttl, data: txtCharacterStrings(v) }) as Answer);
    case 'CNAME':
    case 'NS':
    case 'A':
    case 'AAAA':
      return values.map((v) => ({ type: set.Type, name, ttl, data: norm(v) }) as Answer);
    case 'MX':
      return values.map((v) => {
        const [pref, exchange] = v.split(/\s+/);
        return { type: 'MX', name, ttl, data: { preference: Number(pref), exchange: norm(exchange ?? '') } } as Answer;
      });
    case 'SOA':
      return values.map((v) => ({ type: 'SOA', name, ttl, data: soaData(v, zone) }) as Answer);
    default:
      return [];
  }
}

interface Resolution {
  rcode: number;
  answers: Answer[];
  authorities: Answer[];
}

export async function startRoute53Dns(options: Route53DnsOptions): Promise<Route53Dns> {
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

  /** The zone holding `name`: longest suffix, public before private (as the Internet sees it). */
  function zoneFor(zones: HostedZone[], name: string): HostedZone | undefined {
    return zones
      .filter((z) => {
        const zn = norm(z.Name ?? '');
        return name === zn || name.endsWith(`.${zn}`);
      })
      .sort(
        (a, b) =>
          norm(b.Name ?? '').length - norm(a.Name ?? '').length ||
          Number(a.Config?.PrivateZone ?? false) - Number(b.Config?.PrivateZone ?? false),
      )[0];
  }

  async function resolve(qname: string, qtype: RecordType): Promise<Resolution> {
    const zones = await allZones();
    const answers: Answer[] = [];
    let name = norm(qname);
    for (let hop = 0; hop < 8; hop++) {
      const zone = zoneFor(zones, name);
      if (!zone) return { rcode: answers.length > 0 ? RCODE.NOERROR : RCODE.REFUSED, answers, authorities: [] };
      const zoneName = norm(zone.Name ?? '');
      const sets = await zoneSets(zone);
      const soa = sets.find((s) => s.Type === 'SOA' && norm(s.Name ?? '') === zoneName);
      const authorities = soa ? toAnswer(soa, zoneName, zoneName) : [];
      const here = sets.filter((s) => norm(s.Name ?? '') === name && !s.SetIdentifier);
      const cname = here.find((s) => s.Type === 'CNAME');
      if (cname && qtype !== 'CNAME') {
        answers.push(...toAnswer(cname, name, zoneName));
        name = norm(cname.ResourceRecords?.[0]?.Value ?? '');
        continue;
      }
      const matching = here.filter((s) => qtype === ('ANY' as RecordType) || s.Type === qtype);
      answers.push(...matching.flatMap((s) => toAnswer(s, name, zoneName)));
      if (matching.length > 0) return { rcode: RCODE.NOERROR, answers, authorities: [] };
      const exists = here.length > 0 || sets.some((s) => norm(s.Name ?? '').endsWith(`.${name}`));
      return { rcode: exists || answers.length > 0 ? RCODE.NOERROR : RCODE.NXDOMAIN, answers, authorities };
    }
    return { rcode: RCODE.SERVFAIL, answers: [], authorities: [] };
  }

  let count = 0;
  async function answer(query: Buffer, limit: number | undefined): Promise<Buffer> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(query);
    } catch {
      // Unparseable: nothing to answer to (no id we can trust).
      return Buffer.alloc(0);
    }
    count++;
    const question = q.questions?.[0];
    const base: Packet = {
      type: 'response',
      id: q.id ?? 0,
      questions: q.questions ?? [],
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    };
    let res: Resolution;
    if (!question) res = { rcode: RCODE.NOTIMP, answers: [], authorities: [] };
    else {
      try {
        res = await resolve(question.name, question.type);
      } catch {
        res = { rcode: RCODE.SERVFAIL, answers: [], authorities: [] };
      }
    }
    const packet: Packet = {
      ...base,
      flags: (base.flags ?? 0) | res.rcode,
      answers: res.answers,
      authorities: res.authorities,
    };
    const encoded = dnsPacket.encode(packet);
    if (limit !== undefined) {
      // UDP: a client that advertised EDNS gets up to its buffer; else 512 bytes, then TC so it uses TCP.
      const edns = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      const max = edns ? Math.min(edns.udpPayloadSize ?? UDP_LIMIT, EDNS_LIMIT) : limit;
      if (encoded.length > max) {
        return dnsPacket.encode({ ...base, flags: (base.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE | res.rcode });
      }
    }
    return encoded;
  }

  const sockets = new Set<TcpSocket>();
  const onMessage = (udp: Socket) => (msg: Buffer, rinfo: RemoteInfo) => {
    void answer(msg, UDP_LIMIT).then((out) => {
      if (out.length > 0) udp.send(out, rinfo.port, rinfo.address);
    });
  };
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Two-byte length prefix per message (RFC 1035 4.2.2).
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const msg = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        void answer(msg, undefined).then((out) => {
          if (out.length === 0 || socket.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          socket.write(Buffer.concat([head, out]));
        });
      }
    });
    socket.on('error', () => socket.destroy());
  });

  // UDP and TCP on one port number: the OS picks the UDP port, which may be taken for TCP; retry.
  let udp: Socket | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 10 && !udp; attempt++) {
    const candidate = createSocket('udp4');
    candidate.on('message', onMessage(candidate));
    try {
      await new Promise<void>((ok, fail) => {
        candidate.once('error', fail);
        candidate.bind(options.port ?? 0, '127.0.0.1', () => ok());
      });
      port = candidate.address().port;
      await new Promise<void>((ok, fail) => {
        tcp.once('error', fail);
        tcp.listen(port, '127.0.0.1', () => {
          tcp.off('error', fail);
          ok();
        });
      });
      udp = candidate;
    } catch (error) {
      candidate.close();
      if (options.port !== undefined || attempt === 9) {
        throw new Error(`route53-dns: cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }
  const bound = udp as Socket;

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    get queries() {
      return count;
    },
    stop: () =>
      new Promise<void>((done) => {
        bound.close();
        tcp.close(() => done());
        // Open TCP connections would hold close() forever.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
