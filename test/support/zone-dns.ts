import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';

/**
 * A small authoritative DNS server (UDP and TCP on 127.0.0.1) for the test stack: it serves
 * whatever zones `zones()` returns at the moment of each query (no caching, so a test sees its
 * writes at once). The Route 53 bridge (route53-dns.ts) and the vendor fakes (Cloudflare, Google
 * Cloud DNS, Azure DNS) serve their records through it, so Pebble (`-dnsserver`) validates DNS-01
 * against what a provider wrote, and the doctor's CAA, NS and CNAME lookups see real answers.
 *
 * Answers every type in the zone data (TXT, CNAME chased also across zones, NS, SOA, CAA, A, AAAA,
 * MX); NXDOMAIN for names that do not exist, NOERROR/NODATA with the SOA for names that exist
 * without the asked type (empty non-terminals included), REFUSED outside every zone. UDP answers
 * over 512 bytes (or the client's EDNS size) are truncated with TC, so clients retry over TCP.
 */

export interface ZoneRecord {
  /** Lowercase, no trailing dot. */
  name: string;
  type: RecordType;
  ttl: number;
  /** As dns-packet encodes it for the type (TXT: Buffer[] of character-strings, CNAME: target, …). */
  data: unknown;
}

export interface ZoneSnapshot {
  /** Lowercase, no trailing dot. */
  name: string;
  /** A private zone is served only when no public zone holds the name. */
  private?: boolean;
  records: ZoneRecord[];
}

export interface ZoneDns {
  host: string;
  port: number;
  /** "127.0.0.1:<port>", for `-dnsserver`, `propagation.resolvers`, `Resolver.setServers`. */
  address: string;
  /** Queries answered so far. */
  readonly queries: number;
  stop(): Promise<void>;
}

export interface ZoneDnsOptions {
  /** The zones as they are now; called for every query. */
  zones: () => Promise<ZoneSnapshot[]> | ZoneSnapshot[];
  port?: number;
  /** Prefix for error messages. */
  label?: string;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const UDP_LIMIT = 512;
const EDNS_LIMIT = 1232;

export const normName = (n: string) =>
  n
    .replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
    .replace(/\.$/, '')
    .toLowerCase();

interface Resolution {
  rcode: number;
  answers: Answer[];
  authorities: Answer[];
}

/** The zone holding `name`: longest suffix, public before private (as the Internet sees it). */
function zoneFor(zones: ZoneSnapshot[], name: string): ZoneSnapshot | undefined {
  return zones
    .filter((z) => name === z.name || name.endsWith(`.${z.name}`))
    .sort((a, b) => b.name.length - a.name.length || Number(a.private ?? false) - Number(b.private ?? false))[0];
}

const toAnswer = (r: ZoneRecord): Answer => ({ type: r.type, name: r.name, ttl: r.ttl, data: r.data }) as Answer;

export async function startZoneDns(options: ZoneDnsOptions): Promise<ZoneDns> {
  const label = options.label ?? 'zone-dns';

  async function resolve(qname: string, qtype: RecordType): Promise<Resolution> {
    const zones = await options.zones();
    const answers: Answer[] = [];
    let name = normName(qname);
    for (let hop = 0; hop < 8; hop++) {
      const zone = zoneFor(zones, name);
      if (!zone) return { rcode: answers.length > 0 ? RCODE.NOERROR : RCODE.REFUSED, answers, authorities: [] };
      const soa = zone.records.filter((r) => r.type === 'SOA' && r.name === zone.name);
      const authorities = soa.map(toAnswer);
      const here = zone.records.filter((r) => r.name === name);
      const cname = here.find((r) => r.type === 'CNAME');
      if (cname && qtype !== 'CNAME') {
        answers.push(toAnswer(cname));
        name = normName(String(cname.data));
        continue;
      }
      const matching = here.filter((r) => qtype === ('ANY' as RecordType) || r.type === qtype);
      answers.push(...matching.map(toAnswer));
      if (matching.length > 0) return { rcode: RCODE.NOERROR, answers, authorities: [] };
      const exists = here.length > 0 || zone.records.some((r) => r.name.endsWith(`.${name}`)) || name === zone.name;
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
        throw new Error(`${label}: cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
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
