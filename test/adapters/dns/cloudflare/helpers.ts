import { type CloudflareTuning, createCloudflareProvider } from '../../../../src/adapters/dns/cloudflare/cloudflare.js';
import type { CloudflareOptions } from '../../../../src/adapters/dns/cloudflare/descriptor.js';
import type { AdapterContext } from '../../../../src/ports/adapter.js';
import { type Clock, systemClock } from '../../../../src/ports/clock.js';
import type { DnsLookup } from '../../../../src/ports/dns.js';
import { recordingLogger } from '../../../support/logger.js';

/** A DnsLookup for provider tests: only name server addresses, from a table. */
export function tableLookup(addresses: Record<string, string[]> = {}): DnsLookup {
  const none = () => Promise.reject(new Error('not used in these tests'));
  return {
    txt: none,
    cname: none,
    ns: none,
    caa: none,
    soa: none,
    addresses: async (host) => {
      const found = addresses[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    },
  };
}

export function context(
  env: Record<string, string | undefined>,
  overrides: Partial<AdapterContext> = {},
): AdapterContext {
  return { clock: systemClock, logger: recordingLogger(), env, entry: 'cli', lookup: tableLookup(), ...overrides };
}

/** A provider as a run builds it: options parsed, DNS common fields defaulted. */
export function provider(
  env: Record<string, string | undefined>,
  options: CloudflareOptions = {},
  extra: { clock?: Clock; ctx?: Partial<AdapterContext>; tuning?: CloudflareTuning } = {},
) {
  return createCloudflareProvider(
    {
      provider: 'cloudflare',
      ttl: 60,
      propagation: { timeoutMs: 20_000, intervalMs: 100 },
      ...options,
    },
    context(env, { ...(extra.clock ? { clock: extra.clock } : {}), ...extra.ctx }),
    extra.tuning,
  );
}
