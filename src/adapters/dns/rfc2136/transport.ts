import { createSocket } from 'node:dgram';
import { isIPv6, connect as tcpConnect } from 'node:net';
import type { Clock } from '../../../ports/clock.js';
import { isResponse, isTruncated, messageId, UDP_MAX } from './message.js';

/**
 * One DNS exchange with one server: UDP first (RFC 2136 §6.3 lets a requestor pick), TCP when
 * the message is too large for UDP or the answer comes back truncated. The message is sent as
 * given, so a TSIG MAC computed for it stays the one the answer is verified against; resending
 * an update is harmless because ours only add or delete specific records (RFC 2136 §3.4.2).
 */

export interface Endpoint {
  /** An IP address. */
  host: string;
  port: number;
}

export interface ExchangeOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Wait for a UDP answer before sending again. */
  udpTimeoutMs: number;
  udpTries: number;
  tcpTimeoutMs: number;
}

export interface Exchanged {
  response: Buffer;
  protocol: 'udp' | 'tcp';
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly protocol: 'udp' | 'tcp',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export async function exchange(endpoint: Endpoint, wire: Buffer, opts: ExchangeOptions): Promise<Exchanged> {
  if (wire.length > UDP_MAX) return { response: await overTcp(endpoint, wire, opts), protocol: 'tcp' };
  const response = await overUdp(endpoint, wire, opts);
  if (!isTruncated(response)) return { response, protocol: 'udp' };
  return { response: await overTcp(endpoint, wire, opts), protocol: 'tcp' };
}

/**
 * Resolves with `promise`'s value, or `undefined` once `ms` have passed on the injected clock.
 * The outer signal's abort rejects.
 */
async function within<T>(promise: Promise<T>, ms: number, clock: Clock, signal?: AbortSignal): Promise<T | undefined> {
  const timer = new AbortController();
  const onAbort = () => timer.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([
      promise,
      clock.sleep(ms, timer.signal).then(
        () => undefined,
        (error) => {
          if (signal?.aborted) throw error;
          return undefined;
        },
      ),
    ]);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    timer.abort();
  }
}

async function overUdp(endpoint: Endpoint, wire: Buffer, opts: ExchangeOptions): Promise<Buffer> {
  opts.signal?.throwIfAborted();
  const socket = createSocket(isIPv6(endpoint.host) ? 'udp6' : 'udp4');
  const id = messageId(wire);
  try {
    // A connected socket only hears the server, and an ICMP "port unreachable" fails it at once.
    const answer = new Promise<Buffer>((resolve, reject) => {
      socket.on('message', (msg) => {
        if (isResponse(msg) && messageId(msg) === id) resolve(msg);
      });
      socket.on('error', reject);
    });
    answer.catch(() => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(endpoint.port, endpoint.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    for (let attempt = 1; attempt <= opts.udpTries; attempt++) {
      socket.send(wire);
      const response = await within(answer, opts.udpTimeoutMs, opts.clock, opts.signal);
      if (response) return response;
    }
    throw new TransportError(`no answer over UDP after ${opts.udpTries} tries`, 'udp');
  } catch (error) {
    if (error instanceof TransportError || opts.signal?.aborted) throw error;
    throw new TransportError(`UDP: ${(error as Error).message}`, 'udp', { cause: error });
  } finally {
    socket.close();
  }
}

async function overTcp(endpoint: Endpoint, wire: Buffer, opts: ExchangeOptions): Promise<Buffer> {
  opts.signal?.throwIfAborted();
  const socket = tcpConnect({ host: endpoint.host, port: endpoint.port });
  try {
    const answer = new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 2) return;
        const length = got.readUInt16BE(0);
        if (got.length < 2 + length) return;
        const msg = got.subarray(2, 2 + length);
        if (isResponse(msg) && messageId(msg) === messageId(wire)) resolve(msg);
        else reject(new Error('the answer does not belong to the request'));
      });
      socket.on('error', reject);
      socket.on('end', () => reject(new Error('the server closed the connection without an answer')));
    });
    answer.catch(() => {});
    const length = Buffer.alloc(2);
    length.writeUInt16BE(wire.length, 0);
    socket.write(Buffer.concat([length, wire]));
    const response = await within(answer, opts.tcpTimeoutMs, opts.clock, opts.signal);
    if (!response) throw new TransportError(`no answer over TCP within ${opts.tcpTimeoutMs} ms`, 'tcp');
    return response;
  } catch (error) {
    if (error instanceof TransportError || opts.signal?.aborted) throw error;
    throw new TransportError(`TCP: ${(error as Error).message}`, 'tcp', { cause: error });
  } finally {
    socket.destroy();
  }
}
