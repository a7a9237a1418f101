import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthDnsServer,
  keyLookup,
  type TsigKeyMaterial,
  type TsigKeySpec,
  waitForZone,
  withPortRetry,
  type ZoneSpec,
  zoneFile,
} from './authdns.js';
import { freePort, type Managed, startManaged } from './process.js';

export interface PowerDnsOptions {
  zones: ZoneSpec[];
  keys?: TsigKeySpec[];
  /** pdns_server dies by itself after this long even if nobody calls stop() (default 600). */
  maxLifetimeSec?: number;
}

export interface PowerDnsServer extends AuthDnsServer {
  /** http://127.0.0.1:<port> — the webserver; the API is under /api/v1. */
  apiUrl: string;
  apiKey: string;
  /** Adds a zone through the API (with TSIG-ALLOW-DNSUPDATE for its updateKeys). */
  addZone(zone: ZoneSpec): Promise<void>;
  /** One API call, for tests that look behind the provider's back. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
}

/** The gsqlite3 schema shipped by pdns-backend-sqlite3 (the /usr/share/doc path is a link to it). */
export const SQLITE_SCHEMAS = [
  '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
  '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
];

const DIGEST_BYTES: Record<TsigKeySpec['algorithm'], number> = {
  'hmac-sha1': 20,
  'hmac-sha224': 28,
  'hmac-sha256': 32,
  'hmac-sha384': 48,
  'hmac-sha512': 64,
};

async function createDatabase(path: string): Promise<void> {
  const schema = SQLITE_SCHEMAS.find((f) => existsSync(f));
  if (!schema)
    throw new Error(`no PowerDNS sqlite schema (${SQLITE_SCHEMAS.join(', ')}): apt-get install pdns-backend-sqlite3`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sqlite3', [path], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`sqlite3 ${path} < ${schema} failed (exit ${code}): ${err}`)),
    );
    createReadStream(schema).on('error', reject).pipe(child.stdin);
  });
}

/**
 * PowerDNS Authoritative with the gsqlite3 backend on free loopback ports: DNS on `local-port`,
 * the HTTP API on `webserver-port` with a random API key, DNS UPDATE on (`dnsupdate=yes`) with
 * TSIG keys and zones created through the API. Caches are off, so every answer is the database's.
 */
export async function startPowerDns(opts: PowerDnsOptions): Promise<PowerDnsServer> {
  const first = opts.zones[0];
  if (!first) throw new Error('startPowerDns: at least one zone');
  const dir = await mkdtemp(join(tmpdir(), 'certkeeper-pdns-'));
  try {
    const keys: TsigKeyMaterial[] = (opts.keys ?? []).map((k) => ({
      ...k,
      secret: randomBytes(DIGEST_BYTES[k.algorithm]).toString('base64'),
    }));
    const db = join(dir, 'pdns.sqlite3');
    await createDatabase(db);
    const apiKey = randomBytes(18).toString('base64url');
    return await withPortRetry(async () => {
      const [port, webPort] = await twoPorts();
      const conf = [
        'launch=gsqlite3',
        `gsqlite3-database=${db}`,
        // A test database: no fsync per change (PATCH took 20-250 ms with it on this shared disk).
        'gsqlite3-pragma-synchronous=0',
        'local-address=127.0.0.1',
        `local-port=${port}`,
        `socket-dir=${dir}`,
        'daemon=no',
        'guardian=no',
        'api=yes',
        `api-key=${apiKey}`,
        'webserver=yes',
        'webserver-address=127.0.0.1',
        `webserver-port=${webPort}`,
        'webserver-allow-from=127.0.0.0/8',
        'dnsupdate=yes',
        'allow-dnsupdate-from=127.0.0.0/8',
        // No DNS lookup of secpoll.powerdns.com: the test machine has no internet.
        'security-poll-suffix=',
        'cache-ttl=0',
        'negquery-cache-ttl=0',
        'query-cache-ttl=0',
        'distributor-threads=1',
        'receiver-threads=1',
        'disable-syslog=yes',
        'loglevel=4',
        '',
      ].join('\n');
      await writeFile(join(dir, 'pdns.conf'), conf);
      const proc = startManaged('pdns_server', [`--config-dir=${dir}`], {
        cwd: dir,
        maxLifetimeSec: opts.maxLifetimeSec ?? 600,
      });
      const apiUrl = `http://127.0.0.1:${webPort}`;
      const api = apiClient(apiUrl, apiKey);
      try {
        await waitForApi(proc, api);
        for (const k of keys) {
          await expectOk(
            api('POST', '/servers/localhost/tsigkeys', { name: k.name, algorithm: k.algorithm, key: k.secret }),
          );
        }
        const addZone = async (z: ZoneSpec) => {
          await expectOk(
            api('POST', '/servers/localhost/zones', { name: `${z.name}.`, kind: 'Native', zone: zoneFile(z) }),
          );
          if (z.updateKeys?.length) {
            await expectOk(
              api('POST', `/servers/localhost/zones/${z.name}./metadata`, {
                kind: 'TSIG-ALLOW-DNSUPDATE',
                metadata: z.updateKeys,
              }),
            );
          }
        };
        for (const z of opts.zones) await addZone(z);
        await waitForZone(proc, 'pdns_server', port, first.name);
        let stopped: Promise<void> | undefined;
        return {
          address: `127.0.0.1:${port}`,
          host: '127.0.0.1',
          port,
          keys,
          key: keyLookup(keys),
          apiUrl,
          apiKey,
          addZone,
          api,
          logs: proc.output,
          stop: () => {
            stopped ??= proc.stop().then(() => rm(dir, { recursive: true, force: true }));
            return stopped;
          },
        };
      } catch (error) {
        await proc.stop();
        throw new Error(`${(error as Error).message}\n--- pdns_server ---\n${proc.output().slice(-3000)}`, {
          cause: error,
        });
      }
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function twoPorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

type Api = PowerDnsServer['api'];

function apiClient(apiUrl: string, apiKey: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${apiUrl}/api/v1${path}`, {
      method,
      headers: { 'X-API-Key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = text || undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // PowerDNS answers some errors (404 for an unknown zone) in plain text.
    }
    return { status: res.status, json };
  };
}

async function expectOk(call: Promise<{ status: number; json: unknown }>): Promise<unknown> {
  const { status, json } = await call;
  if (status >= 300) throw new Error(`PowerDNS API answered ${status}: ${JSON.stringify(json)}`);
  return json;
}

async function waitForApi(proc: Managed, api: Api, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error('pdns_server exited during startup');
    try {
      if ((await api('GET', '/servers/localhost')).status === 200) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the PowerDNS API did not answer within ${timeoutMs} ms: ${(last as Error | undefined)?.message}`);
}
