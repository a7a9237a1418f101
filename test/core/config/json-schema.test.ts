// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { cas, dnsProviders } from '../../../src/adapters/registry.js';
import { KEY_TYPES } from '../../../src/core/config/schema.js';
import { configJsonSchema, parseConfig } from '../../../src/entrypoints/config.js';

const ACME_DIRECTORIES = Object.fromEntries(cas.map((c) => [c.name, c.directoryUrl]));

// schema/certkeeper.schema.json is generated from the validator's zod schema (PRODUCT §2) and committed
// for editors; these tests keep it fresh and check that it is useful.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SCHEMA_FILE = join(ROOT, 'schema/certkeeper.schema.json');
const STALE = 'schema/certkeeper.schema.json is stale: run `npm run schema` and commit the result';

// biome-ignore lint/suspicious/noExplicitAny: walks generated JSON Schema of any shape
type Node = Record<string, any>;
const schema = configJsonSchema() as Node;

describe('committed schema', () => {
  it('equals a fresh generation', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8').replace(/\r\n/g, '\n');
    const fresh = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
    expect(committed === fresh, STALE).toBe(true);
  });

  it('is what `npm run schema` (scripts/schema.ts) prints', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/schema.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out === readFileSync(SCHEMA_FILE, 'utf8').replace(/\r\n/g, '\n'), STALE).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.schema).toBe('tsx scripts/schema.ts > schema/certkeeper.schema.json');
  });
});

describe('schema structure', () => {
  const cert = schema.properties.certificates.items as Node;
  const consts = (union: Node, tag: string) => (union.oneOf as Node[]).map((b) => b.properties[tag].const);

  it('is a closed draft 2020-12 object schema with the required top-level fields', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'acme', 'certificates']));
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['version', 'acme', 'renewal', 'concurrency', 'leaseTtl', 'defaults', 'certificates']),
    );
    expect(schema.properties.version.const).toBe(1);
  });

  it('closes every object (unknown keys are errors in the validator too)', () => {
    const open: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => {
          walk(n, `${path}[${i}]`);
        });
        return;
      }
      if (!node || typeof node !== 'object') return;
      const n = node as Node;
      if (n.type === 'object' && n.properties && n.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(n)) {
        // Conditions (`if`/`else`) only add requirements to objects declared elsewhere.
        if (k !== 'if' && k !== 'else') walk(v, `${path}/${k}`);
      }
    };
    walk(schema, '#');
    expect(open).toEqual([]);
  });

  it('describes certificates: dns, store, exports, hooks as tagged unions with enums', () => {
    expect(cert.additionalProperties).toBe(false);
    // domains and dns may come from defaults: required per certificate only when defaults lacks them.
    expect(cert.required).toEqual(['id']);
    expect(schema.allOf).toEqual([
      expect.objectContaining({
        else: { properties: { certificates: { type: 'array', items: { type: 'object', required: ['domains'] } } } },
      }),
      expect.objectContaining({
        else: { properties: { certificates: { type: 'array', items: { type: 'object', required: ['dns'] } } } },
      }),
    ]);
    expect(cert.properties.dns).toBeDefined();
    expect(consts(cert.properties.dns, 'provider')).toEqual(dnsProviders.map((d) => d.name));
    expect(consts(cert.properties.store, 'type')).toEqual(['file', 'aws-secrets-manager']);
    expect(consts(cert.properties.exports.items, 'type')).toEqual(['aws-acm']);
    expect(consts(cert.properties.hooks.items, 'type')).toEqual([
      'webhook',
      'github-dispatch',
      'aws-eventbridge',
      'command',
      'verify-endpoint',
    ]);
    expect(cert.properties.keyType.enum).toEqual([...KEY_TYPES]);
    expect(cert.properties.domains).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
    // defaults: every certificate field except id, all optional.
    const defaults = schema.properties.defaults;
    expect(Object.keys(defaults.properties).sort()).toEqual(
      Object.keys(cert.properties)
        .filter((k) => k !== 'id')
        .sort(),
    );
    expect(defaults.required ?? []).toEqual([]);
    expect(defaults.additionalProperties).toBe(false);
  });

  it('offers the directory aliases and keeps the defaults', () => {
    const directory = schema.properties.acme.properties.directory;
    expect(directory.anyOf[0].enum).toEqual(Object.keys(ACME_DIRECTORIES));
    expect(schema.properties.concurrency).toMatchObject({ default: 4, minimum: 1, maximum: 64, type: 'integer' });
    expect(schema.properties.leaseTtl.default).toBe('10m');
    // No fixed default: 33 %, or half the lifetime for lifetimes of 10 days or less (PRODUCT §3).
    expect(schema.properties.renewal.properties.renewBefore.description).toMatch(/Default 33%, half the lifetime/);
    expect(schema.properties.renewal.properties.warnBefore.default).toBe('14d');
    expect(schema.properties.renewal.properties.criticalBefore.default).toBe('7d');
    expect(cert.properties.keyType.default).toBe('ec-p256');
    const route53 = cert.properties.dns.oneOf[0].properties;
    expect(route53.ttl.default).toBe(60);
    expect(route53.propagation.properties.timeout.default).toBe('2m');
    const webhook = cert.properties.hooks.items.oneOf[0].properties;
    expect(webhook.timeout.default).toBe('15s');
    expect(webhook.on.default).toEqual(['renewed']);
  });

  it('has descriptions on the main fields', () => {
    const described = [
      schema,
      schema.properties.acme,
      schema.properties.acme.properties.directory,
      schema.properties.renewal,
      schema.properties.renewal.properties.renewBefore,
      schema.properties.concurrency,
      schema.properties.leaseTtl,
      schema.properties.defaults,
      schema.properties.certificates,
      cert.properties.id,
      cert.properties.domains,
      cert.properties.keyType,
      cert.properties.dns,
      cert.properties.store,
      cert.properties.hooks,
      cert.properties.exports,
      cert.properties.dns.oneOf[0].properties.hostedZoneId,
      cert.properties.dns.oneOf[0].properties.challengeAlias,
    ];
    for (const node of described)
      expect(typeof node.description === 'string' && node.description.length > 5).toBe(true);
  });
});

describe('validating documents with a JSON Schema validator', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  const validate = ajv.compile(schema);
  const errorsOf = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []));

  const product = readFileSync(join(ROOT, 'test/core/config/parse.test.ts'), 'utf8').match(
    /const PRODUCT_EXAMPLE = `([\s\S]*?)`;/,
  )?.[1];

  it('accepts the PRODUCT §2 example as written (with ${env:…} references)', () => {
    expect(product).toBeDefined();
    const doc = YAML.parse(product!.replace(/\\\$/g, '$'));
    expect(errorsOf(doc)).toEqual([]);
  });

  it('accepts every example config in examples/', () => {
    const dir = join(ROOT, 'examples');
    let files: string[] = [];
    try {
      files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|json)$/.test(f));
    } catch {
      return; // no examples yet
    }
    for (const file of files) {
      const doc = YAML.parse(readFileSync(join(dir, file), 'utf8'));
      if (!doc || typeof doc !== 'object' || !('certificates' in doc) || !('version' in doc)) continue; // not a config
      expect({ file, errors: errorsOf(doc) }).toEqual({ file, errors: [] });
    }
  });

  it('agrees with the validator on valid documents', () => {
    const docs = [
      {
        version: 1,
        acme: { directory: 'https://localhost:14000/dir', caBundle: '/tmp/pebble.pem' },
        concurrency: 2,
        leaseTtl: '5m',
        defaults: { keyType: 'rsa-3072', store: { type: 'file', dir: '/var/lib/certkeeper' } },
        certificates: [
          {
            id: 'local.test',
            domains: ['Bücher.example', '*.example.com'],
            dns: {
              provider: 'challtestsrv',
              url: 'http://localhost:8055',
              propagation: { resolvers: ['127.0.0.1:8053'] },
            },
            hooks: [
              { type: 'command', run: 'true', on: ['renewed', 'failed'] },
              { type: 'aws-eventbridge', eventBusName: 'certs', region: 'eu-west-1' },
            ],
          },
        ],
      },
      {
        version: 1,
        acme: { directory: 'zerossl', email: 'ops@example.com', eab: { kid: 'k', hmacKey: 'h' } },
        renewal: { renewBefore: '30d', warnBefore: '20d', criticalBefore: '5d' },
        certificates: [
          {
            id: 'a',
            domains: ['a.example.com'],
            dns: { provider: 'route53', hostedZoneId: '${env:ZONE}', roleArn: 'arn:aws:iam::123456789012:role/x' },
            store: { type: 'aws-secrets-manager', secretId: 'tls/a', tags: { team: 'web' } },
            exports: [{ type: 'aws-acm', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' }],
          },
        ],
      },
    ];
    docs.push({
      version: 1,
      acme: { directory: 'letsencrypt' },
      defaults: { dns: { provider: 'route53' } } as never,
      certificates: [{ id: 'b', domains: ['b.example.com'] } as never],
    } as never);
    for (const doc of docs) {
      expect(() => parseConfig(doc, { env: { ZONE: 'Z1' } })).not.toThrow();
      expect(errorsOf(doc)).toEqual([]);
    }
  });

  it('rejects what the validator rejects structurally', () => {
    const base = () => ({
      version: 1,
      acme: { directory: 'letsencrypt' },
      certificates: [{ id: 'a', domains: ['a.example.com'], dns: { provider: 'route53' } }] as Node[],
    });
    const bad: [string, (c: Node) => void][] = [
      ['version 2', (c) => (c.version = 2)],
      ['renewbefore typo', (c) => (c.renewal = { renewbefore: '30d' })],
      ['unknown dns provider', (c) => (c.certificates[0].dns = { provider: 'cloudflare' })],
      ['unknown store type', (c) => (c.certificates[0].store = { type: 's3' })],
      ['unknown hook type', (c) => (c.certificates[0].hooks = [{ type: 'slack' }])],
      ['unknown export type', (c) => (c.certificates[0].exports = [{ type: 'acm' }])],
      ['keyType', (c) => (c.certificates[0].keyType = 'rsa-1024')],
      ['concurrency 0', (c) => (c.concurrency = 0)],
      ['concurrency 1.5', (c) => (c.concurrency = 1.5)],
      ['101 domains', (c) => (c.certificates[0].domains = Array.from({ length: 101 }, (_, i) => `h${i}.example.com`))],
      ['bad id', (c) => (c.certificates[0].id = 'Upper')],
      ['bad duration', (c) => (c.leaseTtl = '10')],
      ['bad region', (c) => (c.certificates[0].dns.region = 'us-east')],
      ['missing certificates', (c) => delete c.certificates],
      ['dns neither in the certificate nor in defaults', (c) => delete c.certificates[0].dns],
      [
        'dns nowhere (defaults without dns)',
        (c) => {
          c.defaults = { keyType: 'rsa-2048' };
          delete c.certificates[0].dns;
        },
      ],
      ['unknown key in a hook', (c) => (c.certificates[0].hooks = [{ type: 'command', run: 'x', runn: 'y' }])],
    ];
    for (const [name, mutate] of bad) {
      const c = base();
      mutate(c);
      expect(() => parseConfig(c, { env: {} }), name).toThrow();
      expect(errorsOf(c).length, name).toBeGreaterThan(0);
    }
  });
});
