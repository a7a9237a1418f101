import type { Clock } from '../../../ports/clock.js';
import type { DnsProvider, TxtRecord, ZoneInfo } from '../../../ports/dns.js';
import { DnsProviderError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import type { PowerDnsOptions } from './descriptor.js';

/**
 * PowerDNS Authoritative HTTP API provider (PRODUCT §2).
 *
 * The API has no per-record add or delete and no compare-and-swap (4.7: PATCH replaces a whole
 * rrset), so each write reads the TXT rrset, PATCHes it back merged, and reads it again. Within
 * this process writes to a zone are queued, so they never race. Another process that read before
 * our PATCH was applied and writes after it drops our values; its write lands within its own
 * read-to-write time, about our GET + PATCH time, so re-reading that long after our PATCH sees it,
 * and we write again. A foreign writer that never re-checks can still lose a value it wrote
 * between our read and our write: the 4.7 API offers nothing to prevent that.
 */

export interface PowerDnsConfig extends PowerDnsOptions {
  /** TTL of the TXT records, seconds (DnsCommon.ttl); a set that keeps other values keeps its TTL. */
  ttl?: number;
}

export interface PowerDnsDeps {
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /** [0, 1), for jitter. */
  random?: () => number;
  /** Per HTTP call (default 30 s). */
  requestTimeoutMs?: number;
}

const DEFAULT_TTL = 60;
/** Write rounds (read, merge, PATCH, re-read) before giving up on a busy rrset. */
const MAX_ROUNDS = 5;

interface ApiRecord {
  content: string;
  disabled?: boolean;
}

interface ApiRrset {
  name: string;
  type: string;
  ttl?: number;
  records: ApiRecord[];
}

interface ApiZone {
  id: string;
  name: string;
  rrsets?: ApiRrset[];
}

interface Zone {
  id: string;
  /** Lowercase, no trailing dot. */
  name: string;
}

interface CurrentSet {
  ttl: number | undefined;
  records: (ApiRecord & { value: string })[];
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** A TXT value as PowerDNS wants it: quoted character-strings of at most 255 bytes, `"` and `\` escaped. */
export function txtContent(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    parts.push(
      `"${bytes
        .subarray(i, i + 255)
        .toString('utf8')
        .replace(/["\\]/g, (c) => `\\${c}`)}"`,
    );
  }
  return parts.join(' ');
}

/** The value of a TXT content in presentation form: its character-strings joined, escapes undone. */
export function txtValue(content: string): string {
  const strings = [...content.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  if (strings.length === 0) return content;
  return strings
    .join('')
    .replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/\\(.)/g, '$1');
}

export function createPowerDnsProvider(config: PowerDnsConfig, deps: PowerDnsDeps): DnsProvider {
  const { logger } = deps;
  const doFetch = deps.fetch ?? fetch;
  const random = deps.random ?? Math.random;
  const ttl = config.ttl ?? DEFAULT_TTL;
  const serverId = config.serverId ?? 'localhost';
  const root = config.url.replace(/\/+$/, '');
  const base = /\/api\/v1$/.test(root) ? root : `${root}/api/v1`;
  const serverPath = `/servers/${encodeURIComponent(serverId)}`;
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  const fixedZone = config.zone === undefined ? undefined : normalize(config.zone);

  const call = async <T>(
    method: string,
    path: string,
    what: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> => {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = new AbortController();
    deps.clock.sleep(timeoutMs, timer.signal).then(
      () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)),
      () => {},
    );
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          'X-API-Key': config.apiKey,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = controller.signal.aborted
        ? (controller.signal.reason as Error).message
        : describeFetchError(error);
      throw new DnsProviderError(`powerdns: ${what}: cannot reach ${root}: ${reason}`, {
        cause: error,
        hint: 'check `url`: the PowerDNS webserver must run with api=yes and let this host in (webserver-address, webserver-allow-from)',
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      timer.abort();
    }
    if (!res.ok) throw apiError(res.status, text, what, { root, serverId });
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (error) {
      throw new DnsProviderError(`powerdns: ${what}: HTTP ${res.status} with an answer that is not JSON`, {
        cause: error,
        hint: `check \`url\`: ${root} does not look like the PowerDNS webserver (a proxy or another service answered)`,
      });
    }
  };

  let zoneList: Promise<Zone[]> | undefined;
  const listZones = (signal?: AbortSignal) => {
    // dnssec=false: PowerDNS then skips a key lookup per zone ("a lot faster", its API spec says).
    zoneList ??= call<ApiZone[]>('GET', `${serverPath}/zones?dnssec=false`, 'listing zones', undefined, signal).then(
      (zones) => zones.map((z) => ({ id: z.id, name: normalize(z.name) })),
    );
    zoneList.catch(() => {
      zoneList = undefined;
    });
    return zoneList;
  };

  const zoneFor = async (name: string, signal?: AbortSignal): Promise<Zone> => {
    if (fixedZone !== undefined) {
      if (!inZone(name, fixedZone)) {
        throw new DnsProviderError(`powerdns: ${name} is not inside the configured zone ${fixedZone}`, {
          hint: 'set `zone` to the zone that holds the _acme-challenge names, or leave it out to find it',
        });
      }
      return { id: `${fixedZone}.`, name: fixedZone };
    }
    const zones = await listZones(signal);
    const best = zones.filter((z) => inZone(name, z.name)).sort((a, b) => b.name.length - a.name.length)[0];
    if (!best) {
      throw new DnsProviderError(
        `powerdns: no zone on server ${serverId} holds ${name} (${zones.length} zones there)`,
        {
          hint: 'create the zone on this PowerDNS server, set `zone`, or check `url` and `serverId`',
        },
      );
    }
    return best;
  };

  const zonePath = (zone: Zone) => `${serverPath}/zones/${encodeURIComponent(zone.id)}`;

  const readSet = async (zone: Zone, name: string, signal?: AbortSignal): Promise<CurrentSet> => {
    // rrset_name + rrset_type (PowerDNS ≥ 4.5) return just this rrset, not the whole zone.
    const query = `?rrset_name=${encodeURIComponent(`${name}.`)}&rrset_type=TXT`;
    const z = await call<ApiZone>('GET', `${zonePath(zone)}${query}`, `reading TXT ${name}`, undefined, signal);
    const set = (z.rrsets ?? []).find((r) => r.type === 'TXT' && normalize(r.name) === name);
    return { ttl: set?.ttl, records: (set?.records ?? []).map((r) => ({ ...r, value: txtValue(r.content) })) };
  };

  const queues = new Map<string, Promise<unknown>>();
  const onZone = <T>(zone: string, fn: () => Promise<T>): Promise<T> => {
    const next = (queues.get(zone) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => {});
    queues.set(zone, settled);
    settled.then(() => {
      if (queues.get(zone) === settled) queues.delete(zone);
    });
    return next;
  };

  /** Brings every name's TXT rrset to "has all of `add`, none of `remove`", keeping other values. */
  const write = (zone: Zone, changes: Map<string, { add: Set<string>; remove: Set<string> }>, signal?: AbortSignal) =>
    onZone(zone.name, async () => {
      const names = [...changes.keys()];
      const satisfied = (sets: CurrentSet[]) =>
        sets.every((set, i) => {
          const want = changes.get(names[i]!)!;
          const values = new Set(set.records.map((r) => r.value));
          return [...want.add].every((v) => values.has(v)) && ![...want.remove].some((v) => values.has(v));
        });
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const started = deps.clock.now().getTime();
        const current = await Promise.all(names.map((n) => readSet(zone, n, signal)));
        if (satisfied(current)) return;
        const rrsets = names.map((name, i) => {
          const { add, remove } = changes.get(name)!;
          const set = current[i]!;
          const kept = set.records.filter((r) => !remove.has(r.value));
          const added = [...add].filter((v) => !kept.some((r) => r.value === v));
          const records = [
            ...kept.map((r) => ({ content: r.content, disabled: r.disabled ?? false })),
            ...added.map((v) => ({ content: txtContent(v), disabled: false })),
          ];
          if (records.length === 0) return { name: `${name}.`, type: 'TXT', changetype: 'DELETE' };
          return {
            name: `${name}.`,
            type: 'TXT',
            ttl: kept.length > 0 && set.ttl !== undefined ? set.ttl : ttl,
            changetype: 'REPLACE',
            records,
          };
        });
        await call('PATCH', zonePath(zone), `writing TXT ${names.join(', ')}`, { rrsets }, signal);
        const took = deps.clock.now().getTime() - started;
        await deps.clock.sleep(Math.min(1_000, Math.max(10, took)) + random() * 10, signal);
        const after = await Promise.all(names.map((n) => readSet(zone, n, signal)));
        if (satisfied(after)) return;
        logger.warn(`powerdns: TXT ${names.join(', ')} changed by another writer while we wrote it; writing again`, {
          zone: zone.name,
          round,
        });
        await deps.clock.sleep(100 * 2 ** (round - 1) * (0.5 + random()), signal);
      }
      throw new DnsProviderError(
        `powerdns: TXT ${names.join(', ')} in ${zone.name} kept changing under us; gave up after ${MAX_ROUNDS} rounds`,
        { hint: 'another writer is replacing this record set at the same time; run again, or find who writes it' },
      );
    });

  const apply = async (records: TxtRecord[], op: 'add' | 'remove', signal?: AbortSignal) => {
    if (records.length === 0) return;
    const byZone = new Map<string, { zone: Zone; changes: Map<string, { add: Set<string>; remove: Set<string> }> }>();
    for (const r of records) {
      const name = normalize(r.name);
      const zone = await zoneFor(name, signal);
      const entry = byZone.get(zone.name) ?? { zone, changes: new Map() };
      const change = entry.changes.get(name) ?? { add: new Set<string>(), remove: new Set<string>() };
      change[op].add(r.value);
      entry.changes.set(name, change);
      byZone.set(zone.name, entry);
    }
    await Promise.all([...byZone.values()].map(({ zone, changes }) => write(zone, changes, signal)));
  };

  return {
    name: 'powerdns',
    present: (records, signal) => apply(records, 'add', signal),
    cleanup: (records, signal) => apply(records, 'remove', signal),
    async describeZone(recordName, signal): Promise<ZoneInfo> {
      const zone = await zoneFor(normalize(recordName), signal);
      const query = `?rrset_name=${encodeURIComponent(`${zone.name}.`)}&rrset_type=NS`;
      const z = await call<ApiZone>('GET', `${zonePath(zone)}${query}`, `reading NS ${zone.name}`, undefined, signal);
      const ns = (z.rrsets ?? []).find((r) => r.type === 'NS' && normalize(r.name) === zone.name);
      const nameServers = [...new Set((ns?.records ?? []).filter((r) => !r.disabled).map((r) => normalize(r.content)))];
      return { name: zone.name, id: zone.id, nameServers: nameServers.sort() };
    },
  };
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** PowerDNS answers errors as `{"error": "…"}` (some 404s as plain "Not Found"); its text is kept. */
function apiError(
  status: number,
  text: string,
  what: string,
  ctx: { root: string; serverId: string },
): DnsProviderError {
  let detail = text.trim().slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') detail = body.error;
  } catch {
    // plain text
  }
  const message = `powerdns: ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 401 || status === 403) {
    return new DnsProviderError(message, {
      hint: `the API key was not accepted: apiKey must be the api-key configured on the PowerDNS server at ${ctx.root}`,
    });
  }
  if (status === 404) {
    return new DnsProviderError(message, {
      hint: `check serverId (${ctx.serverId}) and the zone: the server or zone does not exist on ${ctx.root}`,
    });
  }
  if (status === 422 || status === 400) {
    return new DnsProviderError(message, { hint: 'PowerDNS rejected the change; its error text above says why' });
  }
  return new DnsProviderError(message, { hint: 'see the PowerDNS server log' });
}
