import type { DnsProvider, TxtRecord } from '../../../ports/dns.js';
import { DnsProviderError } from '../../../ports/errors.js';

/**
 * Pebble's challenge test server (local testing and the demo). Its API can append a value
 * (`/set-txt`) or clear a whole name (`/clear-txt`), nothing finer; to remove only our own
 * values, cleanup clears the name and writes back the values this process still holds there.
 * Values written by other processes on the same name are lost — acceptable for a test server.
 */
export function createChalltestsrvProvider(config: { url: string }, deps: { fetch?: typeof fetch } = {}): DnsProvider {
  const doFetch = deps.fetch ?? fetch;
  const held = new Map<string, string[]>();
  // Serialise per name: clear + re-add must not interleave with another present on that name.
  const queues = new Map<string, Promise<unknown>>();
  const base = config.url.replace(/\/$/, '');

  const post = async (path: string, body: object, signal?: AbortSignal) => {
    let resp: Response;
    try {
      resp = await doFetch(`${base}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw new DnsProviderError(`challtestsrv: ${path} failed: ${(error as Error).message}`, {
        cause: error,
        hint: `is pebble-challtestsrv running at ${base}?`,
      });
    }
    if (!resp.ok) throw new DnsProviderError(`challtestsrv: ${path} answered HTTP ${resp.status}`);
  };

  const onName = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const prev = queues.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    queues.set(
      name,
      next.catch(() => {}),
    );
    return next;
  };

  const group = (records: TxtRecord[]) => {
    const m = new Map<string, string[]>();
    for (const r of records) m.set(r.name, [...(m.get(r.name) ?? []), r.value]);
    return m;
  };

  return {
    name: 'challtestsrv',
    // Its DNS port is not known from the management URL: without configured resolvers, no check.
    defaultResolvers: async () => [],
    async present(records, signal) {
      await Promise.all(
        [...group(records)].map(([name, values]) =>
          onName(name, async () => {
            for (const value of values) {
              await post('/set-txt', { host: `${name}.`, value }, signal);
              held.set(name, [...(held.get(name) ?? []), value]);
            }
          }),
        ),
      );
    },
    async cleanup(records, signal) {
      await Promise.all(
        [...group(records)].map(([name, values]) =>
          onName(name, async () => {
            const remaining = [...(held.get(name) ?? [])];
            for (const v of values) {
              const i = remaining.indexOf(v);
              if (i >= 0) remaining.splice(i, 1);
            }
            await post('/clear-txt', { host: `${name}.` }, signal);
            for (const value of remaining) await post('/set-txt', { host: `${name}.`, value }, signal);
            if (remaining.length) held.set(name, remaining);
            else held.delete(name);
          }),
        ),
      );
    },
  };
}
