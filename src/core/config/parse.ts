import { readFile } from 'node:fs/promises';
import * as YAML from 'yaml';
import type * as z from 'zod';
import type { AdapterRegistry, AnyDescriptor, EntryPoint, Env } from '../../ports/adapter.js';
import type { CertificateConfig, Config, DnsConfig, RenewBefore } from '../../ports/config.js';
import { ConfigError, type ConfigIssue } from '../../ports/errors.js';
import { ENV_REF_EXAMPLE, ENV_REF_ONLY } from '../../ports/schema.js';
import type { KeyType } from '../../ports/store.js';
import { normalizeDomain } from '../domains.js';
import { scrubIssue, substituteEnv } from './env.js';
import { homePathFor, mergeDefaults } from './merge.js';
import { formatPath, isPlainObject, splitDotted, valueAt } from './paths.js';
import { configSchemas } from './schema.js';

/**
 * The one validation path for certkeeper.yml (PRODUCT §2): substitute `${env:…}` → merge
 * `defaults` into each certificate → validate (zod, assembled from the registry) → cross-check
 * (what one item's schema cannot see) → normalize into the `Config` of src/ports/config.ts. The
 * Action's shortcut inputs, the Lambda's inline config and the CLI's file all arrive as a raw
 * object here. Nothing here does network I/O. Every issue names its path; all are reported at once.
 */

export interface ParseOptions {
  registry: AdapterRegistry;
  env?: Env;
  /** Where the config will run: adapters limited to other entry points are rejected now, not mid-run. */
  entry?: EntryPoint;
}

type Raw = Record<string, unknown>;

export function parseConfig(input: unknown, options: ParseOptions): Config {
  const { registry } = options;
  const env = options.env ?? process.env;
  if (input === null || input === undefined) {
    throw new ConfigError([
      { path: '', message: 'the config is empty; expected a mapping with version, acme and certificates' },
    ]);
  }
  if (!isPlainObject(input))
    throw new ConfigError([{ path: '', message: 'the config must be a YAML or JSON mapping' }]);

  // 1. substitute
  const envIssues: ConfigIssue[] = [];
  const usedEnv = new Map<string, string>();
  const substituted = substituteEnv(input, env, envIssues, [], usedEnv) as Raw;
  // A string whose variable is missing is reported once, as missing, not also as "too small" etc.
  const missingEnvPaths = new Set(envIssues.map((i) => i.path));

  // 2. merge defaults into each certificate, so one certificate schema decides
  const rawDefaults = isPlainObject(substituted.defaults) ? substituted.defaults : {};
  const rawCerts = substituted.certificates;
  const merged = mergeAll(rawDefaults, rawCerts);
  const homePath = homePathFor(rawDefaults, rawCerts);

  // 3. validate; `defaults` also on its own so its errors are named under `defaults`
  const schemas = configSchemas(registry);
  const found: ConfigIssue[] = [];
  const defaultsResult = schemas.defaults.safeParse(substituted.defaults);
  if (!defaultsResult.success) {
    found.push(...zodIssues(defaultsResult.error, substituted.defaults, (p) => ['defaults', ...p]));
  }
  const mergedInput = { ...substituted, certificates: merged };
  const result = schemas.raw.safeParse(mergedInput);
  if (!result.success) found.push(...zodIssues(result.error, mergedInput, homePath));

  // 4. cross-check, whether or not the schema passed (so every issue is reported in one go)
  found.push(...crossCheck(merged, homePath));
  // Credentials of DNS providers only from the environment (PRODUCT §2): checked on the file as written.
  const unsubstituted = mergeAll(isPlainObject(input.defaults) ? input.defaults : {}, input.certificates);
  found.push(...dnsSecretsFromEnv(registry, unsubstituted, homePath));
  if (result.success) found.push(...adapterChecks(registry, result.data as Raw, homePath, env, options.entry));

  const issues: ConfigIssue[] = [...envIssues];
  const keys = new Set(issues.map((i) => `${i.path}\0${i.message}`));
  for (const issue of found) {
    const key = `${issue.path}\0${issue.message}`;
    if (missingEnvPaths.has(issue.path) || keys.has(key)) continue;
    keys.add(key);
    issues.push(issue);
  }
  if (issues.length > 0) throw new ConfigError(issues.map((i) => scrubIssue(i, usedEnv)));
  if (!result.success) throw new ConfigError([{ path: '', message: 'invalid config' }]); // unreachable

  // 5. normalize
  return normalize(registry, result.data as Raw);
}

function mergeAll(rawDefaults: Raw, rawCerts: unknown): unknown {
  return Array.isArray(rawCerts)
    ? rawCerts.map((c) => (isPlainObject(c) ? mergeDefaults(rawDefaults, c) : c))
    : rawCerts;
}

/**
 * zod issues → config issues. `input` is what was validated, to tell a missing field ("required")
 * from a wrong one; `mapPath` re-homes a path (e.g. to `defaults`).
 */
function zodIssues(
  error: z.ZodError,
  input: unknown,
  mapPath: (path: PropertyKey[]) => PropertyKey[] = (p) => p,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath(mapPath([...path, key])), message: 'unknown key' });
      continue;
    }
    let message = issue.message;
    const missing =
      (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union') &&
      valueAt(input, path) === undefined;
    if (missing && !message.startsWith('required')) message = 'required';
    out.push({ path: formatPath(mapPath(path)), message });
  }
  return out;
}

/** Rules across items: unique ids, no duplicate domain within a certificate (after normalizing). */
function crossCheck(merged: unknown, homePath: (p: PropertyKey[]) => PropertyKey[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const ids = new Map<string, number>();
  (Array.isArray(merged) ? merged : []).forEach((c, i) => {
    if (!isPlainObject(c)) return;
    if (typeof c.id === 'string') {
      const prev = ids.get(c.id);
      if (prev !== undefined) {
        out.push({ path: `certificates[${i}].id`, message: `duplicate id "${c.id}" (also certificates[${prev}])` });
      } else {
        ids.set(c.id, i);
      }
    }
    if (Array.isArray(c.domains)) {
      const seen = new Map<string, number>();
      c.domains.forEach((d, j) => {
        if (typeof d !== 'string') return;
        const n = normalizeDomain(d);
        if (!n.ok) return;
        const dup = seen.get(n.value);
        if (dup !== undefined) {
          out.push({
            path: formatPath(homePath(['certificates', i, 'domains', j])),
            message: `duplicate domain "${n.value}" (also domains[${dup}])`,
          });
        } else {
          seen.set(n.value, j);
        }
      });
    }
  });
  return out;
}

function dnsSecretsFromEnv(
  registry: AdapterRegistry,
  unsubstituted: unknown,
  homePath: (p: PropertyKey[]) => PropertyKey[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  (Array.isArray(unsubstituted) ? unsubstituted : []).forEach((c, i) => {
    const dnsRaw = isPlainObject(c) ? c.dns : undefined;
    if (!isPlainObject(dnsRaw)) return;
    const d = registry.dns.find((x) => x.name === dnsRaw.provider);
    for (const secret of d?.secrets ?? []) {
      const path = splitDotted(secret);
      const value = valueAt(dnsRaw, path);
      if (typeof value === 'string' && !ENV_REF_ONLY.test(value)) {
        out.push({
          path: formatPath(homePath(['certificates', i, 'dns', ...path])),
          message: `a credential: write it as "${ENV_REF_EXAMPLE}" and set the variable, never inline`,
        });
      }
    }
  });
  return out;
}

/** Each adapter's own cross-field checks, and where it may run. */
function adapterChecks(
  registry: AdapterRegistry,
  data: Raw,
  homePath: (p: PropertyKey[]) => PropertyKey[],
  env: Env,
  entry: EntryPoint | undefined,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const certs = data.certificates as Raw[];
  const visit = (d: AnyDescriptor | undefined, value: Raw, at: PropertyKey[], what: string) => {
    if (!d) return;
    if (entry && d.entryPoints && !d.entryPoints.includes(entry)) {
      out.push({
        path: formatPath(homePath(at)),
        message: `${what} "${d.name}" cannot run on ${entry}; it runs only from: ${d.entryPoints.join(', ')}`,
      });
    }
    for (const issue of (d.check as ((o: Raw, c: { env: Env; entry?: EntryPoint }) => ConfigIssue[]) | undefined)?.(
      value,
      { env, ...(entry ? { entry } : {}) },
    ) ?? []) {
      const rel = issue.path
        ? issue.path.split(/\.|(?=\[)/).map((p) => (/^\[\d+\]$/.test(p) ? Number(p.slice(1, -1)) : p))
        : [];
      out.push({ path: formatPath(homePath([...at, ...rel])), message: issue.message });
    }
  };
  certs.forEach((c, i) => {
    const dns = c.dns as Raw;
    visit(
      registry.dns.find((d) => d.name === dns.provider),
      dns,
      ['certificates', i, 'dns'],
      'DNS provider',
    );
    const store = c.store as Raw;
    visit(
      registry.store.find((d) => d.name === store.type),
      store,
      ['certificates', i, 'store'],
      'store',
    );
    (c.exports as Raw[]).forEach((e, j) => {
      visit(
        registry.export.find((d) => d.name === e.type),
        e,
        ['certificates', i, 'exports', j],
        'export',
      );
    });
    (c.hooks as Raw[]).forEach((h, j) => {
      visit(
        registry.hook.find((d) => d.name === h.type),
        h,
        ['certificates', i, 'hooks', j],
        'hook',
      );
    });
  });
  return out;
}

function renewBeforeOf(text: string | undefined): RenewBefore | undefined {
  if (text === undefined) return undefined;
  return text.endsWith('%')
    ? { kind: 'share', value: Number(text.slice(0, -1)) / 100 }
    : { kind: 'days', value: Number(text.slice(0, -1)) };
}

/** "33%" / "30d" → the typed threshold. */
export function parseRenewBefore(text: string): RenewBefore {
  return renewBeforeOf(text) as RenewBefore;
}

function normalize(registry: AdapterRegistry, raw: Raw): Config {
  const acme = raw.acme as Raw & { directory: string; orderBudget?: { orders: number; per: number } };
  const renewal = raw.renewal as Raw & {
    renewBefore?: string;
    warnBefore: number;
    criticalBefore: number;
    ari: boolean;
    failureBackoff: number[];
  };
  const ca = registry.cas.find((c) => c.name === acme.directory);
  const directoryUrl = ca?.directoryUrl ?? acme.directory;
  const knownCa = ca ?? registry.cas.find((c) => c.directoryUrl === directoryUrl);
  const orderBudget = acme.orderBudget
    ? { orders: acme.orderBudget.orders, perMs: acme.orderBudget.per }
    : knownCa?.orderBudget;
  const profile = acme.profile as string | undefined;

  const certificates: CertificateConfig[] = (raw.certificates as Raw[]).map((c) => {
    const domains = (c.domains as string[]).map((d) => {
      const n = normalizeDomain(d);
      return n.ok ? n.value : d;
    });
    const dnsRaw = c.dns as Raw & { propagation: { resolvers?: string[]; timeout: number; interval: number } };
    const { propagation, challengeAlias, ...dnsRest } = dnsRaw;
    const alias = typeof challengeAlias === 'string' ? normalizeDomain(challengeAlias) : undefined;
    const dns = {
      ...dnsRest,
      propagation: {
        ...(propagation.resolvers ? { resolvers: propagation.resolvers } : {}),
        timeoutMs: propagation.timeout,
        intervalMs: propagation.interval,
      },
      ...(alias?.ok ? { challengeAlias: alias.value } : {}),
    } as DnsConfig;
    const certProfile = (c.profile as string | undefined) ?? profile;
    return {
      id: c.id as string,
      domains,
      keyType: c.keyType as KeyType,
      ...(certProfile ? { profile: certProfile } : {}),
      dns,
      store: c.store as CertificateConfig['store'],
      exports: c.exports as CertificateConfig['exports'],
      hooks: c.hooks as CertificateConfig['hooks'],
    };
  });

  const renewBefore = renewBeforeOf(renewal.renewBefore);
  return {
    acme: {
      directoryUrl,
      ...(acme.email ? { email: acme.email as string } : {}),
      ...(acme.eab ? { eab: acme.eab as { kid: string; hmacKey: string } } : {}),
      ...(acme.caBundle ? { caBundle: acme.caBundle as string } : {}),
      ...(profile ? { profile } : {}),
      ...(orderBudget ? { orderBudget } : {}),
      ...(acme.caaIdentities ? { caaIdentities: acme.caaIdentities as string[] } : {}),
    },
    renewal: {
      ...(renewBefore ? { renewBefore } : {}),
      warnBeforeMs: renewal.warnBefore,
      criticalBeforeMs: renewal.criticalBefore,
      ari: renewal.ari,
      failureBackoffMs: renewal.failureBackoff,
    },
    concurrency: raw.concurrency as number,
    leaseTtlMs: raw.leaseTtl as number,
    fleet: raw.fleet as Config['fleet'],
    certificates,
  };
}

/** YAML (or JSON, which YAML reads) text → Config. */
export function parseConfigText(text: string, options: ParseOptions & { source?: string }): Config {
  let doc: unknown;
  try {
    const parsed = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
    if (parsed.errors.length > 0) {
      throw new ConfigError(
        parsed.errors.map((e) => ({
          path: options.source ?? '',
          message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
        })),
      );
    }
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([{ path: options.source ?? '', message: `cannot parse: ${(error as Error).message}` }], {
      cause: error,
    });
  }
  return parseConfig(doc, options);
}

export async function loadConfigFile(path: string, options: ParseOptions): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [{ path, message: code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code})` }],
      { cause: error },
    );
  }
  return parseConfigText(text, { ...options, source: path });
}
