import type { CertificateConfig, Config } from '../core/config.js';
import type { AdapterFactory } from '../core/runner.js';
import type { Clock } from '../ports/clock.js';
import type { DnsProvider } from '../ports/dns.js';
import { ConfigError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import type { AccountStore, CertificateStore } from '../ports/store.js';
import { createChalltestsrvProvider } from './dns/challtestsrv/index.js';
import { FileAccountStore, FileStore } from './store/file/index.js';

export type EntryPoint = 'cli' | 'github-action' | 'lambda';

export interface AdapterContext {
  clock: Clock;
  logger: Logger;
  env: Record<string, string | undefined>;
  entry: EntryPoint;
}

/**
 * Wires config to adapters. Cloud adapters are imported on first use so a run that touches
 * only files never loads an AWS SDK (the bundles still contain them).
 */
export function createAdapters(config: Config, ctx: AdapterContext): AdapterFactory {
  const dnsCache = new Map<string, Promise<DnsProvider>>();
  const storeFor = async (cert: CertificateConfig): Promise<CertificateStore> => {
    const s = cert.store;
    switch (s.type) {
      case 'file':
        return new FileStore(s.dir, cert.id, ctx.clock);
      case 'aws-secrets-manager': {
        const m = await import('./store/secrets-manager/index.js');
        return m.createSecretsManagerStore(cert.id, s, { clock: ctx.clock, logger: ctx.logger });
      }
    }
  };
  return {
    store: storeFor,
    async dns(cert) {
      // One provider per distinct DNS config: Route 53 coalesces concurrent writes per zone.
      const key = JSON.stringify(cert.dns);
      let p = dnsCache.get(key);
      if (!p) {
        p = (async (): Promise<DnsProvider> => {
          const d = cert.dns;
          switch (d.provider) {
            case 'challtestsrv':
              return createChalltestsrvProvider(d);
            case 'route53': {
              const m = await import('./dns/route53/index.js');
              return m.createRoute53Provider(d, { clock: ctx.clock, logger: ctx.logger });
            }
          }
        })();
        dnsCache.set(key, p);
      }
      return p;
    },
    async accountStore(): Promise<AccountStore> {
      const first = config.certificates[0];
      if (!first) throw new ConfigError([{ path: 'certificates', message: 'no certificate configured' }]);
      const s = first.store;
      if (s.type === 'file') return new FileAccountStore(s.dir);
      const m = await import('./store/secrets-manager/index.js');
      return m.createSecretsManagerAccountStore(s, { clock: ctx.clock, logger: ctx.logger });
    },
    async exporters(cert) {
      if (cert.exports.length === 0) return [];
      const m = await import('./export/acm.js');
      return cert.exports.map((e) => m.createAcmExporter(e, { clock: ctx.clock, logger: ctx.logger }));
    },
    async hooks(cert) {
      if (cert.hooks.length === 0) return [];
      const m = await import('./hooks/index.js');
      return cert.hooks.map((h) => m.createHook(h, { clock: ctx.clock, logger: ctx.logger, env: ctx.env }, ctx.entry));
    },
  };
}
