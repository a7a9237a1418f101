import { Resolver, lookup as systemLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CaaRecord, DnsLookup } from '../../ports/dns.js';

/**
 * The DnsLookup port on node:dns (c-ares). One resolver per server, one short try each: a lost
 * packet costs one propagation interval, not a stalled run. NODATA and NXDOMAIN are "none" ([]);
 * everything else (timeout, SERVFAIL, REFUSED) throws, so callers can tell "none" from "could not check".
 */

function splitHostPort(hostPort: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
  if (!m) return { host: hostPort, port: 53 };
  return { host: m[1] as string, port: Number(m[2]) };
}

const NONE = new Set(['ENODATA', 'ENOTFOUND']);

async function orNone<T>(query: Promise<T[]>): Promise<T[]> {
  try {
    return await query;
  } catch (error) {
    if (NONE.has((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

export function createNodeDnsLookup(options: { timeoutMs?: number; tries?: number } = {}): DnsLookup {
  const resolvers = new Map<string, Promise<Resolver>>();
  const resolverFor = (server: string | undefined): Promise<Resolver> => {
    const key = server ?? '';
    let r = resolvers.get(key);
    if (!r) {
      r = (async () => {
        const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 1 });
        if (server) {
          const { host, port } = splitHostPort(server);
          const ip = isIP(host) ? host : (await systemLookup(host)).address;
          resolver.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
        }
        return resolver;
      })();
      r.catch(() => resolvers.delete(key));
      resolvers.set(key, r);
    }
    return r;
  };

  return {
    async txt(server, name) {
      const records = await orNone((await resolverFor(server)).resolveTxt(name));
      return records.map((chunks) => chunks.join(''));
    },
    async cname(server, name) {
      return (await orNone((await resolverFor(server)).resolveCname(name))).map(bare);
    },
    async ns(server, name) {
      return (await orNone((await resolverFor(server)).resolveNs(name))).map(bare);
    },
    async caa(server, name) {
      const records = await orNone((await resolverFor(server)).resolveCaa(name));
      return records.map((r): CaaRecord => {
        // { critical, issue: 'ca.example' } — Node 22+ adds `type: 'CAA'`, which is not a tag.
        const { critical, type: _type, ...rest } = r as unknown as Record<string, unknown> & { critical: number };
        const [tag, value] = Object.entries(rest)[0] ?? ['', ''];
        return { critical: Boolean(critical & 128) || critical === 1, tag: tag.toLowerCase(), value: String(value) };
      });
    },
    async soa(server, name) {
      const resolver = await resolverFor(server);
      // An SOA answers only at a zone apex; walk up until one does.
      const labels = bare(name).split('.');
      for (let i = 0; i < labels.length - 1; i++) {
        const candidate = labels.slice(i).join('.');
        try {
          const soa = await resolver.resolveSoa(candidate);
          return { zone: candidate, mname: bare(soa.nsname) };
        } catch (error) {
          if (!NONE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        }
      }
      return undefined;
    },
    async addresses(host) {
      if (isIP(host)) return [host];
      return (await systemLookup(host, { all: true })).map((a) => a.address);
    },
  };
}
