import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Managed } from './process.js';

/**
 * What the self-hosted DNS servers of the test stack (BIND, Knot, PowerDNS) share: zone specs,
 * TSIG keys, zone files, and a readiness probe that asks the server itself.
 */

export type TsigAlgorithmName = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha384' | 'hmac-sha224' | 'hmac-sha1';

export interface TsigKeySpec {
  name: string;
  algorithm: TsigAlgorithmName;
}

export interface TsigKeyMaterial extends TsigKeySpec {
  /** base64 */
  secret: string;
}

export interface ZoneSpec {
  /** Lowercase, no trailing dot. */
  name: string;
  /** Extra zone-file lines (`www 60 IN A 127.0.0.1`), after the SOA, NS and `ns1` glue. */
  records?: string[];
  /** Keys allowed to add and delete TXT records anywhere in the zone; none: no dynamic updates. */
  updateKeys?: string[];
  /** BIND only: grant with `allow-update { key …; }` instead of `update-policy` (default). */
  bindAllowUpdate?: boolean;
  /** BIND only: the journal path (default beside the zone file); an unwritable one makes updates SERVFAIL. */
  bindJournal?: string;
}

export interface AuthDnsServer {
  /** "127.0.0.1:<port>", UDP and TCP. */
  address: string;
  host: string;
  port: number;
  /** Each configured key with its secret. */
  keys: TsigKeyMaterial[];
  key(name: string): TsigKeyMaterial;
  logs(): string;
  stop(): Promise<void>;
}

/** The SOA, NS and glue every test zone starts with; the SOA minimum (negative TTL) is short. */
export function zoneFile(zone: ZoneSpec): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone.name}. hostmaster.${zone.name}. 1 3600 600 86400 1`,
    `@ IN NS ns1.${zone.name}.`,
    'ns1 IN A 127.0.0.1',
    ...(zone.records ?? []),
    '',
  ].join('\n');
}

/** A key made by BIND's `tsig-keygen`, the tool its docs name for it. */
export function tsigKeygen(spec: TsigKeySpec): Promise<TsigKeyMaterial> {
  return new Promise((resolve, reject) => {
    const child = spawn('tsig-keygen', ['-a', spec.algorithm, spec.name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    // 'close', not 'exit': stdout may still hold the key when the process has exited.
    child.on('close', (code) => {
      const secret = /secret "([^"]+)"/.exec(out)?.[1];
      if (code === 0 && secret) resolve({ ...spec, secret });
      else
        reject(new Error(`tsig-keygen -a ${spec.algorithm} ${spec.name} failed (exit ${code}): ${out.slice(0, 500)}`));
    });
  });
}

export function keyLookup(keys: TsigKeyMaterial[]): (name: string) => TsigKeyMaterial {
  return (name) => {
    const k = keys.find((x) => x.name === name);
    if (!k) throw new Error(`no TSIG key ${name} on this server`);
    return k;
  };
}

/** One UDP SOA query; true when the server answers it authoritatively. */
function soaAnswered(port: number, zone: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const id = Math.floor(Math.random() * 0x10000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => {
      try {
        const p = dnsPacket.decode(msg);
        if (p.id === id) done(p.flag_aa && (p.answers ?? []).some((a) => a.type === 'SOA'));
      } catch {
        done(false);
      }
    });
    socket.send(dnsPacket.encode({ id, type: 'query', questions: [{ name: zone, type: 'SOA' }] }), port, '127.0.0.1');
  });
}

/** Waits until the server answers for `zone` (every zone is loaded by then), or fails with its output. */
export async function waitForZone(proc: Managed, name: string, port: number, zone: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${name} exited during startup:\n${proc.output().slice(-3000)}`);
    }
    if (await soaAnswered(port, zone, 200)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `${name} did not answer for ${zone} on port ${port} within ${timeoutMs} ms:\n${proc.output().slice(-3000)}`,
  );
}

/** Another process may take a port between freePort() and the bind: start again on fresh ports. */
export async function withPortRetry<T>(start: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= tries || !/address (already )?in use|EADDRINUSE/i.test((error as Error).message)) throw error;
    }
  }
}
