import type {
  AdapterContext,
  AdapterFactory,
  AdapterRegistry,
  AnyDescriptor,
  CaDescriptor,
  DnsDescriptor,
  EntryPoint,
  ExportDescriptor,
  HookDescriptor,
  StoreDescriptor,
} from '../ports/adapter.js';
import type { CertificateConfig, Config } from '../ports/config.js';
import type { DnsProvider } from '../ports/dns.js';
import { ConfigError } from '../ports/errors.js';
import { azureDns } from './dns/azure-dns/descriptor.js';
import { challtestsrv } from './dns/challtestsrv/descriptor.js';
import { cloudflareDescriptor } from './dns/cloudflare/descriptor.js';
import { googleCloudDns } from './dns/google-cloud-dns/descriptor.js';
import { powerdns } from './dns/powerdns/descriptor.js';
import { rfc2136 } from './dns/rfc2136/descriptor.js';
import { route53 } from './dns/route53/descriptor.js';
import { awsAcm } from './export/aws-acm/descriptor.js';
import { awsEventBridge } from './hook/aws-eventbridge/descriptor.js';
import { command } from './hook/command/descriptor.js';
import { githubDispatch } from './hook/github-dispatch/descriptor.js';
import { verifyEndpoint } from './hook/verify-endpoint/descriptor.js';
import { webhook } from './hook/webhook/descriptor.js';
import { createNodeDnsLookup } from './resolver/node-dns.js';
import { awsSecretsManager } from './store/aws-secrets-manager/descriptor.js';
import { fileStore } from './store/file/descriptor.js';

/**
 * Every adapter certkeeper has, one array per kind (STYLE §11). Adding an adapter is a folder
 * with its descriptor and one entry here; the config schema, JSON Schema, Action masking, the
 * generated reference (docs/adapters.md) and `certkeeper iam-policy` all derive from these arrays.
 * Descriptors are light: each `create` imports its implementation (and SDK) only when used.
 */

export const dnsProviders: readonly DnsDescriptor[] = [
  route53,
  cloudflareDescriptor,
  rfc2136,
  powerdns,
  googleCloudDns,
  azureDns,
  challtestsrv,
] as unknown as DnsDescriptor[];
export const stores: readonly StoreDescriptor[] = [fileStore, awsSecretsManager] as unknown as StoreDescriptor[];
export const exporters: readonly ExportDescriptor[] = [awsAcm] as unknown as ExportDescriptor[];
export const hooks: readonly HookDescriptor[] = [
  webhook,
  githubDispatch,
  awsEventBridge,
  command,
  verifyEndpoint,
] as unknown as HookDescriptor[];

const LETS_ENCRYPT_BUDGET = { orders: 300, perMs: 3 * 3_600_000 };
const WEEK_MS = 7 * 86_400_000;

/**
 * The CAs `acme.directory` knows by name; Let's Encrypt's limit of 300 new orders / account / 3 h is
 * the default budget. Its 50 new certificates per registered domain per week (staging: 30,000) is
 * what the doctor's `limits` check holds due certificates against.
 */
export const cas: readonly CaDescriptor[] = [
  {
    name: 'letsencrypt',
    directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    orderBudget: LETS_ENCRYPT_BUDGET,
    registeredDomainLimit: { certificates: 50, perMs: WEEK_MS },
  },
  {
    name: 'letsencrypt-staging',
    directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory',
    orderBudget: LETS_ENCRYPT_BUDGET,
    registeredDomainLimit: { certificates: 30_000, perMs: WEEK_MS },
  },
  { name: 'zerossl', directoryUrl: 'https://acme.zerossl.com/v2/DV90' },
  { name: 'google', directoryUrl: 'https://dv.acme-v02.api.pki.goog/directory' },
  { name: 'google-staging', directoryUrl: 'https://dv.acme-v02.test-api.pki.goog/directory' },
];

export const registry: AdapterRegistry = {
  dns: dnsProviders,
  store: stores,
  export: exporters,
  hook: hooks,
  defaultStore: fileStore.name,
  cas,
};

export type AdapterOptions = Omit<AdapterContext, 'lookup'> & { lookup?: AdapterContext['lookup'] };

function findFor(entry: EntryPoint) {
  return <D extends AnyDescriptor>(list: readonly D[], name: string, what: string, path: string): D => {
    const d = list.find((x) => x.name === name);
    // The config schema admits only registered names, and parseConfig({ entry }) rejects adapters
    // that cannot run here; this guards configs parsed without an entry point (tests, code).
    if (!d) throw new ConfigError([{ path, message: `unknown ${what} "${name}"` }]);
    if (d.entryPoints && !d.entryPoints.includes(entry)) {
      throw new ConfigError([
        { path, message: `${what} "${name}" cannot run on ${entry}; only: ${d.entryPoints.join(', ')}` },
      ]);
    }
    return d;
  };
}

/**
 * Wires a parsed config to adapters through the registry. Lazy: a run that touches only files
 * never loads an AWS SDK (the bundles still contain them, in chunks of their own).
 */
export function createAdapters(
  config: Config,
  options: AdapterOptions,
  reg: AdapterRegistry = registry,
): AdapterFactory {
  const ctx: AdapterContext = {
    ...options,
    lookup: options.lookup ?? createNodeDnsLookup(),
    // One scope per run: adapter families keep their shared clients per run (src/adapters/aws/services.ts).
    services: { scope: {}, ...options.services },
  };
  const find = findFor(ctx.entry);
  // One provider per distinct DNS config: Route 53 coalesces concurrent writes per zone.
  const dnsCache = new Map<string, Promise<DnsProvider>>();
  return {
    lookup: ctx.lookup,
    async store(cert: CertificateConfig) {
      return find(reg.store, cert.store.type, 'store type', 'store.type').create(cert.store as never, cert.id, ctx);
    },
    dns(cert: CertificateConfig) {
      const key = JSON.stringify(cert.dns);
      let p = dnsCache.get(key);
      if (!p) {
        p = (async () =>
          find(reg.dns, cert.dns.provider, 'DNS provider', 'dns.provider').create(cert.dns as never, ctx))();
        p.catch(() => dnsCache.delete(key));
        dnsCache.set(key, p);
      }
      return p;
    },
    async accountStore() {
      const first = config.certificates[0];
      if (!first) throw new ConfigError([{ path: 'certificates', message: 'no certificate configured' }]);
      return find(reg.store, first.store.type, 'store type', 'store.type').accountStore(first.store as never, ctx);
    },
    async exporters(cert: CertificateConfig) {
      return Promise.all(
        cert.exports.map((e) => find(reg.export, e.type, 'export type', 'exports.type').create(e as never, ctx)),
      );
    },
    async hooks(cert: CertificateConfig) {
      return Promise.all(
        cert.hooks.map((h) => find(reg.hook, h.type, 'hook type', 'hooks.type').create(h as never, ctx)),
      );
    },
  };
}
