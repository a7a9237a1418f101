import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import dnsPacket from 'dns-packet';
import { freePort } from '../../src/devstack/process.js';

/**
 * A DNS front (UDP and TCP on 127.0.0.1) that passes each query on to the server of the zone it
 * is in, by longest suffix: one Pebble (`-dnsserver`) validates through several real servers and
 * fakes at once (BIND, PowerDNS, the Cloudflare fake, the Route 53 bridge). Answers come back
 * unchanged; a query outside every zone goes to the fallback server, or is REFUSED without one.
 * Routes can change while it runs: the shared Pebble of the global setup validates through one,
 * and a test file routes its zones to its own server for as long as it needs (routeZones in
 * stack.ts).
 */

export interface DnsRoute {
  zone: string;
  /** "host:port" of the server that answers for the zone. */
  address: string;
}

export interface DnsRouter {
  address: string;
  /** Routes `zone` (and every name under it) to `address`; false when the zone is routed already. */
  add(route: DnsRoute): boolean;
  remove(zone: string): void;
  /** Where names outside every zone go. */
  setFallback(address: string | undefined): void;
  stop(): Promise<void>;
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

export async function startDnsRouter(initial: DnsRoute[], fallbackAddress?: string): Promise<DnsRouter> {
  const routes = initial.map((r) => ({ ...r, zone: r.zone.toLowerCase().replace(/\.$/, '') }));
  let fallback = fallbackAddress;
  const route = (query: Buffer): { host: string; port: number } | undefined => {
    let name = '';
    try {
      name = (dnsPacket.decode(query).questions?.[0]?.name ?? '').toLowerCase().replace(/\.$/, '');
    } catch {
      return undefined;
    }
    const match = routes
      .filter((r) => name === r.zone || name.endsWith(`.${r.zone}`))
      .sort((a, b) => b.zone.length - a.zone.length)[0];
    if (match) return split(match.address);
    return fallback ? split(fallback) : undefined;
  };
  const refused = (query: Buffer): Buffer => {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: 5, questions: q.questions ?? [] });
  };

  const port = await freePort();
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (query, rinfo) => {
    const target = route(query);
    if (!target) return void udp.send(refused(query), rinfo.port, rinfo.address);
    const out = createSocket('udp4');
    const timer = setTimeout(() => out.close(), 5000);
    out.on('message', (answer) => {
      clearTimeout(timer);
      out.close();
      udp.send(answer, rinfo.port, rinfo.address);
    });
    out.send(query, target.port, target.host);
  });
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));

  const sockets = new Set<Socket>();
  const tcp = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const query = buffered.subarray(2, 2 + len);
        const framed = buffered.subarray(0, 2 + len);
        buffered = buffered.subarray(2 + len);
        const target = route(query);
        if (!target) {
          const answer = refused(query);
          const head = Buffer.alloc(2);
          head.writeUInt16BE(answer.length);
          client.write(Buffer.concat([head, answer]));
          continue;
        }
        const upstream = tcpConnect(target.port, target.host, () => upstream.write(framed));
        sockets.add(upstream);
        upstream.on('data', (d) => client.write(d));
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', () => upstream.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));

  return {
    address: `127.0.0.1:${port}`,
    add(r) {
      const zone = r.zone.toLowerCase().replace(/\.$/, '');
      if (routes.some((x) => x.zone === zone)) return false;
      routes.push({ zone, address: r.address });
      return true;
    },
    remove(zone) {
      const z = zone.toLowerCase().replace(/\.$/, '');
      const i = routes.findIndex((x) => x.zone === z);
      if (i >= 0) routes.splice(i, 1);
    },
    setFallback(address) {
      fallback = address;
    },
    stop: () =>
      new Promise<void>((done) => {
        udp.close();
        for (const s of sockets) s.destroy();
        tcp.close(() => done());
      }),
  };
}
