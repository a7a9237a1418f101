import * as z from 'zod';
import type { AdapterRegistry, AnyDescriptor } from '../../ports/adapter.js';
import { duration, hostPort } from '../../ports/schema.js';
import { normalizeDomain } from '../domains.js';

/**
 * The zod schema of certkeeper.yml (PRODUCT §2), assembled from the adapter registry: each
 * descriptor contributes its tag and options, the core adds the fields common to its kind. The
 * same schema validates configs and generates the JSON Schema (json-schema.ts). The schema keeps
 * the file's shape (durations as text in, milliseconds out); normalize.ts turns its output into
 * the `Config` of src/ports/config.ts.
 */

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

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

export const domainSchema = z
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
    timeout: duration('timeout').prefault('2m').meta({ description: 'How long to wait for propagation.' }),
    interval: duration('interval').prefault('2s').meta({ description: 'How often to check.' }),
  })
  .meta({ description: 'How to wait until the TXT records are visible.' });

/** Fields every DNS provider config has. */
const dnsCommon = {
  ttl: z.int().min(1).max(86400).default(60).meta({ description: 'TTL of the TXT records, in seconds.' }),
  propagation: propagation.prefault({}),
  challengeAlias: plainDomain.optional().meta({
    description:
      'Write `_acme-challenge.<domain>` records under this zone instead, for CNAME-delegated validation (e.g. "validation.example.net").',
  }),
};

const hookOn = z
  .array(z.enum(['renewed', 'failed', 'warning']))
  .min(1)
  .default(['renewed'])
  .meta({ description: 'Which results run the hook.' });

function variant(tag: string, d: AnyDescriptor, common: z.ZodRawShape) {
  return z
    .strictObject({ [tag]: z.literal(d.name), ...d.options, ...common })
    .meta({ title: d.name, description: d.doc });
}

/** A discriminated union over descriptors; zod needs at least one member, so an empty kind accepts nothing. */
function union(tag: string, what: string, descriptors: readonly AnyDescriptor[], common: z.ZodRawShape): z.ZodType {
  const names = descriptors.map((d) => d.name);
  const variants = descriptors.map((d) => variant(tag, d, common));
  if (variants.length === 0) return z.never({ error: `no ${what} is available` });
  return z.discriminatedUnion(tag, variants as [z.ZodObject, ...z.ZodObject[]], {
    error: unionError(tag, what, names),
  });
}

export interface ConfigSchemas {
  raw: z.ZodObject;
  /** `defaults`: any certificate field. */
  defaults: z.ZodType;
}

const cache = new WeakMap<AdapterRegistry, ConfigSchemas>();

export function configSchemas(registry: AdapterRegistry): ConfigSchemas {
  const cached = cache.get(registry);
  if (cached) return cached;

  const dns = union('provider', 'DNS provider', registry.dns, dnsCommon).meta({
    description: 'The DNS provider that answers the DNS-01 challenges.',
  });
  const store = union('type', 'store type', registry.store, {}).meta({
    description: `Where the certificate, chain, key and metadata are kept. Default: ${registry.defaultStore}.`,
  });
  const exportSchema = union('type', 'export type', registry.export, {});
  const hook = union('type', 'hook type', registry.hook, { on: hookOn });

  const certificateFields = {
    domains: z
      .array(domainSchema)
      .min(1, { error: 'at least one domain is required' })
      .max(100, { error: 'at most 100 domains per certificate' })
      .meta({ description: 'The names on the certificate (1-100); the first is the subject when the CA sets one.' }),
    keyType: z
      .enum(KEY_TYPES, { error: `must be one of: ${KEY_TYPES.join(', ')}` })
      .default('ec-p256')
      .meta({ description: 'Key algorithm of the certificate key.' }),
    profile: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be a profile name the CA offers, e.g. "tlsserver"' })
      .optional()
      .meta({ description: 'ACME profile for this certificate; default acme.profile. Changing it renews.' }),
    dns,
    store: store.prefault({ type: registry.defaultStore } as never),
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

  const caNames = registry.cas.map((c) => c.name);
  const acme = z
    .strictObject({
      directory: z
        .string()
        .superRefine((s, ctx) => {
          if (caNames.includes(s)) return;
          try {
            if (new URL(s).protocol === 'https:') return;
          } catch {
            /* fall through */
          }
          ctx.addIssue({ code: 'custom', message: `must be one of ${caNames.join(', ')} or an https URL` });
        })
        .meta({ description: `The ACME directory: ${caNames.join(' | ')} | any https URL.` }),
      email: z
        .email({ error: 'must be an email address' })
        .optional()
        .meta({ description: 'Contact address for the ACME account.' }),
      eab: z
        .strictObject({
          kid: z.string().min(1).meta({ description: 'EAB key id.' }),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: config syntax
          hmacKey: z.string().min(1).meta({ description: 'EAB HMAC key (base64url); use "${env:NAME}".' }),
        })
        .optional()
        .meta({ description: 'External account binding (ZeroSSL, Google, ...).' }),
      caBundle: z
        .string()
        .min(1)
        .optional()
        .meta({ description: 'PEM file of extra CAs to trust for the ACME directory (private CAs, Pebble).' }),
      profile: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be a profile name the CA offers, e.g. "tlsserver"' })
        .optional()
        .meta({
          description: "ACME profile sent with every new order (Let's Encrypt: classic, tlsserver, shortlived).",
        }),
      orderBudget: z
        .strictObject({
          orders: z.int().min(1).max(1_000_000).meta({ description: 'New orders allowed per window.' }),
          per: duration('per').meta({ description: 'The window, e.g. "3h".' }),
        })
        .optional()
        .meta({
          description:
            "New orders all runs (and fleet workers) may start per window. Default for Let's Encrypt: 300 per 3h.",
        }),
      caaIdentities: z
        .array(z.string().regex(/^[a-z0-9.-]+$/, { error: 'must be a CAA issuer domain, e.g. "letsencrypt.org"' }))
        .min(1)
        .optional()
        .meta({ description: 'CAA identities of the CA, for CAs whose directory publishes none (doctor).' }),
    })
    .meta({ description: 'The ACME CA and account.' });

  const renewal = z
    .strictObject({
      renewBefore: renewBefore.optional().meta({
        description:
          'Renew when this much is left: days ("30d") or a share of the lifetime ("33%"). Default 33%, half the lifetime for lifetimes of 10 days or less.',
      }),
      warnBefore: duration('warnBefore').prefault('14d').meta({
        description:
          'Health is "warning" when less than this is left; a third of the lifetime for certificates that live shorter than this.',
      }),
      criticalBefore: duration('criticalBefore').prefault('7d').meta({
        description:
          'Health is "critical" when less than this is left; at most a sixth of the lifetime for certificates that live shorter than warnBefore.',
      }),
      ari: z
        .boolean({ error: 'must be true or false' })
        .default(true)
        .meta({ description: "Follow the CA's renewal window (RFC 9773) when it offers one." }),
      failureBackoff: z
        .array(duration('failureBackoff'))
        .min(1)
        .max(20)
        .prefault(['1m', '10m', '100m', '1d'])
        .meta({ description: 'Wait after the 1st, 2nd, 3rd, 4th+ failed attempt before trying again.' }),
    })
    .superRefine((r, ctx) => {
      if (r.warnBefore <= r.criticalBefore) {
        ctx.addIssue({ code: 'custom', path: ['warnBefore'], message: 'must be longer than criticalBefore' });
      }
    })
    .meta({ description: 'When to renew, and the health thresholds reported on every run.' });

  const defaults = z.strictObject(certificateFields).partial().optional().meta({
    description:
      "Any certificate field; a certificate's own value wins. Objects of the same provider/type merge key by key.",
  });

  const raw = z
    .strictObject({
      $schema: z.string().optional().meta({ description: 'JSON Schema reference, for editors.' }),
      version: z.literal(1, { error: 'must be 1' }).meta({ description: 'Config format version; always 1.' }),
      acme,
      renewal: renewal.prefault({}),
      concurrency: z.int().min(1).max(64).default(4).meta({
        description:
          'Certificates with challenges published and validating at once (1-64). As many more may place their orders meanwhile and wait for a slot; one past its challenges (finalize, store, hooks) frees its slot, so up to twice as many are in flight.',
      }),
      leaseTtl: duration('leaseTtl')
        .prefault('10m')
        .meta({ description: "How long a run's lease on a certificate lasts unless extended." }),
      fleet: z
        .strictObject({
          batchSize: z
            .int()
            .min(1)
            .max(200)
            .default(25)
            .meta({ description: 'Certificates per renew invocation in a fan-out.' }),
        })
        .prefault({})
        .meta({ description: 'Fan-out over many invocations (Lambda fleet handlers, GitHub matrix shards).' }),
      defaults,
      certificates: z
        .array(certificate)
        .min(1, { error: 'at least one certificate is required' })
        .meta({ description: 'The certificates to keep renewed.' }),
    })
    .meta({ description: 'certkeeper.yml: TLS certificates that renew themselves (ACME DNS-01).' });

  const schemas: ConfigSchemas = { raw, defaults };
  cache.set(registry, schemas);
  return schemas;
}
