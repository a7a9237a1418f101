// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { readFile } from 'node:fs/promises';
import * as YAML from 'yaml';
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../ports/errors.js';
import type { KeyType } from '../ports/store.js';
import { isLoopbackHost, normalizeDomain } from './domains.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';

/**
 * The one validation path for certkeeper.yml (PRODUCT §2). The Action's shortcut inputs, the
 * Lambda's inline config and the CLI's file all become a raw object and go through `parseConfig`.
 * `schema/certkeeper.schema.json` is generated from `rawConfigSchema` (see `configJsonSchema`).
 * Nothing here does network I/O.
 */

export const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
  google: 'https://dv.acme-v02.api.pki.goog/directory',
  'google-staging': 'https://dv.acme-v02.test-api.pki.goog/directory',
};

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

const DNS_PROVIDERS = ['route53', 'challtestsrv'];
const STORE_TYPES = ['file', 'aws-secrets-manager'];
const EXPORT_TYPES = ['aws-acm'];
const HOOK_TYPES = ['webhook', 'github-dispatch', 'aws-eventbridge', 'command', 'verify-endpoint'];

/** Message for a tagged union (`provider`/`type`) whose tag is missing or unknown. */
function unionError(tag: string, what: string, known: readonly string[]) {
  return (iss: { code?: string; input?: unknown }) => {
    if (iss.code !== 'invalid_union') return undefined;
    const list = known.join(', ');
    const input = iss.input as Record<string, unknown> | undefined;
    if (input && typeof input === 'object' && input[tag] === undefined) return `required; one of: ${list}`;
    return `unknown ${what}; expected one of: ${list}`;
  };
}

const DURATION_HELP = 'a duration like "90s", "10m", "2h" or "30d"';

// `abort: true` on the format check: a malformed value gets one message, not two.
const duration = (what: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, { error: `${what} must be ${DURATION_HELP}`, abort: true })
    .refine((s) => (parseDuration(s) ?? 0) > 0, { error: `${what} must be greater than zero` });

const renewBefore = z
  .string()
  .regex(/^(\d+(?:\.\d+)?d|\d+(?:\.\d+)?%)$/, {
    error: 'must be days left ("30d") or a share of the lifetime left ("33%")',
    abort: true,
  })
  .refine((s) => !s.endsWith('%') || (Number(s.slice(0, -1)) > 0 && Number(s.slice(0, -1)) < 100), {
    error: 'a percentage must be between 0% and 100% (exclusive)',
  })
  .refine((s) => s.endsWith('%') || Number(s.slice(0, -1)) > 0, { error: 'days must be greater than zero' });

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
  .regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, {
    error: 'must be "host:port" (IPv6 as "[::1]:53")',
    abort: true,
  })
  .refine(
    (s) => {
      const port = Number(s.slice(s.lastIndexOf(':') + 1));
      return port > 0 && port < 65536;
    },
    { error: 'port must be between 1 and 65535' },
  );

const domain = z
  .string()
  .superRefine((s, ctx) => {
    const r = normalizeDomain(s);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  })
  .meta({
    description:
      'A DNS name, e.g. "example.com" or "*.example.com". Lowercased; IDN converted to punycode; a wildcard only as the whole leftmost label.',
  });

const plainDomain = z.string().superRefine((s, ctx) => {
  const r = normalizeDomain(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  else if (r.value.includes('*')) ctx.addIssue({ code: 'custom', message: 'must not be a wildcard' });
});

const propagation = z
  .strictObject({
    resolvers: z.array(hostPort).min(1).optional().meta({
      description:
        'Resolvers ("host:port") that must see the TXT records before the CA is asked to validate. Default: the zone\'s authoritative name servers.',
    }),
    timeout: duration('timeout').default('2m').meta({ description: 'How long to wait for propagation.' }),
    interval: duration('interval').default('2s').meta({ description: 'How often to check.' }),
  })
  .meta({ description: 'How to wait until the TXT records are visible.' });

const dnsCommon = {
  ttl: z.int().min(1).max(86400).default(60).meta({ description: 'TTL of the TXT records, in seconds.' }),
  propagation: propagation.default({ timeout: '2m', interval: '2s' }),
  challengeAlias: plainDomain.optional().meta({
    description:
      'Write `_acme-challenge.<domain>` records under this zone instead, for CNAME-delegated validation (e.g. "validation.example.net").',
  }),
};

const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'must be an IAM role ARN' })
  .meta({ description: 'IAM role to assume, e.g. "arn:aws:iam::123456789012:role/certkeeper".' });
const region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'must be an AWS region like "us-east-1"' })
  .meta({ description: 'AWS region, e.g. "us-east-1". Default: the standard AWS chain.' });
const assume = {
  roleArn: roleArn.optional(),
  externalId: z.string().min(2).max(1224).optional().meta({ description: 'External id for the role assumption.' }),
};

const route53 = z
  .strictObject({
    provider: z.literal('route53'),
    hostedZoneId: z
      .string()
      .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, { error: 'must be a hosted zone id like "Z123ABC"' })
      .optional()
      .meta({ description: 'The hosted zone; found by longest suffix match when omitted.' }),
    region: region.optional(),
    ...assume,
    ...dnsCommon,
  })
  .meta({ title: 'route53', description: 'Amazon Route 53.' });

const challtestsrv = z
  .strictObject({
    provider: z.literal('challtestsrv'),
    url: url('url', { httpsUnlessLoopback: true }).meta({
      description: "Management URL of Pebble's challenge test server, e.g. http://localhost:8055.",
    }),
    ...dnsCommon,
  })
  .meta({ title: 'challtestsrv', description: "Pebble's challenge test server (local testing and the demo)." });

const dns = z
  .discriminatedUnion('provider', [route53, challtestsrv], {
    error: unionError('provider', 'DNS provider', DNS_PROVIDERS),
  })
  .meta({ description: 'The DNS provider that answers the DNS-01 challenges.' });

const fileStore = z
  .strictObject({
    type: z.literal('file'),
    dir: z
      .string()
      .min(1)
      .default('.certkeeper')
      .meta({ description: 'Directory; files go to <dir>/<id>/{cert,chain,fullchain,privkey}.pem and meta.json.' }),
  })
  .meta({ title: 'file', description: 'PEM files and meta.json on disk.' });
const secretsManagerStore = z
  .strictObject({
    type: z.literal('aws-secrets-manager'),
    secretId: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]{1,507}$/, { error: 'must be a secret name of letters, digits and /_+=.@-' })
      .optional()
      .meta({ description: 'Secret name or ARN. Default: certkeeper/<id>.' }),
    kmsKeyId: z.string().min(1).optional().meta({ description: 'KMS key for the secret.' }),
    region: region.optional(),
    tags: z
      .record(z.string().min(1).max(128), z.string().max(256))
      .optional()
      .meta({ description: 'Extra tags for the secret.' }),
    ...assume,
  })
  .meta({ title: 'aws-secrets-manager', description: 'AWS Secrets Manager, one secret per certificate.' });
const store = z
  .discriminatedUnion('type', [fileStore, secretsManagerStore], {
    error: unionError('type', 'store type', STORE_TYPES),
  })
  .meta({ description: 'Where the certificate, chain, key and metadata are kept. Default: file store.' });

const acmExport = z
  .strictObject({
    type: z.literal('aws-acm'),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/, { error: 'must be an ACM certificate ARN' })
      .optional()
      .meta({ description: 'Re-import into this ARN. Default: the ARN remembered from the last import.' }),
    region: region.optional(),
    ...assume,
  })
  .meta({ title: 'aws-acm', description: 'Import into AWS Certificate Manager (e.g. us-east-1 for CloudFront).' });
const exportSchema = z.discriminatedUnion('type', [acmExport], {
  error: unionError('type', 'export type', EXPORT_TYPES),
});

const hookOn = z
  .array(z.enum(['renewed', 'failed', 'warning']))
  .min(1)
  .default(['renewed'])
  .meta({ description: 'Which results run the hook.' });
const hookTimeout = (d: string) => duration('timeout').default(d).meta({ description: 'How long the hook may take.' });
const webhook = z
  .strictObject({
    type: z.literal('webhook'),
    url: url('url', { httpsUnlessLoopback: true }).meta({
      description: 'Where the event is POSTed; https only unless loopback.',
    }),
    secret: z.string().min(1).optional().meta({ description: 'Standard Webhooks signing secret; use "${env:NAME}".' }),
    timeout: hookTimeout('15s'),
    on: hookOn,
  })
  .meta({ title: 'webhook', description: 'POST the event, signed per the Standard Webhooks spec.' });
const githubDispatch = z
  .strictObject({
    type: z.literal('github-dispatch'),
    repository: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'must be "owner/name"' })
      .meta({ description: 'The repository to dispatch to, "owner/name".' }),
    eventType: z
      .string()
      .min(1)
      .max(100)
      .default('certificate-renewed')
      .meta({ description: 'The repository_dispatch event_type.' }),
    token: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'GitHub token; use "${env:NAME}". Default: the workflow token.' }),
    on: hookOn,
  })
  .meta({ title: 'github-dispatch', description: 'repository_dispatch with the event as client_payload.' });
const eventBridge = z
  .strictObject({
    type: z.literal('aws-eventbridge'),
    eventBusName: z.string().min(1).optional().meta({ description: 'Event bus. Default: the default bus.' }),
    source: z.string().min(1).default('certkeeper').meta({ description: 'The event source.' }),
    region: region.optional(),
    ...assume,
    on: hookOn,
  })
  .meta({ title: 'aws-eventbridge', description: 'PutEvents with the event as detail.' });
const command = z
  .strictObject({
    type: z.literal('command'),
    run: z.string().min(1).meta({ description: 'Shell command (CLI and Action only).' }),
    on: hookOn,
  })
  .meta({ title: 'command', description: 'Run a command with the certificate in temporary PEM files.' });
const verifyEndpoint = z
  .strictObject({
    type: z.literal('verify-endpoint'),
    endpoints: z
      .array(hostPort)
      .min(1)
      .meta({ description: 'TLS endpoints ("host:port") that must serve the new certificate.' }),
    timeout: hookTimeout('5m'),
    on: hookOn,
  })
  .meta({ title: 'verify-endpoint', description: 'Check that the endpoints serve the new certificate.' });
const hook = z.discriminatedUnion('type', [webhook, githubDispatch, eventBridge, command, verifyEndpoint], {
  error: unionError('type', 'hook type', HOOK_TYPES),
});

const certificateFields = {
  domains: z
    .array(domain)
    .min(1, { error: 'at least one domain is required' })
    .max(100, { error: 'at most 100 domains per certificate' })
    .meta({ description: 'The names on the certificate (1-100); the first is the subject.' }),
  keyType: z
    .enum(KEY_TYPES, { error: `must be one of: ${KEY_TYPES.join(', ')}` })
    .default('ec-p256')
    .meta({ description: 'Key algorithm of the certificate key.' }),
  dns,
  store: store.default({ type: 'file', dir: '.certkeeper' }),
  exports: z
    .array(exportSchema)
    .default([])
    .meta({ description: 'Extra copies of the certificate, e.g. in ACM for CloudFront.' }),
  hooks: z.array(hook).default([]).meta({ description: 'Run in order after the certificate is stored.' }),
};

const certificate = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'must match [a-z0-9][a-z0-9._-]*', abort: true })
      .max(128, { error: 'at most 128 characters' })
      .meta({ description: 'Unique id of the certificate: [a-z0-9][a-z0-9._-]*.' }),
    ...certificateFields,
  })
  .meta({ description: 'One certificate.' });

const acme = z
  .strictObject({
    directory: z
      .string()
      .superRefine((s, ctx) => {
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
      })
      .meta({
        description: `The ACME directory: ${Object.keys(ACME_DIRECTORIES).join(' | ')} | any https URL.`,
      }),
    email: z
      .email({ error: 'must be an email address' })
      .optional()
      .meta({ description: 'Contact address for the ACME account.' }),
    eab: z
      .strictObject({
        kid: z.string().min(1).meta({ description: 'EAB key id.' }),
        hmacKey: z.string().min(1).meta({ description: 'EAB HMAC key (base64url); use "${env:NAME}".' }),
      })
      .optional()
      .meta({ description: 'External account binding (ZeroSSL, Google, ...).' }),
    caBundle: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'PEM file of extra CAs to trust for the ACME directory (private CAs, Pebble).' }),
  })
  .meta({ description: 'The ACME CA and account.' });

const renewal = z
  .strictObject({
    renewBefore: renewBefore.default('33%').meta({
      description: 'Renew when this much is left: days ("30d") or a share of the lifetime ("33%").',
    }),
    warnBefore: duration('warnBefore')
      .default('14d')
      .meta({ description: 'Health is "warning" when less than this is left.' }),
    criticalBefore: duration('criticalBefore')
      .default('7d')
      .meta({ description: 'Health is "critical" when less than this is left.' }),
  })
  .superRefine((r, ctx) => {
    const warn = parseDuration(r.warnBefore);
    const critical = parseDuration(r.criticalBefore);
    if (warn !== undefined && critical !== undefined && warn <= critical) {
      ctx.addIssue({ code: 'custom', path: ['warnBefore'], message: 'must be longer than criticalBefore' });
    }
  })
  .meta({ description: 'When to renew, and the health thresholds reported on every run.' });

/** The file as written: `defaults` not yet merged, durations as text. Source of the JSON Schema. */
export const rawConfigSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema reference, for editors.' }),
    version: z.literal(1, { error: 'must be 1' }).meta({ description: 'Config format version; always 1.' }),
    acme,
    renewal: renewal.default({ renewBefore: '33%', warnBefore: '14d', criticalBefore: '7d' }),
    concurrency: z.int().min(1).max(64).default(4).meta({ description: 'Certificates worked on at once (1-64).' }),
    leaseTtl: duration('leaseTtl')
      .default('10m')
      .meta({ description: "How long a run's lease on a certificate lasts unless extended." }),
    fleet: z
      .strictObject({
        batchSize: z.int().min(1).max(1000).default(25).meta({
          description:
            'Certificates per renew invocation in a fan-out (Lambda fleet handlers); capped at what one 15-minute invocation can finish.',
        }),
      })
      .default({ batchSize: 25 })
      .meta({ description: 'Fan-out over many invocations (PRODUCT §8).' }),
    defaults: z.strictObject(certificateFields).partial().optional().meta({
      description:
        "Any certificate field; a certificate's own value wins. Objects of the same provider/type merge key by key.",
    }),
    certificates: z
      .array(certificate)
      .min(1, { error: 'at least one certificate is required' })
      .meta({ description: 'The certificates to keep renewed.' }),
  })
  .meta({ description: 'certkeeper.yml: TLS certificates that renew themselves (ACME DNS-01).' });

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
  fleet: { batchSize: number };
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

/**
 * Replaces `${env:NAME}` in every string; a reference to an unset variable is a config issue
 * (named by the path of the string that references it). `used` collects value → variable name,
 * so messages can be scrubbed of substituted values.
 */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  issues: ConfigIssue[],
  path: PropertyKey[] = [],
  used?: Map<string, string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      }
      used?.set(v, name);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, issues, [...path, i], used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, issues, [...path, k], used)]),
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
 * certificate's `hostedZoneId` combine; a different kind replaces the default whole. Arrays are
 * replaced, never concatenated.
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

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return cur;
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
      for (const key of issue.keys) {
        out.push({ path: formatPath(mapPath([...path, key])), message: 'unknown key' });
      }
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

export interface ParseOptions {
  env?: Record<string, string | undefined>;
}

/** Substituted values shorter than this are not scrubbed from messages (they would match everywhere). */
const MIN_SCRUB_LENGTH = 4;

/**
 * Validates a raw config object (already parsed from YAML/JSON). Throws ConfigError listing every
 * issue found (schema, cross-field and environment), each with its path.
 */
export function parseConfig(input: unknown, options: ParseOptions = {}): Config {
  const env = options.env ?? process.env;
  if (input === null || input === undefined) {
    throw new ConfigError([
      { path: '', message: 'the config is empty; expected a mapping with version, acme and certificates' },
    ]);
  }
  if (!isPlainObject(input))
    throw new ConfigError([{ path: '', message: 'the config must be a YAML or JSON mapping' }]);

  const envIssues: ConfigIssue[] = [];
  const usedEnv = new Map<string, string>();
  const substituted = substituteEnv(input, env, envIssues, [], usedEnv) as Record<string, unknown>;
  // A string whose variable is missing is reported once, as missing, not also as "too small" etc.
  const missingEnvPaths = new Set(envIssues.map((i) => i.path));

  // Merge defaults into each certificate before validation, so one certificate schema decides.
  const rawDefaults = isPlainObject(substituted.defaults) ? substituted.defaults : {};
  const rawCerts = substituted.certificates;
  const merged = Array.isArray(rawCerts)
    ? rawCerts.map((c) => (isPlainObject(c) ? mergeDefaults(rawDefaults, c) : c))
    : rawCerts;

  /** An issue inside a certificate at a path its value came from `defaults` is reported there. */
  const homePath = (p: PropertyKey[]): PropertyKey[] => {
    if (p[0] !== 'certificates' || typeof p[1] !== 'number' || p.length <= 2) return p;
    const own = Array.isArray(rawCerts) ? rawCerts[p[1]] : undefined;
    if (!isPlainObject(own)) return p;
    const rest = p.slice(2);
    if (hasPath(own, rest)) return p;
    const fromDefaults = hasPath(own, rest.slice(0, 1))
      ? hasPath(rawDefaults, rest)
      : hasPath(rawDefaults, rest.slice(0, 1));
    return fromDefaults ? ['defaults', ...rest] : p;
  };

  const found: ConfigIssue[] = [];

  // Validate `defaults` on its own so its errors are named under `defaults`.
  const defaultsResult = rawConfigSchema.shape.defaults.safeParse(substituted.defaults);
  if (!defaultsResult.success) {
    found.push(...zodIssues(defaultsResult.error, substituted.defaults, (p) => ['defaults', ...p]));
  }

  const mergedInput = { ...substituted, certificates: merged };
  const result = rawConfigSchema.safeParse(mergedInput);
  if (!result.success) found.push(...zodIssues(result.error, mergedInput, homePath));

  // Cross-field rules zod cannot express per item; checked whether or not the schema passed.
  const ids = new Map<string, number>();
  (Array.isArray(merged) ? merged : []).forEach((c, i) => {
    if (!isPlainObject(c)) return;
    if (typeof c.id === 'string') {
      const prev = ids.get(c.id);
      if (prev !== undefined) {
        found.push({ path: `certificates[${i}].id`, message: `duplicate id "${c.id}" (also certificates[${prev}])` });
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
          found.push({
            path: formatPath(homePath(['certificates', i, 'domains', j])),
            message: `duplicate domain "${n.value}" (also domains[${dup}])`,
          });
        } else {
          seen.set(n.value, j);
        }
      });
    }
  });

  const issues: ConfigIssue[] = [...envIssues];
  const keys = new Set(issues.map((i) => `${i.path}\0${i.message}`));
  for (const issue of found) {
    const key = `${issue.path}\0${issue.message}`;
    if (missingEnvPaths.has(issue.path) || keys.has(key)) continue;
    keys.add(key);
    issues.push(issue);
  }
  if (issues.length > 0) throw new ConfigError(issues.map((i) => scrub(i, usedEnv)));
  if (!result.success) throw new ConfigError([{ path: '', message: 'invalid config' }]); // unreachable
  const raw = result.data;

  const certificates: CertificateConfig[] = raw.certificates.map((c) => {
    const domains = c.domains.map((d) => {
      const n = normalizeDomain(d);
      return n.ok ? n.value : d;
    });
    const alias = c.dns.challengeAlias === undefined ? undefined : normalizeDomain(c.dns.challengeAlias);
    const dnsConfig = alias?.ok ? { ...c.dns, challengeAlias: alias.value } : c.dns;
    return { ...c, domains, dns: dnsConfig, keyType: c.keyType as KeyType };
  });

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
    fleet: { batchSize: raw.fleet.batchSize },
    certificates,
  };
}

/** Replaces every substituted environment value in a message by its `${env:NAME}` reference. */
function scrub(issue: ConfigIssue, usedEnv: Map<string, string>): ConfigIssue {
  let message = issue.message;
  // Longest first, so a value containing another is replaced whole.
  const values = [...usedEnv.keys()].filter((v) => v.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  for (const v of values) message = message.split(v).join(`\${env:${usedEnv.get(v)}}`);
  return message === issue.message ? issue : { path: issue.path, message };
}

/** YAML (or JSON, which YAML reads) text → Config. */
export function parseConfigText(text: string, options: ParseOptions & { source?: string } = {}): Config {
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

/** `${env:NAME}` anywhere in a string; editors must accept it in place of a patterned value. */
const ENV_REF_PATTERN = '\\$\\{env:[A-Za-z_][A-Za-z0-9_]*\\}';

/** The JSON Schema for editors, from the same zod schema as the validator. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(rawConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      const s = jsonSchema as Record<string, unknown>;
      if (s.type !== 'string') return;
      if (typeof s.pattern === 'string' && !s.pattern.endsWith(`|${ENV_REF_PATTERN}`)) {
        s.pattern = `${s.pattern}|${ENV_REF_PATTERN}`;
      }
      // `format` would reject "${env:NAME}"; the pattern says the same and allows it.
      if (typeof s.format === 'string' && typeof s.pattern === 'string') delete s.format;
    },
  }) as Record<string, unknown>;
  // Offer the directory aliases as completions while still allowing any https URL.
  const acmeProps = (schema.properties as Record<string, { properties: Record<string, Record<string, unknown>> }>).acme
    ?.properties;
  if (acmeProps?.directory) {
    acmeProps.directory = {
      ...acmeProps.directory,
      anyOf: [
        { enum: Object.keys(ACME_DIRECTORIES) },
        { type: 'string', pattern: '^https://' },
        { type: 'string', pattern: ENV_REF_PATTERN },
      ],
    };
  }
  // A certificate may take `domains`/`dns` from `defaults`: require them per certificate only when
  // `defaults` does not supply them.
  const certItems = (schema.properties as Record<string, { items: Record<string, unknown> }>).certificates?.items;
  const allOf: Record<string, unknown>[] = [];
  if (certItems && Array.isArray(certItems.required)) {
    const required = certItems.required as string[];
    for (const key of required.filter((k) => k !== 'id')) {
      allOf.push({
        if: { type: 'object', properties: { defaults: { type: 'object', required: [key] } }, required: ['defaults'] },
        else: { properties: { certificates: { type: 'array', items: { type: 'object', required: [key] } } } },
      });
    }
    certItems.required = required.filter((k) => k === 'id');
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/certkeeper/certkeeper/schema/certkeeper.schema.json',
    title: 'certkeeper configuration',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
    ...(allOf.length > 0 ? { allOf } : {}),
  };
}
