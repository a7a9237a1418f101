import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../ports/clock.js';
import type { TxtRecord } from '../ports/dns.js';
import { PropagationError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';

/** Asks one resolver (`host:port`) for the TXT values at `name`; [] when none. */
export type TxtLookup = (resolver: string, name: string) => Promise<string[]>;

function splitHostPort(hostPort: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
  if (!m) return { host: hostPort, port: 53 };
  return { host: m[1] as string, port: Number(m[2]) };
}

/** Real DNS over UDP/TCP with node's resolver (c-ares): one short try, so a lost packet costs one interval. */
export function dnsTxtLookup(): TxtLookup {
  const resolvers = new Map<string, Promise<Resolver>>();
  const resolverFor = (hostPort: string) => {
    let r = resolvers.get(hostPort);
    if (!r) {
      r = (async () => {
        const { host, port } = splitHostPort(hostPort);
        const ip = isIP(host) ? host : (await lookup(host)).address;
        const resolver = new Resolver({ timeout: 2000, tries: 1 });
        resolver.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
        return resolver;
      })();
      resolvers.set(hostPort, r);
    }
    return r;
  };
  return async (resolver, name) => {
    try {
      const records = await (await resolverFor(resolver)).resolveTxt(name);
      return records.map((chunks) => chunks.join(''));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw error;
    }
  };
}

export interface PropagationOptions {
  resolvers: string[];
  timeoutMs: number;
  intervalMs: number;
  /** How often to print a progress line during a long wait. */
  progressEveryMs?: number;
}

/**
 * Waits until every resolver answers every expected value at every name. Checks at once (records
 * are often live already), then every `intervalMs`, with a progress line every 10 s so a long
 * wait on a slow provider is visibly alive.
 */
export async function waitForPropagation(
  records: TxtRecord[],
  options: PropagationOptions,
  deps: { clock: Clock; logger: Logger; lookup: TxtLookup; signal?: AbortSignal },
): Promise<void> {
  if (records.length === 0 || options.resolvers.length === 0) return;
  const byName = new Map<string, Set<string>>();
  for (const r of records) {
    const set = byName.get(r.name) ?? new Set<string>();
    set.add(r.value);
    byName.set(r.name, set);
  }
  const pending = new Set<string>();
  for (const name of byName.keys()) for (const resolver of options.resolvers) pending.add(`${resolver} ${name}`);
  const start = deps.clock.now().getTime();
  let lastProgress = start;
  const progressEvery = options.progressEveryMs ?? 10_000;
  let lastError: unknown;
  for (;;) {
    await Promise.all(
      [...pending].map(async (key) => {
        const [resolver, name] = key.split(' ') as [string, string];
        try {
          const seen = new Set(await deps.lookup(resolver, name));
          if ([...(byName.get(name) as Set<string>)].every((v) => seen.has(v))) pending.delete(key);
        } catch (error) {
          lastError = error;
        }
      }),
    );
    if (pending.size === 0) {
      deps.logger.debug('dns: records visible on all resolvers', { ms: deps.clock.now().getTime() - start });
      return;
    }
    const now = deps.clock.now().getTime();
    const elapsed = now - start;
    if (elapsed >= options.timeoutMs) {
      const missing = [...pending].map((k) => k.replace(' ', ' does not show ')).slice(0, 5);
      throw new PropagationError(
        `dns: TXT records not visible after ${Math.round(elapsed / 1000)} s: ${missing.join('; ')}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
        { hint: 'raise dns.propagation.timeout, or check the resolvers and the zone delegation', cause: lastError },
      );
    }
    if (now - lastProgress >= progressEvery) {
      lastProgress = now;
      deps.logger.info(
        `dns: waiting for TXT records to propagate (${Math.round(elapsed / 1000)} s, ${pending.size} pending)`,
        {
          pending: [...pending].slice(0, 3),
        },
      );
    }
    await deps.clock.sleep(Math.min(options.intervalMs, options.timeoutMs - elapsed), deps.signal);
  }
}

/** Follows CNAMEs from `name` (up to 8 hops) at one resolver; [] when there is none. */
export type CnameLookup = (resolver: string | undefined, name: string) => Promise<string[]>;

export function dnsCnameLookup(): CnameLookup {
  return async (resolver, name) => {
    const r = new Resolver({ timeout: 2000, tries: 2 });
    if (resolver) {
      const { host, port } = splitHostPort(resolver);
      const ip = isIP(host) ? host : (await lookup(host)).address;
      r.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
    }
    try {
      return (await r.resolveCname(name)).map((n) => n.toLowerCase().replace(/\.$/, ''));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw error;
    }
  };
}

/**
 * With `challengeAlias` the CA reads `_acme-challenge.<d>`, which must be a CNAME (directly or by
 * a chain) to the name certkeeper writes. Checked before ordering: a missing delegation would
 * otherwise cost a failed authorization at the CA (Let's Encrypt allows 5 per name per hour).
 */
export async function checkAliasDelegation(
  pairs: { from: string; to: string }[],
  resolver: string | undefined,
  deps: { lookup: CnameLookup; logger: Logger },
): Promise<void> {
  for (const { from, to } of pairs) {
    let name = from;
    let ok = false;
    try {
      for (let hop = 0; hop < 8 && !ok; hop++) {
        const [next] = await deps.lookup(resolver, name);
        if (!next) break;
        name = next;
        ok = next === to;
      }
    } catch (error) {
      // The resolver itself failed: say so, and let the CA be the judge.
      deps.logger.warn(`dns: could not check the CNAME ${from} → ${to}: ${(error as Error).message}`);
      continue;
    }
    if (!ok) {
      throw new PropagationError(
        `dns: challengeAlias: ${from} is not a CNAME to ${to}${name !== from ? ` (it leads to ${name})` : ''}`,
        { hint: `add the record "${from}. CNAME ${to}." in the zone of ${from.replace(/^_acme-challenge\./, '')}` },
      );
    }
  }
}
