import type { Clock } from '../ports/clock.js';
import type { DnsLookup, TxtRecord } from '../ports/dns.js';
import { PropagationError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import { poll } from '../ports/retry.js';

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
  deps: { clock: Clock; logger: Logger; lookup: Pick<DnsLookup, 'txt'>; signal?: AbortSignal },
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
  let lastError: unknown;
  await poll(
    () =>
      Promise.all(
        [...pending].map(async (key) => {
          const [resolver, name] = key.split(' ') as [string, string];
          try {
            const seen = new Set(await deps.lookup.txt(resolver, name));
            if ([...(byName.get(name) as Set<string>)].every((v) => seen.has(v))) pending.delete(key);
          } catch (error) {
            lastError = error;
          }
        }),
      ),
    () => (pending.size === 0 ? true : undefined),
    {
      clock: deps.clock,
      timeoutMs: options.timeoutMs,
      initialDelayMs: options.intervalMs,
      ...(options.progressEveryMs ? { progressEveryMs: options.progressEveryMs } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: (elapsed) =>
        deps.logger.info(
          `dns: waiting for TXT records to propagate (${Math.round(elapsed / 1000)} s, ${pending.size} pending)`,
          { pending: [...pending].slice(0, 3) },
        ),
      onTimeout: (elapsed) => {
        const missing = [...pending].map((k) => k.replace(' ', ' does not show ')).slice(0, 5);
        return new PropagationError(
          `dns: TXT records not visible after ${Math.round(elapsed / 1000)} s: ${missing.join('; ')}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
          { hint: 'raise dns.propagation.timeout, or check the resolvers and the zone delegation', cause: lastError },
        );
      },
    },
  );
  deps.logger.debug('dns: records visible on all resolvers', { ms: deps.clock.now().getTime() - start });
}

/**
 * With `challengeAlias` the CA reads `_acme-challenge.<d>`, which must be a CNAME (directly or by
 * a chain) to the name certkeeper writes. Checked before ordering: a missing delegation would
 * otherwise cost a failed authorization at the CA (Let's Encrypt allows 5 per name per hour).
 */
export async function checkAliasDelegation(
  pairs: { from: string; to: string }[],
  resolver: string | undefined,
  deps: { lookup: Pick<DnsLookup, 'cname'>; logger: Logger },
): Promise<void> {
  for (const { from, to } of pairs) {
    let name = from;
    let ok = false;
    try {
      for (let hop = 0; hop < 8 && !ok; hop++) {
        const [next] = await deps.lookup.cname(resolver, name);
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

/**
 * The zone's authoritative name servers as "ip:53", for providers that report no change status
 * and name no servers of their own (PRODUCT §2: with no resolvers configured, the zone's
 * authoritative servers): the closest enclosing zone with NS records, by the system resolver.
 */
export async function authoritativeResolvers(
  recordName: string,
  lookup: Pick<DnsLookup, 'ns' | 'addresses'>,
): Promise<string[]> {
  const labels = recordName.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const zone = labels.slice(i).join('.');
    const servers = await lookup.ns(undefined, zone);
    if (servers.length === 0) continue;
    const addresses = new Set<string>();
    await Promise.all(
      servers.map(async (ns) => {
        for (const a of await lookup.addresses(ns).catch(() => [] as string[])) {
          addresses.add(a.includes(':') ? `[${a}]:53` : `${a}:53`);
        }
      }),
    );
    if (addresses.size > 0) return [...addresses];
  }
  throw new PropagationError(`dns: cannot find the authoritative name servers of ${recordName}`, {
    hint: 'set dns.propagation.resolvers to resolvers that see the zone',
  });
}
