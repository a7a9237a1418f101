import { registry as defaultRegistry } from '../../adapters/registry.js';
import type { AdapterFactory, AdapterRegistry, AnyDescriptor } from '../../ports/adapter.js';
import type { Config } from '../../ports/config.js';
import type { AccountStore, CertificateStore, ReadResult, StoredCertificate } from '../../ports/store.js';

export type Mask = (secret: string) => void;

/**
 * Registers every line of a secret with the runner. `::add-mask::` masks a single line, so a
 * PEM registered whole would leave its body lines readable; PEM armour lines are public and
 * would only mask harmless text, so they are skipped.
 */
export function lineMasker(setSecret: (value: string) => void): Mask {
  const done = new Set<string>();
  return (secret) => {
    for (const raw of secret.split(/\r?\n/)) {
      const line = raw.trim();
      if (line.length < 4 || line.startsWith('-----') || done.has(line)) continue;
      done.add(line);
      setSecret(line);
    }
  };
}

/**
 * Wraps the stores so every private key the run handles is masked the moment it exists in this
 * process: a stored key as soon as it is read, a new key before it is written (the core generates
 * it and hands it to the store first), the ACME account key on load and save. This sits at the
 * store boundary because every key passes it, whatever the core later does with the key.
 */
export function maskingAdapters(adapters: AdapterFactory, mask: Mask): AdapterFactory {
  return {
    ...adapters,
    store: async (cert) => maskingStore(await adapters.store(cert), mask),
    accountStore: async () => maskingAccountStore(await adapters.accountStore(), mask),
  };
}

function maskingStore(store: CertificateStore, mask: Mask): CertificateStore {
  const read: CertificateStore['read'] = async (signal) => {
    const result: ReadResult = await store.read(signal);
    if (result.kind === 'found') mask(result.certificate.privateKey);
    return result;
  };
  const write: CertificateStore['write'] = (certificate: StoredCertificate, signal) => {
    mask(certificate.privateKey);
    return store.write(certificate, signal);
  };
  return intercept(store, { read, write });
}

function maskingAccountStore(accounts: AccountStore, mask: Mask): AccountStore {
  const load: AccountStore['load'] = async (directoryUrl) => {
    const account = await accounts.load(directoryUrl);
    if (account) mask(account.accountKey);
    return account;
  };
  const save: AccountStore['save'] = (account) => {
    mask(account.accountKey);
    return accounts.save(account);
  };
  return intercept(accounts, { load, save });
}

/**
 * A proxy that replaces some methods and forwards everything else (bound to the real object), so
 * a store that grows a method later is not silently cut off by the wrapper.
 */
function intercept<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(obj, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value = Reflect.get(obj, prop, obj);
      return typeof value === 'function' ? value.bind(obj) : value;
    },
  });
}

/**
 * Credentials the config carries (substituted from `${env:…}` or written inline) and those the
 * adapters read from the environment, as their descriptors declare them (`secrets`,
 * `secretEnv`): a new adapter's token is masked without touching this file. The runner masks
 * `secrets.*` it passes in, but not a value that reached the environment some other way.
 */
export function configSecrets(
  config: Config,
  env: Record<string, string | undefined>,
  registry: AdapterRegistry = defaultRegistry,
): string[] {
  const out = new Set<string>();
  if (config.acme.eab?.hmacKey) out.add(config.acme.eab.hmacKey);
  const collect = (d: AnyDescriptor | undefined, options: Record<string, unknown>) => {
    if (!d) return;
    for (const path of d.secrets) {
      let v: unknown = options;
      for (const key of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[key];
      if (typeof v === 'string' && v) out.add(v);
    }
    for (const name of d.secretEnv ?? []) {
      const v = env[name];
      if (v) out.add(v);
    }
  };
  for (const cert of config.certificates) {
    collect(
      registry.dns.find((d) => d.name === cert.dns.provider),
      cert.dns,
    );
    collect(
      registry.store.find((d) => d.name === cert.store.type),
      cert.store,
    );
    for (const e of cert.exports)
      collect(
        registry.export.find((d) => d.name === e.type),
        e,
      );
    for (const h of cert.hooks)
      collect(
        registry.hook.find((d) => d.name === h.type),
        h,
      );
  }
  return [...out];
}
