import { createSocket } from 'node:dgram';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { freePort } from '../../src/devstack/process.js';

/**
 * A DNS proxy on 127.0.0.1 (UDP and TCP, one port) in front of a real server, for what no server
 * does by itself: tamper with or strip a signed answer, answer UDP with TC, count messages.
 * `udp` / `tcp` decide per request what goes back: the server's answer (possibly changed) or
 * an answer of the proxy's own without asking the server.
 */

export interface ProxyHooks {
  /** Rewrites a UDP exchange; `forward()` asks the real server. Default: forward unchanged. */
  udp?: (request: Buffer, forward: () => Promise<Buffer>) => Promise<Buffer>;
  /** Rewrites the server's TCP answer. */
  tcp?: (request: Buffer, response: Buffer) => Buffer;
}

export interface DnsProxy {
  address: string;
  /** Requests received, per protocol. */
  readonly counts: { udp: number; tcp: number };
  hooks: ProxyHooks;
  stop(): Promise<void>;
}

export async function startDnsProxy(target: { host: string; port: number }, hooks: ProxyHooks = {}): Promise<DnsProxy> {
  const port = await freePort();
  const counts = { udp: 0, tcp: 0 };
  const proxy: DnsProxy = { address: `127.0.0.1:${port}`, counts, hooks, stop: async () => {} };

  const udpForward = (request: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => {
        s.close();
        reject(new Error('proxy: no UDP answer from the server'));
      }, 3000);
      s.on('message', (msg) => {
        clearTimeout(timer);
        s.close();
        resolve(msg);
      });
      s.send(request, target.port, target.host);
    });

  const udp = createSocket('udp4');
  udp.on('message', (request, rinfo) => {
    counts.udp++;
    const handle = proxy.hooks.udp ?? ((_req, forward) => forward());
    handle(request, () => udpForward(request)).then(
      (answer) => udp.send(answer, rinfo.port, rinfo.address),
      () => {},
    );
  });
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));

  const sockets = new Set<Socket>();
  const tcp = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let buf = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const request = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + request.length);
        counts.tcp++;
        const upstream = tcpConnect({ host: target.host, port: target.port });
        upstream.on('error', () => client.destroy());
        let got = Buffer.alloc(0);
        upstream.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
            const response = got.subarray(2, 2 + got.readUInt16BE(0));
            upstream.destroy();
            const answer = proxy.hooks.tcp ? proxy.hooks.tcp(request, response) : response;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(answer.length, 0);
            client.write(Buffer.concat([len, answer]));
          }
        });
        const len = Buffer.alloc(2);
        len.writeUInt16BE(request.length, 0);
        upstream.write(Buffer.concat([len, request]));
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));

  proxy.stop = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
  };
  return proxy;
}

/** A header-only answer to `request` with TC set: "too big, ask again over TCP". */
export function truncatedAnswer(request: Buffer): Buffer {
  const answer = Buffer.from(request.subarray(0, 12));
  answer[2] = (answer[2]! | 0x80 | 0x02) & ~0x01;
  answer.writeUInt16BE(0, 4);
  answer.writeUInt16BE(0, 6);
  answer.writeUInt16BE(0, 8);
  answer.writeUInt16BE(0, 10);
  return answer;
}
