import type { CaaRecord, DnsLookup } from '../../ports/dns.js';

/**
 * The doctor's DNS lookups: every answer cached per (resolver, type, name), so fifty certificates
 * under one zone ask for its CAA, NS and parents once, and every lookup started at once rather than
 * one after another. A failing resolver is retried once (the adapter tries each query once, with
 * its own timeout) and then reported as a failure, never as "no records": a check that could not
 * look must say so, not pass.
 */

export type Looked<T> = { ok: true; value: T } | { ok: false; error: string };

/** The CAA record set in force for a name (RFC 8659 §3): where it was found, and its records. */
export interface RelevantCaa {
  at: string;
  records: CaaRecord[];
}

const label = (resolver: string | undefined) => resolver ?? 'the system resolver';

export class DoctorLookups {
  private readonly cache = new Map<string, Promise<Looked<unknown>>>();

  constructor(private readonly lookup: DnsLookup) {}

  /** Distinct queries asked so far (each is asked once). */
  get size(): number {
    return this.cache.size;
  }

  private once<T>(key: string, resolver: string | undefined, query: () => Promise<T>): Promise<Looked<T>> {
    let p = this.cache.get(key) as Promise<Looked<T>> | undefined;
    if (!p) {
      p = (async (): Promise<Looked<T>> => {
        let last: unknown;
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            return { ok: true, value: await query() };
          } catch (error) {
            last = error;
          }
        }
        const message = last instanceof Error ? last.message : String(last);
        return { ok: false, error: `${message} (${label(resolver)})` };
      })();
      this.cache.set(key, p);
    }
    return p;
  }

  caa(resolver: string | undefined, name: string): Promise<Looked<CaaRecord[]>> {
    return this.once(`caa ${resolver} ${name}`, resolver, () => this.lookup.caa(resolver, name));
  }

  cname(resolver: string | undefined, name: string): Promise<Looked<string[]>> {
    return this.once(`cname ${resolver} ${name}`, resolver, () => this.lookup.cname(resolver, name));
  }

  ns(resolver: string | undefined, name: string): Promise<Looked<string[]>> {
    return this.once(`ns ${resolver} ${name}`, resolver, () => this.lookup.ns(resolver, name));
  }

  /**
   * RFC 8659 §3: the closest non-empty CAA record set climbing from `name` (a wildcard's base) up
   * to, not including, the root; undefined when there is none. The resolver follows CNAMEs at each
   * name as for any query. Every level is asked at once; a failure at a level nearer than the
   * record set found makes the answer unknown.
   */
  async relevantCaa(resolver: string | undefined, name: string): Promise<Looked<RelevantCaa | undefined>> {
    const labels = name.replace(/^\*\./, '').split('.');
    const levels = labels.map((_, i) => labels.slice(i).join('.'));
    const answers = levels.map((level) => this.caa(resolver, level));
    for (let i = 0; i < levels.length; i++) {
      const answer = await (answers[i] as Promise<Looked<CaaRecord[]>>);
      if (!answer.ok) return { ok: false, error: `CAA at ${levels[i]}: ${answer.error}` };
      if (answer.value.length > 0) return { ok: true, value: { at: levels[i] as string, records: answer.value } };
    }
    return { ok: true, value: undefined };
  }

  /** The CNAME chain from `name` (its targets, in order; [] when `name` is no CNAME), at most 8 hops. */
  async cnameChain(resolver: string | undefined, name: string): Promise<Looked<string[]>> {
    const chain: string[] = [];
    let current = name;
    for (let hop = 0; hop < 8; hop++) {
      const answer = await this.cname(resolver, current);
      if (!answer.ok) return answer;
      const next = answer.value[0];
      if (!next || chain.includes(next)) break;
      chain.push(next);
      current = next;
    }
    return { ok: true, value: chain };
  }
}
