import { readFile } from 'node:fs/promises';
import * as YAML from 'yaml';
import * as z from 'zod';
import type { KeyType } from '../ports/store.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { isLoopbackHost, normalizeDomain } from './domains.js';
import { type ConfigIssue, ConfigError } from './errors.js';

/**
 * The one validation path for certkeeper.yml (PRODUCT §2). The Action's shortcut inputs, the
 * Lambda's inline config and the CLI's file all become a raw object and go through `parseConfig`.
 * `schema/certkeeper.schema.json` is generated from `rawConfigSchema` (see `configJsonSchema`).
 */

export const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
  google: 'https://dv.acme-v02.api.pki.goog/directory',
  'google-staging': 'https://dv.acme-v02.test-api.pki.goog/directory',
};

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

const duration = (what: string) =>
  z.string().regex(DURATION_PATTERN, { error: `${what} must be a duration like "90s", "10m", "2h" or "30d"` });

const positiveDuration = (what: string) =>
  duration(what).refine((s) => (parseDuration(s) ?? 0) > 0, { error: `${what} must be greater than zero` });

const renewBefore = z
  .string()
  .regex(/^(\d+(?:\.\d+)?d|\d+(?:\.\d+)?%)$/, {
    error: 'must be days left ("30d") or a share of the lifetime left ("33%")',
  })
  .refine((s) => !s.endsWith('%') || (Number(s.slice(0, -1)) > 0 && Number(s.slice(0, -1)) < 100), {
    error: 'a percentage must be between 0% and 100% (exclusive)',
  });

function url(what: string, opts: { httpsUnlessLoopback: boolean }) {
  return z.string().superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} is not a valid URL` });
      return;
    }
    if (u.protocol === 'https:') return;
    if (u.protocol === 'http:' && (!opts.httpsUnlessLoopback || isLoopbackHost(u.hostname))) return;
    ctx.addIssue({
      code: 'custom',
      message: `${what} must use https${opts.httpsUnlessLoopback ? ' (http only for loopback hosts)' : ''}`,
    });
  });
}

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, { error: 'must be "host:port"' })
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port > 0 && port < 65536;
  }, { error: 'port must be between 1 and 65535' });

const domain = z.string().superRefine((s, ctx) => {
  const r = normalizeDomain(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
});

const plainDomain = domain.refine((s) => !s.includes('*'), { error: 'must not be a wildcard' });

const propagation = z.strictObject({
  resolvers: z.array(hostPort).min(1).optional(),
  timeout: positiveDuration('timeout').default('2m'),
  interval: positiveDuration('interval').default('2s'),
});

const dnsCommon = {
  ttl: z.int().min(1).max(86400).default(60),
  propagation: propagation.default({ timeout: '2m', interval: '2s' }),
  challengeAlias: plainDomain.optional(),
};

const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'must be an IAM role ARN' });
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'must be an AWS region like "us-east-1"' });
const assume = { roleArn: roleArn.optional(), externalId: z.string().min(2).max(1224).optional() };

const route53 = z.strictObject({
  provider: z.literal('route53'),
  hostedZoneId: z.string().regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, { error: 'must be a hosted zone id like "Z123ABC"' }).optional(),
  region: region.optional(),
  ...assume,
  ...dnsCommon,
});

const challtestsrv = z.strictObject({
  provider: z.literal('challtestsrv'),
  url: url('url', { httpsUnlessLoopback: true }),
  ...dnsCommon,
});

const DNS_PROVIDERS = ['route53', 'challtestsrv'];
const dns = z.discriminatedUnion('provider', [route53, challtestsrv], {
  error: (iss) =>
    iss.code === 'invalid_union'
      ? `unknown DNS provider; expected one of: ${DNS_PROVIDERS.join(', ')}`
      : undefined,
});

const fileStore = z.strictObject({ type: z.literal('file'), dir: z.string().min(1).default('.certkeeper') });
const secretsManagerStore = z.strictObject({
  type: z.literal('aws-secrets-manager'),
  secretId: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,507}$/, { error: 'must be a secret name of letters, digits and /_+=.@-' }).optional(),
  kmsKeyId: z.string().min(1).optional(),
  region: region.optional(),
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
  ...assume,
});
const STORE_TYPES = ['file', 'aws-secrets-manager'];
const store = z.discriminatedUnion('type', [fileStore, secretsManagerStore], {
  error: (iss) =>
    iss.code === 'invalid_union' ? `unknown store type; expected one of: ${STORE_TYPES.join(', ')}` : undefined,
});

const acmExport = z.strictObject({
  type: z.literal('aws-acm'),
  certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/, { error: 'must be an ACM certificate ARN' }).optional(),
  region: region.optional(),
  ...assume,
});
const exportSchema = z.discriminatedUnion('type', [acmExport], {
  error: (iss) => (iss.code === 'invalid_union' ? 'unknown export type; expected one of: aws-acm' : undefined),
});

const hookOn = z.array(z.enum(['renewed', 'failed', 'warning'])).min(1).default(['renewed']);
const webhook = z.strictObject({
  type: z.literal('webhook'),
  url: url('url', { httpsUnlessLoopback: true }),
  secret: z.string().min(1).optional(),
  timeout: positiveDuration('timeout').default('15s'),
  on: hookOn,
});
const githubDispatch = z.strictObject({
  type: z.literal('github-dispatch'),
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'must be "owner/name"' }),
  eventType: z.string().min(1).max(100).default('certificate-renewed'),
  token: z.string().min(1).optional(),
  on: hookOn,
});
const eventBridge = z.strictObject({
  type: z.literal('aws-eventbridge'),
  eventBusName: z.string().min(1).optional(),
  source: z.string().min(1).default('certkeeper'),
  region: region.optional(),
  ...assume,
  on: hookOn,
});
const command = z.strictObject({ type: z.literal('command'), run: z.string().min(1), on: hookOn });
const verifyEndpoint = z.strictObject({
  type: z.literal('verify-endpoint'),
  endpoints: z.array(hostPort).min(1),
  timeout: positiveDuration('timeout').default('5m'),
  on: hookOn,
});
const HOOK_TYPES = ['webhook', 'github-dispatch', 'aws-eventbridge', 'command', 'verify-endpoint'];
const hook = z.discriminatedUnion('type', [webhook, githubDispatch, eventBridge, command, verifyEndpoint], {
  error: (iss) => (iss.code === 'invalid_union' ? `unknown hook type; expected one of: ${HOOK_TYPES.join(', ')}` : undefined),
});

const certificateFields = {
  domains: z
    .array(domain)
    .min(1, { error: 'at least one domain is required' })
    .max(100, { error: 'at most 100 domains per certificate' }),
  keyType: z.enum(KEY_TYPES, { error: `must be one of: ${KEY_TYPES.join(', ')}` }).default('ec-p256'),
  dns,
  store: store.default({ type: 'file', dir: '.certkeeper' }),
  exports: z.array(exportSchema).default([]),
  hooks: z.array(hook).default([]),
};

const certificate = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'must match [a-z0-9][a-z0-9._-]*' }).max(128),
  ...certificateFields,
});

const acme = z.strictObject({
  directory: z.string().superRefine((s, ctx) => {
    if (s in ACME_DIRECTORIES) return;
    try {
      const u = new URL(s);
      if (u.protocol === 'https:') return;
    } catch {
      /* fall through */
    }
    ctx.addIssue({
      code: 'custom',
      message: `must be one of ${Object.keys(ACME_DIRECTORIES).join(', ')} or an https URL`,
    });
  }),
  email: z.email({ error: 'must be an email address' }).optional(),
  eab: z.strictObject({ kid: z.string().min(1), hmacKey: z.string().min(1) }).optional(),
  /** PEM file of extra CAs to trust for the ACME directory (private CAs, Pebble). */
  caBundle: z.string().min(1).optional(),
});

const renewal = z
  .strictObject({
    renewBefore: renewBefore.default('33%'),
    warnBefore: positiveDuration('warnBefore').default('14d'),
    criticalBefore: positiveDuration('criticalBefore').default('7d'),
  })
  .superRefine((r, ctx) => {
    if ((parseDuration(r.warnBefore) ?? 0) <= (parseDuration(r.criticalBefore) ?? 0)) {
      ctx.addIssue({ code: 'custom', path: ['warnBefore'], message: 'must be longer than criticalBefore' });
    }
  });

/** The file as written: `defaults` not yet merged, durations as text. Source of the JSON Schema. */
export const rawConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: 'must be 1' }),
  acme,
  renewal: renewal.default({ renewBefore: '33%', warnBefore: '14d', criticalBefore: '7d' }),
  concurrency: z.int().min(1).max(64).default(4),
  leaseTtl: positiveDuration('leaseTtl').default('10m'),
  defaults: z.strictObject(certificateFields).partial().optional(),
  certificates: z.array(certificate).min(1, { error: 'at least one certificate is required' }),
});

type RawCertificate = z.output<typeof certificate>;
export type DnsConfig = z.output<typeof dns>;
export type StoreConfig = z.output<typeof store>;
export type HookConfig = z.output<typeof hook>;
export type ExportConfig = z.output<typeof exportSchema>;

export interface CertificateConfig extends Omit<RawCertificate, 'keyType'> {
  keyType: KeyType;
}

export interface RenewBefore {
  kind: 'days' | 'share';
  /** Days (kind days) or fraction 0..1 (kind share). */
  value: number;
}

export interface Config {
  acme: {
    directoryUrl: string;
    email?: string;
    eab?: { kid: string; hmacKey: string };
    caBundle?: string;
  };
  renewal: { renewBefore: RenewBefore; warnBeforeMs: number; criticalBeforeMs: number };
  concurrency: number;
  leaseTtlMs: number;
  certificates: CertificateConfig[];
}

export function parseRenewBefore(text: string): RenewBefore {
  return text.endsWith('%')
    ? { kind: 'share', value: Number(text.slice(0, -1)) / 100 }
    : { kind: 'days', value: Number(text.slice(0, -1)) };
}

/** `["certificates", 2, "domains", 0]` → `certificates[2].domains[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${env:NAME}` in every string; a reference to an unset variable is a config issue. */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  issues: ConfigIssue[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, issues, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, issues, [...path, k])]),
    );
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A certificate's own value wins. Objects are merged key by key when they are of the same kind
 * (same `provider`/`type`, or the certificate names none), so `defaults.dns.propagation` and a
 * certificate's `hostedZoneId` combine; a different kind replaces the default whole.
 */
function mergeDefaults(defaults: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(own)) {
    const d = out[k];
    if (isPlainObject(d) && isPlainObject(v)) {
      const kindKey = 'provider' in d || 'provider' in v ? 'provider' : 'type';
      const sameKind = v[kindKey] === undefined || v[kindKey] === d[kindKey];
      out[k] = sameKind ? mergeDefaults(d, v) : v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function hasPath(obj: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return false;
    if (!(String(p) in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return true;
}

function zodIssues(error: z.ZodError, mapPath: (path: PropertyKey[]) => PropertyKey[] = (p) => p): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath(mapPath([...issue.path, key])), message: 'unknown key' });
      }
      continue;
    }
    if (issue.code === 'invalid_type' && message.includes('received undefined')) message = 'required';
    out.push({ path: formatPath(mapPath(issue.path as PropertyKey[])), message });
  }
  return out;
}

export interface ParseOptions {
  env?: Record<string, string | undefined>;
}

/** Validates a raw config object (already parsed from YAML/JSON). Throws ConfigError. */
export function parseConfig(input: unknown, options: ParseOptions = {}): Config {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  if (!isPlainObject(input)) throw new ConfigError([{ path: '', message: 'the config must be a YAML or JSON mapping' }]);
  const substituted = substituteEnv(input, env, issues) as Record<string, unknown>;

  // Merge defaults into each certificate before validation, so one certificate schema decides.
  const rawDefaults = isPlainObject(substituted.defaults) ? substituted.defaults : {};
  const rawCerts = substituted.certificates;
  const merged = Array.isArray(rawCerts)
    ? rawCerts.map((c) => (isPlainObject(c) ? mergeDefaults(rawDefaults, c) : c))
    : rawCerts;

  // Validate `defaults` on its own so its errors are named under `defaults`.
  const defaultsResult = rawConfigSchema.shape.defaults.safeParse(substituted.defaults);
  if (!defaultsResult.success) issues.push(...zodIssues(defaultsResult.error, (p) => ['defaults', ...p]));

  const result = rawConfigSchema.safeParse({ ...substituted, certificates: merged });
  if (!result.success) {
    const seen = new Set(issues.map((i) => `${i.path}\0${i.message}`));
    const mapped = zodIssues(result.error, (p) => {
      // An issue inside a certificate at a path the certificate did not write came from defaults.
      if (p[0] === 'certificates' && typeof p[1] === 'number' && p.length > 2) {
        const own = Array.isArray(rawCerts) ? rawCerts[p[1]] : undefined;
        const rest = p.slice(2);
        if (isPlainObject(own) && !hasPath(own, rest.slice(0, 1)) && hasPath(rawDefaults, rest.slice(0, 1))) {
          return ['defaults', ...rest];
        }
      }
      return p;
    });
    for (const m of mapped) {
      const key = `${m.path}\0${m.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        issues.push(m);
      }
    }
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  const raw = result.data;

  // Cross-field rules zod cannot express per item.
  const ids = new Map<string, number>();
  const certificates: CertificateConfig[] = raw.certificates.map((c, i) => {
    const prev = ids.get(c.id);
    if (prev !== undefined) issues.push({ path: `certificates[${i}].id`, message: `duplicate id "${c.id}" (also certificates[${prev}])` });
    ids.set(c.id, i);
    const seenDomains = new Map<string, number>();
    const domains = c.domains.map((d, j) => {
      const n = normalizeDomain(d);
      const value = n.ok ? n.value : d;
      const dup = seenDomains.get(value);
      if (dup !== undefined) {
        issues.push({ path: `certificates[${i}].domains[${j}]`, message: `duplicate domain "${value}" (also domains[${dup}])` });
      }
      seenDomains.set(value, j);
      return value;
    });
    const dnsConfig = c.dns.challengeAlias
      ? { ...c.dns, challengeAlias: (normalizeDomain(c.dns.challengeAlias) as { value: string }).value }
      : c.dns;
    return { ...c, domains, dns: dnsConfig, keyType: c.keyType as KeyType };
  });
  if (issues.length > 0) throw new ConfigError(issues);

  const directoryUrl = ACME_DIRECTORIES[raw.acme.directory] ?? raw.acme.directory;
  return {
    acme: {
      directoryUrl,
      ...(raw.acme.email ? { email: raw.acme.email } : {}),
      ...(raw.acme.eab ? { eab: raw.acme.eab } : {}),
      ...(raw.acme.caBundle ? { caBundle: raw.acme.caBundle } : {}),
    },
    renewal: {
      renewBefore: parseRenewBefore(raw.renewal.renewBefore),
      warnBeforeMs: parseDuration(raw.renewal.warnBefore) as number,
      criticalBeforeMs: parseDuration(raw.renewal.criticalBefore) as number,
    },
    concurrency: raw.concurrency,
    leaseTtlMs: parseDuration(raw.leaseTtl) as number,
    certificates,
  };
}

/** YAML (or JSON, which YAML reads) text → Config. */
export function parseConfigText(text: string, options: ParseOptions & { source?: string } = {}): Config {
  let doc: unknown;
  try {
    const parsed = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (parsed.errors.length > 0) {
      throw new ConfigError(
        parsed.errors.map((e) => ({ path: options.source ?? '', message: `YAML: ${e.message.split('\n')[0]}` })),
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

export async function loadConfigFile(path: string, options: ParseOptions = {}): Promise<Config> {
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

/** The JSON Schema for editors, from the same zod schema as the validator. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(rawConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/certkeeper/certkeeper/schema/certkeeper.schema.json',
    title: 'certkeeper configuration',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
