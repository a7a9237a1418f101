// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cas, dnsProviders } from '../../../src/adapters/registry.js';
import { loadConfigFile, parseConfig, parseConfigText } from '../../../src/entrypoints/config.js';
import type { Config } from '../../../src/ports/config.js';

const ACME_DIRECTORIES = Object.fromEntries(cas.map((c) => [c.name, c.directoryUrl]));

import { ConfigError, type ConfigIssue } from '../../../src/ports/errors.js';

/** The registry's DNS providers, as the config's messages list them. */
const _dnsNames = dnsProviders.map((d) => d.name).join(', ');

// Pure unit tests of the config contract (PRODUCT §2): no network, no Pebble.

const SECRETS = {
  HOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  EAB_HMAC_KEY: 'hmac-secret-abcdefghijklmnop0123456789',
  GH_TOKEN: 'ghp_supersecrettoken000000000000000000',
};
const ENV: Record<string, string> = { ...SECRETS, EAB_KID: 'kid-123', ZONE_ID: 'Z0123456789ABC', STAGE: 'prod' };

// biome-ignore lint/suspicious/noExplicitAny: tests build configs of any shape, valid or not
type Json = Record<string, any>;

function cert(id: string, domain: string): Json {
  return { id, domains: [domain, `*.${domain}`], dns: { provider: 'route53' } };
}

/** A valid config with three certificates, so paths like `certificates[2]` can be exercised. */
function base(): Json {
  return {
    version: 1,
    acme: { directory: 'letsencrypt-staging', email: 'ops@example.com' },
    certificates: [cert('a', 'a.example.com'), cert('b', 'b.example.com'), cert('c', 'c.example.com')],
  };
}

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

const PRODUCT_EXAMPLE = `
version: 1
acme:
  directory: letsencrypt-staging    # letsencrypt | letsencrypt-staging | zerossl | google | any https URL
  email: ops@example.com            # optional
  eab: { kid: "\${env:EAB_KID}", hmacKey: "\${env:EAB_HMAC_KEY}" }   # optional (ZeroSSL, Google, …)
renewal:
  renewBefore: 33%                  # "30d" (days left) or "33%" (share of lifetime left); default 33%
  warnBefore: 14d                   # health thresholds reported on every run, even when nothing renews
  criticalBefore: 7d
concurrency: 4                      # certificates worked on at once
fleet: { batchSize: 25 }            # certificates per renew invocation in a fan-out (§8)
leaseTtl: 10m                       # how long a run's lease on a certificate lasts unless extended (§3)
defaults:                           # any certificate field; a certificate's own value wins
  keyType: ec-p256                  # ec-p256 | ec-p384 | rsa-2048 | rsa-3072 | rsa-4096
  dns: { provider: route53 }
  store: { type: aws-secrets-manager }
certificates:
  - id: example-com                 # unique; [a-z0-9][a-z0-9._-]*
    domains: [example.com, "*.example.com"]
    dns: { provider: route53, hostedZoneId: Z123 }        # zone auto-discovered when omitted
    store: { type: aws-secrets-manager, secretId: prod/tls/example-com }
    exports: [{ type: aws-acm, region: us-east-1 }]       # extra copies, e.g. for CloudFront
    hooks:
      - { type: webhook, url: "https://deploy.example.com/hooks/cert", secret: "\${env:HOOK_SECRET}" }
      - { type: github-dispatch, repository: acme/web, eventType: certificate-renewed }
      - { type: verify-endpoint, endpoints: ["example.com:443"], timeout: 5m }
`;

describe('valid configs', () => {
  it('parses the PRODUCT §2 example into the typed Config', () => {
    const config = parseConfigText(PRODUCT_EXAMPLE, { env: ENV });
    const expected: Config = {
      acme: {
        directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory',
        email: 'ops@example.com',
        eab: { kid: 'kid-123', hmacKey: SECRETS.EAB_HMAC_KEY },
        orderBudget: { orders: 300, perMs: 3 * 3_600_000 },
      },
      renewal: {
        renewBefore: { kind: 'share', value: 0.33 },
        warnBeforeMs: 14 * 86_400_000,
        criticalBeforeMs: 7 * 86_400_000,
        ari: true,
        failureBackoffMs: [60_000, 600_000, 6_000_000, 86_400_000],
      },
      concurrency: 4,
      leaseTtlMs: 600_000,
      fleet: { batchSize: 25 },
      certificates: [
        {
          id: 'example-com',
          domains: ['example.com', '*.example.com'],
          keyType: 'ec-p256',
          dns: {
            provider: 'route53',
            hostedZoneId: 'Z123',
            ttl: 60,
            propagation: { timeoutMs: 120_000, intervalMs: 2000 },
          },
          store: { type: 'aws-secrets-manager', secretId: 'prod/tls/example-com' },
          exports: [{ type: 'aws-acm', region: 'us-east-1' }],
          hooks: [
            {
              type: 'webhook',
              url: 'https://deploy.example.com/hooks/cert',
              secret: SECRETS.HOOK_SECRET,
              timeout: 15_000,
              on: ['renewed'],
            },
            { type: 'github-dispatch', repository: 'acme/web', eventType: 'certificate-renewed', on: ['renewed'] },
            { type: 'verify-endpoint', endpoints: ['example.com:443'], timeout: 300_000, on: ['renewed'] },
          ],
        },
      ],
    };
    expect(config).toEqual(expected);
  });

  it('fills in every default for a minimal config', () => {
    const config = parseConfig(
      {
        version: 1,
        acme: { directory: 'letsencrypt' },
        certificates: [{ id: 'x', domains: ['x.example.com'], dns: { provider: 'route53' } }],
      },
      { env: {} },
    );
    expect(config).toEqual({
      acme: {
        directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
        orderBudget: { orders: 300, perMs: 3 * 3_600_000 },
      },
      renewal: {
        warnBeforeMs: 1_209_600_000,
        criticalBeforeMs: 604_800_000,
        ari: true,
        failureBackoffMs: [60_000, 600_000, 6_000_000, 86_400_000],
      },
      concurrency: 4,
      leaseTtlMs: 600_000,
      fleet: { batchSize: 25 },
      certificates: [
        {
          id: 'x',
          domains: ['x.example.com'],
          keyType: 'ec-p256',
          dns: { provider: 'route53', ttl: 60, propagation: { timeoutMs: 120_000, intervalMs: 2000 } },
          store: { type: 'file', dir: '.certkeeper' },
          exports: [],
          hooks: [],
        },
      ],
    } satisfies Config);
  });

  it('parses renewal thresholds, durations and concurrency', () => {
    const c = base();
    c.renewal = { renewBefore: '30d', warnBefore: '21d', criticalBefore: '36h' };
    c.concurrency = 64;
    c.leaseTtl = '90s';
    c.fleet = { batchSize: 10 };
    const config = parseConfig(c, { env: {} });
    expect(config.fleet).toEqual({ batchSize: 10 });
    expect(config.renewal).toEqual({
      renewBefore: { kind: 'days', value: 30 },
      warnBeforeMs: 21 * 86_400_000,
      criticalBeforeMs: 36 * 3_600_000,
      ari: true,
      failureBackoffMs: [60_000, 600_000, 6_000_000, 86_400_000],
    });
    expect(config.concurrency).toBe(64);
    expect(config.leaseTtlMs).toBe(90_000);
    c.renewal = { renewBefore: '12.5%' };
    expect(parseConfig(c, { env: {} }).renewal.renewBefore).toEqual({ kind: 'share', value: 0.125 });
  });

  describe('defaults', () => {
    it("merges defaults into every certificate; a certificate's own value wins", () => {
      const c = base();
      c.defaults = { keyType: 'rsa-2048', store: { type: 'file', dir: '/var/lib/certs' } };
      c.certificates[1].keyType = 'ec-p384';
      const config = parseConfig(c, { env: {} });
      expect(config.certificates.map((x) => x.keyType)).toEqual(['rsa-2048', 'ec-p384', 'rsa-2048']);
      expect(config.certificates.every((x) => x.store.type === 'file' && x.store.dir === '/var/lib/certs')).toBe(true);
    });

    it('merges objects of the same provider key by key', () => {
      const c = base();
      c.defaults = {
        dns: {
          provider: 'route53',
          roleArn: 'arn:aws:iam::123456789012:role/dns',
          ttl: 120,
          propagation: { resolvers: ['1.1.1.1:53'], timeout: '5m' },
        },
      };
      c.certificates[0].dns = { provider: 'route53', hostedZoneId: 'ZAAA', propagation: { interval: '5s' } };
      c.certificates[1].dns = { hostedZoneId: 'ZBBB' }; // no provider: the default's
      delete c.certificates[2].dns; // the default whole
      const [a, b, cc] = parseConfig(c, { env: {} }).certificates;
      expect(a?.dns).toEqual({
        provider: 'route53',
        hostedZoneId: 'ZAAA',
        roleArn: 'arn:aws:iam::123456789012:role/dns',
        ttl: 120,
        propagation: { resolvers: ['1.1.1.1:53'], timeoutMs: 300_000, intervalMs: 5000 },
      });
      expect(b?.dns).toMatchObject({ provider: 'route53', hostedZoneId: 'ZBBB', ttl: 120 });
      expect(cc?.dns).toEqual({
        provider: 'route53',
        roleArn: 'arn:aws:iam::123456789012:role/dns',
        ttl: 120,
        propagation: { resolvers: ['1.1.1.1:53'], timeoutMs: 300_000, intervalMs: 2000 },
      });
    });

    it('replaces an object of a different provider/type whole', () => {
      const c = base();
      c.defaults = {
        dns: { provider: 'route53', hostedZoneId: 'ZDEF', region: 'eu-west-1' },
        store: { type: 'aws-secrets-manager', region: 'eu-west-1', kmsKeyId: 'alias/certs' },
      };
      c.certificates[0].dns = { provider: 'challtestsrv', url: 'http://localhost:8055' };
      c.certificates[0].store = { type: 'file' };
      c.certificates[1].store = { type: 'aws-secrets-manager', secretId: 'tls/b' };
      const [a, b] = parseConfig(c, { env: {} }).certificates;
      expect(a?.dns).toEqual({
        provider: 'challtestsrv',
        url: 'http://localhost:8055',
        ttl: 60,
        propagation: { timeoutMs: 120_000, intervalMs: 2000 },
      });
      expect(a?.store).toEqual({ type: 'file', dir: '.certkeeper' });
      expect(b?.store).toEqual({
        type: 'aws-secrets-manager',
        secretId: 'tls/b',
        region: 'eu-west-1',
        kmsKeyId: 'alias/certs',
      });
    });

    it('replaces arrays instead of concatenating them', () => {
      const c = base();
      c.defaults = {
        hooks: [{ type: 'command', run: 'systemctl reload nginx' }],
        exports: [{ type: 'aws-acm', region: 'us-east-1' }],
      };
      c.certificates[0].hooks = [{ type: 'aws-eventbridge' }];
      c.certificates[1].exports = [];
      const [a, b, cc] = parseConfig(c, { env: {} }).certificates;
      expect(a?.hooks).toEqual([{ type: 'aws-eventbridge', source: 'certkeeper', on: ['renewed'] }]);
      expect(a?.exports).toEqual([{ type: 'aws-acm', region: 'us-east-1' }]);
      expect(b?.exports).toEqual([]);
      expect(cc?.hooks).toEqual([{ type: 'command', run: 'systemctl reload nginx', on: ['renewed'] }]);
    });

    it('does not mutate its input', () => {
      const c = base();
      c.defaults = { keyType: 'rsa-4096', dns: { provider: 'route53', ttl: 30 } };
      c.certificates[0].hooks = [{ type: 'webhook', url: 'https://h.example.com', secret: '${env:HOOK_SECRET}' }];
      const before = structuredClone(c);
      parseConfig(c, { env: ENV });
      expect(c).toEqual(before);
    });
  });

  describe('environment substitution', () => {
    it('substitutes ${env:NAME} in any string, anywhere in a string, defaults included', () => {
      const c = base();
      c.acme.eab = { kid: '${env:EAB_KID}', hmacKey: '${env:EAB_HMAC_KEY}' };
      c.acme.email = 'ops+${env:STAGE}@example.com';
      c.defaults = { dns: { provider: 'route53', hostedZoneId: '${env:ZONE_ID}' } };
      delete c.certificates[0].dns;
      c.certificates[0].store = { type: 'aws-secrets-manager', secretId: '${env:STAGE}/tls/${env:STAGE}-a' };
      c.certificates[0].hooks = [
        { type: 'webhook', url: 'https://deploy.example.com/${env:STAGE}', secret: '${env:HOOK_SECRET}' },
        { type: 'github-dispatch', repository: 'acme/web', token: '${env:GH_TOKEN}' },
      ];
      const config = parseConfig(c, { env: ENV });
      expect(config.acme.eab).toEqual({ kid: 'kid-123', hmacKey: SECRETS.EAB_HMAC_KEY });
      expect(config.acme.email).toBe('ops+prod@example.com');
      const a = config.certificates[0]!;
      expect(a.dns).toMatchObject({ provider: 'route53', hostedZoneId: 'Z0123456789ABC' });
      expect(a.store).toEqual({ type: 'aws-secrets-manager', secretId: 'prod/tls/prod-a' });
      expect(a.hooks[0]).toMatchObject({ url: 'https://deploy.example.com/prod', secret: SECRETS.HOOK_SECRET });
      expect(a.hooks[1]).toMatchObject({ token: SECRETS.GH_TOKEN });
    });

    it('does not substitute again inside a substituted value, nor touch keys or other syntax', () => {
      const c = base();
      c.certificates[0].hooks = [{ type: 'command', run: 'echo ${env:NESTED} $HOME ${HOME} ${env:}' }];
      const config = parseConfig(c, { env: { NESTED: '${env:STAGE}', STAGE: 'prod' } });
      expect(config.certificates[0]?.hooks[0]).toMatchObject({ run: 'echo ${env:STAGE} $HOME ${HOME} ${env:}' });
    });

    it('uses process.env when no env is given', () => {
      vi.stubEnv('CERTKEEPER_TEST_ZONE', 'ZPROCESS');
      try {
        const c = base();
        c.certificates[0].dns.hostedZoneId = '${env:CERTKEEPER_TEST_ZONE}';
        expect(parseConfig(c).certificates[0]?.dns).toMatchObject({ hostedZoneId: 'ZPROCESS' });
      } finally {
        vi.unstubAllEnvs();
      }
    });
  });

  it('maps directory aliases to URLs and keeps https URLs', () => {
    for (const [alias, url] of Object.entries(ACME_DIRECTORIES)) {
      const c = base();
      c.acme.directory = alias;
      expect(parseConfig(c, { env: {} }).acme.directoryUrl).toBe(url);
    }
    expect(ACME_DIRECTORIES).toMatchObject({
      letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
      'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
      zerossl: 'https://acme.zerossl.com/v2/DV90',
      google: 'https://dv.acme-v02.api.pki.goog/directory',
    });
    const c = base();
    c.acme.directory = 'https://localhost:14000/dir';
    expect(parseConfig(c, { env: {} }).acme.directoryUrl).toBe('https://localhost:14000/dir');
  });

  it('lowercases domains and converts IDN to punycode', () => {
    const c = base();
    c.certificates[0].domains = [
      'Example.COM',
      '*.WWW.Example.com',
      'Bücher.Example',
      '*.münchen.de',
      'trailing.example.com.',
    ];
    c.certificates[0].dns = { provider: 'route53', challengeAlias: 'Validation.Example.NET' };
    const a = parseConfig(c, { env: {} }).certificates[0]!;
    expect(a.domains).toEqual([
      'example.com',
      '*.www.example.com',
      'xn--bcher-kva.example',
      '*.xn--mnchen-3ya.de',
      'trailing.example.com',
    ]);
    expect(a.dns.challengeAlias).toBe('validation.example.net');
  });

  it('accepts the edges of the domain rules: 100 names, 63-character labels, 253 characters', () => {
    const c = base();
    c.certificates[0].domains = Array.from({ length: 100 }, (_, i) => `host${i}.example.com`);
    const label63 = 'a'.repeat(63);
    const name253 = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.com`;
    expect(name253).toHaveLength(253);
    c.certificates[1].domains = [`${label63}.example.com`, name253, 'xn--bcher-kva.example', 'a-b--c.example.com'];
    const config = parseConfig(c, { env: {} });
    expect(config.certificates[0]?.domains).toHaveLength(100);
    expect(config.certificates[1]?.domains[1]).toBe(name253);
  });

  it('accepts loopback http for webhooks and the challenge test server', () => {
    const c = base();
    c.certificates[0].dns = { provider: 'challtestsrv', url: 'http://127.0.0.1:8055' };
    c.certificates[0].hooks = [
      { type: 'webhook', url: 'http://localhost:9999/hook' },
      { type: 'webhook', url: 'http://[::1]:9999/hook' },
      { type: 'verify-endpoint', endpoints: ['example.com:443', '[2001:db8::1]:8443', '192.0.2.1:443'] },
    ];
    c.certificates[0].dns.propagation = { resolvers: ['127.0.0.1:8053', '[::1]:53'] };
    expect(() => parseConfig(c, { env: {} })).not.toThrow();
  });

  it('reads JSON as well as YAML, and YAML anchors and merge keys', () => {
    const json = JSON.stringify(base());
    expect(parseConfigText(json, { env: {} })).toEqual(parseConfig(base(), { env: {} }));
    const yaml = `
version: 1
acme: { directory: letsencrypt }
x-dns: &dns { provider: route53, hostedZoneId: ZSHARED }
certificates:
  - id: one
    domains: [one.example.com]
    dns: { <<: *dns, ttl: 30 }
`;
    // `x-dns` is not a known key; anchors must live inside known fields.
    expect(issuesOf(() => parseConfigText(yaml, { env: {} }))).toEqual([{ path: 'x-dns', message: 'unknown key' }]);
    const ok = yaml
      .replace('x-dns: &dns { provider: route53, hostedZoneId: ZSHARED }\n', '')
      .replace(
        'dns: { <<: *dns, ttl: 30 }',
        'dns: &dns { provider: route53, hostedZoneId: ZSHARED }\n  - id: two\n    domains: [two.example.com]\n    dns: { <<: *dns, ttl: 30 }',
      );
    const [one, two] = parseConfigText(ok, { env: {} }).certificates;
    expect(one?.dns).toMatchObject({ hostedZoneId: 'ZSHARED', ttl: 60 });
    expect(two?.dns).toMatchObject({ hostedZoneId: 'ZSHARED', ttl: 30 });
  });

  it('accepts a $schema key for editors', () => {
    const c = { $schema: './schema/certkeeper.schema.json', ...base() };
    expect(() => parseConfig(c, { env: {} })).not.toThrow();
  });
});

describe('loadConfigFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads a file, and names the file when it is missing or unparsable', async () => {
    dir = await mkdtemp(join(tmpdir(), 'certkeeper-config-'));
    const file = join(dir, 'certkeeper.yml');
    await writeFile(file, PRODUCT_EXAMPLE);
    expect((await loadConfigFile(file, { env: ENV })).certificates[0]?.id).toBe('example-com');
    const missing = join(dir, 'nope.yml');
    await expect(loadConfigFile(missing, { env: ENV })).rejects.toMatchObject({
      issues: [{ path: missing, message: 'config file not found' }],
    });
    await writeFile(file, 'version: [1\n');
    await expect(loadConfigFile(file, { env: ENV })).rejects.toMatchObject({
      issues: [{ path: file, message: expect.stringContaining('YAML') }],
    });
  });
});

/**
 * Malformed inputs. Each names the exact path(s) that must be reported (no more, no fewer) and a
 * fragment of the message at the first one.
 */
interface BadCase {
  name: string;
  /** Mutates a fresh `base()`; or `text` is parsed instead. */
  mutate?: (c: Json) => void;
  text?: string;
  path: string;
  message: string | RegExp;
  /** Other paths that are also reported. */
  also?: string[];
}

const long = (n: number) => 'a'.repeat(n);
const setDomain = (i: number, j: number, d: unknown) => (c: Json) => {
  c.certificates[i].domains[j] = d;
};
const hook = (h: Json) => (c: Json) => {
  c.certificates[0].hooks = [h];
};

const BAD: BadCase[] = [
  // top level
  { name: 'version 2', mutate: (c) => (c.version = 2), path: 'version', message: 'must be 1' },
  { name: 'version as a string', mutate: (c) => (c.version = '1'), path: 'version', message: 'must be 1' },
  { name: 'version missing', mutate: (c) => delete c.version, path: 'version', message: 'required' },
  { name: 'acme missing', mutate: (c) => delete c.acme, path: 'acme', message: 'required' },
  { name: 'certificates missing', mutate: (c) => delete c.certificates, path: 'certificates', message: 'required' },
  {
    name: 'certificates empty',
    mutate: (c) => (c.certificates = []),
    path: 'certificates',
    message: 'at least one certificate',
  },
  {
    name: 'certificates a mapping',
    mutate: (c) => (c.certificates = { a: cert('a', 'a.example.com') }),
    path: 'certificates',
    message: 'expected array',
  },
  { name: 'unknown top-level key', mutate: (c) => (c.concurency = 4), path: 'concurency', message: 'unknown key' },
  { name: 'fleet.batchSize 0', mutate: (c) => (c.fleet = { batchSize: 0 }), path: 'fleet.batchSize', message: '>=1' },
  { name: 'fleet typo', mutate: (c) => (c.fleet = { batchsize: 5 }), path: 'fleet.batchsize', message: 'unknown key' },
  { name: 'concurrency 0', mutate: (c) => (c.concurrency = 0), path: 'concurrency', message: '>=1' },
  { name: 'concurrency 65', mutate: (c) => (c.concurrency = 65), path: 'concurrency', message: '<=64' },
  { name: 'concurrency 1.5', mutate: (c) => (c.concurrency = 1.5), path: 'concurrency', message: 'expected int' },
  { name: 'concurrency "4"', mutate: (c) => (c.concurrency = '4'), path: 'concurrency', message: 'expected number' },
  { name: 'leaseTtl without unit', mutate: (c) => (c.leaseTtl = '10'), path: 'leaseTtl', message: 'duration' },
  { name: 'leaseTtl zero', mutate: (c) => (c.leaseTtl = '0m'), path: 'leaseTtl', message: 'greater than zero' },
  // renewal
  {
    name: 'renewbefore typo',
    mutate: (c) => (c.renewal = { renewbefore: '30d' }),
    path: 'renewal.renewbefore',
    message: 'unknown key',
  },
  {
    name: 'renewBefore 0%',
    mutate: (c) => (c.renewal = { renewBefore: '0%' }),
    path: 'renewal.renewBefore',
    message: 'between 0% and 100%',
  },
  {
    name: 'renewBefore 100%',
    mutate: (c) => (c.renewal = { renewBefore: '100%' }),
    path: 'renewal.renewBefore',
    message: 'between 0% and 100%',
  },
  {
    name: 'renewBefore "30" without unit',
    mutate: (c) => (c.renewal = { renewBefore: '30' }),
    path: 'renewal.renewBefore',
    message: 'days left ("30d") or a share',
  },
  {
    name: 'renewBefore a number',
    mutate: (c) => (c.renewal = { renewBefore: 30 }),
    path: 'renewal.renewBefore',
    message: 'expected string, received number',
  },
  {
    name: 'renewBefore 0d',
    mutate: (c) => (c.renewal = { renewBefore: '0d' }),
    path: 'renewal.renewBefore',
    message: 'greater than zero',
  },
  {
    name: 'warnBefore equal to criticalBefore',
    mutate: (c) => (c.renewal = { warnBefore: '7d', criticalBefore: '7d' }),
    path: 'renewal.warnBefore',
    message: 'longer than criticalBefore',
  },
  {
    name: 'warnBefore shorter than criticalBefore (default 7d)',
    mutate: (c) => (c.renewal = { warnBefore: '3d' }),
    path: 'renewal.warnBefore',
    message: 'longer than criticalBefore',
  },
  {
    name: 'criticalBefore in words',
    mutate: (c) => (c.renewal = { criticalBefore: '1 week' }),
    path: 'renewal.criticalBefore',
    message: 'duration like',
  },
  {
    name: 'warnBefore negative',
    mutate: (c) => (c.renewal = { warnBefore: '-1d' }),
    path: 'renewal.warnBefore',
    message: 'duration like',
  },
  { name: 'renewal a string', mutate: (c) => (c.renewal = '33%'), path: 'renewal', message: 'expected object' },
  // acme
  { name: 'acme.directory missing', mutate: (c) => (c.acme = {}), path: 'acme.directory', message: 'required' },
  {
    name: 'acme.directory unknown alias',
    mutate: (c) => (c.acme.directory = 'letsencrypt-prod'),
    path: 'acme.directory',
    message: 'must be one of letsencrypt, letsencrypt-staging',
  },
  {
    name: 'acme.directory http URL',
    mutate: (c) => (c.acme.directory = 'http://acme.example.com/directory'),
    path: 'acme.directory',
    message: 'https URL',
  },
  {
    name: 'acme.directory ftp URL',
    mutate: (c) => (c.acme.directory = 'ftp://acme.example.com/directory'),
    path: 'acme.directory',
    message: 'https URL',
  },
  { name: 'acme.email bad', mutate: (c) => (c.acme.email = 'ops@'), path: 'acme.email', message: 'email address' },
  { name: 'acme.email a number', mutate: (c) => (c.acme.email = 42), path: 'acme.email', message: 'email' },
  {
    name: 'acme.eab without hmacKey',
    mutate: (c) => (c.acme.eab = { kid: 'k' }),
    path: 'acme.eab.hmacKey',
    message: 'required',
  },
  {
    name: 'acme.eab with a misspelt key',
    mutate: (c) => (c.acme.eab = { kid: 'k', hmac: '${env:EAB_HMAC_KEY}' }),
    path: 'acme.eab.hmac',
    message: 'unknown key',
    also: ['acme.eab.hmacKey'],
  },
  { name: 'acme unknown key', mutate: (c) => (c.acme.server = 'x'), path: 'acme.server', message: 'unknown key' },
  // certificate ids
  {
    name: 'id missing',
    mutate: (c) => delete c.certificates[1].id,
    path: 'certificates[1].id',
    message: 'required',
  },
  {
    name: 'id uppercase',
    mutate: (c) => (c.certificates[1].id = 'Example'),
    path: 'certificates[1].id',
    message: '[a-z0-9][a-z0-9._-]*',
  },
  {
    name: 'id with a leading hyphen',
    mutate: (c) => (c.certificates[1].id = '-a'),
    path: 'certificates[1].id',
    message: '[a-z0-9]',
  },
  {
    name: 'id with a space',
    mutate: (c) => (c.certificates[1].id = 'a b'),
    path: 'certificates[1].id',
    message: '[a-z0-9]',
  },
  {
    name: 'id a number',
    mutate: (c) => (c.certificates[1].id = 5),
    path: 'certificates[1].id',
    message: 'expected string',
  },
  {
    name: 'id too long',
    mutate: (c) => (c.certificates[1].id = long(129)),
    path: 'certificates[1].id',
    message: 'at most 128',
  },
  {
    name: 'duplicate id',
    mutate: (c) => (c.certificates[2].id = 'a'),
    path: 'certificates[2].id',
    message: 'duplicate id "a" (also certificates[0])',
  },
  {
    name: 'certificate not a mapping',
    mutate: (c) => (c.certificates[1] = 'b.example.com'),
    path: 'certificates[1]',
    message: 'expected object',
  },
  {
    name: 'unknown key in a certificate',
    mutate: (c) => (c.certificates[2].renewbefore = '30d'),
    path: 'certificates[2].renewbefore',
    message: 'unknown key',
  },
  {
    name: 'keyType rsa-1024',
    mutate: (c) => (c.certificates[0].keyType = 'rsa-1024'),
    path: 'certificates[0].keyType',
    message: 'must be one of: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096',
  },
  // domains
  {
    name: 'domains missing',
    mutate: (c) => delete c.certificates[2].domains,
    path: 'certificates[2].domains',
    message: 'required',
  },
  {
    name: '0 domains',
    mutate: (c) => (c.certificates[2].domains = []),
    path: 'certificates[2].domains',
    message: 'at least one domain',
  },
  {
    name: '101 domains',
    mutate: (c) => (c.certificates[2].domains = Array.from({ length: 101 }, (_, i) => `h${i}.example.com`)),
    path: 'certificates[2].domains',
    message: 'at most 100',
  },
  {
    name: 'domains a string',
    mutate: (c) => (c.certificates[2].domains = 'example.com'),
    path: 'certificates[2].domains',
    message: 'expected array',
  },
  {
    name: 'domain a number',
    mutate: setDomain(2, 0, 42),
    path: 'certificates[2].domains[0]',
    message: 'expected string',
  },
  {
    name: 'domain with an underscore',
    mutate: setDomain(2, 0, '_dmarc.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'underscore',
  },
  {
    name: 'IPv4 address',
    mutate: setDomain(2, 0, '192.0.2.1'),
    path: 'certificates[2].domains[0]',
    message: 'IP address',
  },
  {
    name: 'IPv6 address',
    mutate: setDomain(2, 1, '2001:db8::1'),
    path: 'certificates[2].domains[1]',
    message: 'IP address',
  },
  {
    name: 'bracketed IPv6',
    mutate: setDomain(2, 1, '[::1]'),
    path: 'certificates[2].domains[1]',
    message: 'IP address',
  },
  {
    name: 'leading hyphen',
    mutate: setDomain(2, 0, '-www.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'must not start or end with a hyphen',
  },
  {
    name: 'trailing hyphen',
    mutate: setDomain(2, 0, 'www-.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'must not start or end with a hyphen',
  },
  {
    name: 'label longer than 63',
    mutate: setDomain(2, 0, `${long(64)}.example.com`),
    path: 'certificates[2].domains[0]',
    message: 'longer than 63',
  },
  {
    name: 'name longer than 253',
    mutate: setDomain(2, 0, `${long(63)}.${long(63)}.${long(63)}.${long(59)}.com`),
    path: 'certificates[2].domains[0]',
    message: 'at most 253',
  },
  {
    name: 'single label',
    mutate: setDomain(2, 0, 'localhost'),
    path: 'certificates[2].domains[0]',
    message: 'at least two labels',
  },
  {
    name: 'wildcard not leftmost',
    mutate: setDomain(2, 1, 'www.*.example.com'),
    path: 'certificates[2].domains[1]',
    message: 'only as the whole leftmost label',
  },
  {
    name: 'double wildcard',
    mutate: setDomain(2, 1, '*.*.x.com'),
    path: 'certificates[2].domains[1]',
    message: 'only as the whole leftmost label',
  },
  {
    name: 'partial wildcard label',
    mutate: setDomain(2, 1, 'w*.example.com'),
    path: 'certificates[2].domains[1]',
    message: 'only as the whole leftmost label',
  },
  { name: 'bare *', mutate: setDomain(2, 1, '*'), path: 'certificates[2].domains[1]', message: 'base name' },
  {
    name: 'duplicate after lowercasing',
    mutate: (c) => (c.certificates[2].domains = ['c.example.com', 'C.Example.COM']),
    path: 'certificates[2].domains[1]',
    message: 'duplicate domain "c.example.com" (also domains[0])',
  },
  {
    name: 'duplicate after dropping the trailing dot',
    mutate: (c) => (c.certificates[2].domains = ['*.c.example.com', 'c.example.com', '*.c.example.com.']),
    path: 'certificates[2].domains[2]',
    message: 'duplicate domain "*.c.example.com"',
  },
  {
    name: 'duplicate after IDN conversion',
    mutate: (c) => (c.certificates[2].domains = ['xn--bcher-kva.example', 'BÜCHER.example']),
    path: 'certificates[2].domains[1]',
    message: 'duplicate domain',
  },
  {
    name: 'invalid punycode label',
    mutate: setDomain(2, 0, 'xn--a.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'not a valid internationalised label',
  },
  {
    name: 'invalid IDN (disallowed code point)',
    mutate: setDomain(2, 0, 'a\u200d.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'not a valid internationalised domain name',
  },
  {
    name: 'IDN label with a trailing hyphen',
    mutate: setDomain(2, 0, 'bücher-.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'hyphen',
  },
  { name: 'empty domain', mutate: setDomain(2, 0, ''), path: 'certificates[2].domains[0]', message: 'empty domain' },
  {
    name: 'empty label',
    mutate: setDomain(2, 0, 'a..example.com'),
    path: 'certificates[2].domains[0]',
    message: 'empty label',
  },
  {
    name: 'all-numeric top-level label',
    mutate: setDomain(2, 0, 'host.123'),
    path: 'certificates[2].domains[0]',
    message: 'all digits',
  },
  {
    name: 'space inside a domain',
    mutate: setDomain(2, 0, 'exa mple.com'),
    path: 'certificates[2].domains[0]',
    message: 'spaces',
  },
  {
    name: 'percent sign in a label',
    mutate: setDomain(2, 0, 'a%b.example.com'),
    path: 'certificates[2].domains[0]',
    message: 'letters, digits and inner hyphens',
  },
  // dns
  {
    name: 'dns missing',
    mutate: (c) => delete c.certificates[0].dns,
    path: 'certificates[0].dns',
    message: 'required',
  },
  {
    name: 'unknown dns provider',
    mutate: (c) => (c.certificates[0].dns = { provider: 'no-such-provider' }),
    path: 'certificates[0].dns.provider',
    message: `unknown DNS provider; expected one of: ${dnsProviders.map((d) => d.name).join(', ')}`,
  },
  {
    name: 'dns provider missing',
    mutate: (c) => (c.certificates[0].dns = { hostedZoneId: 'Z1' }),
    path: 'certificates[0].dns.provider',
    message: `required; one of: ${dnsProviders.map((d) => d.name).join(', ')}`,
  },
  {
    name: 'dns a string',
    mutate: (c) => (c.certificates[0].dns = 'route53'),
    path: 'certificates[0].dns',
    message: 'expected object',
  },
  {
    name: 'route53 unknown key',
    mutate: (c) => (c.certificates[0].dns.hostedZone = 'Z1'),
    path: 'certificates[0].dns.hostedZone',
    message: 'unknown key',
  },
  {
    name: 'hostedZoneId lowercase',
    mutate: (c) => (c.certificates[0].dns.hostedZoneId = 'z123'),
    path: 'certificates[0].dns.hostedZoneId',
    message: 'hosted zone id',
  },
  {
    name: 'bad role ARN',
    mutate: (c) => (c.certificates[0].dns.roleArn = 'arn:aws:iam::123:role/dns'),
    path: 'certificates[0].dns.roleArn',
    message: 'IAM role ARN',
  },
  {
    name: 'role ARN of a user',
    mutate: (c) => (c.certificates[0].dns.roleArn = 'arn:aws:iam::123456789012:user/bob'),
    path: 'certificates[0].dns.roleArn',
    message: 'IAM role ARN',
  },
  {
    name: 'bad region',
    mutate: (c) => (c.certificates[0].dns.region = 'us-east'),
    path: 'certificates[0].dns.region',
    message: 'AWS region',
  },
  {
    name: 'uppercase region',
    mutate: (c) => (c.certificates[0].dns.region = 'US-EAST-1'),
    path: 'certificates[0].dns.region',
    message: 'AWS region',
  },
  {
    name: 'ttl 0',
    mutate: (c) => (c.certificates[0].dns.ttl = 0),
    path: 'certificates[0].dns.ttl',
    message: 'Too small',
  },
  {
    name: 'ttl a string',
    mutate: (c) => (c.certificates[0].dns.ttl = '60'),
    path: 'certificates[0].dns.ttl',
    message: 'expected number',
  },
  {
    name: 'resolver without port',
    mutate: (c) => (c.certificates[0].dns.propagation = { resolvers: ['1.1.1.1:53', '8.8.8.8'] }),
    path: 'certificates[0].dns.propagation.resolvers[1]',
    message: 'host:port',
  },
  {
    name: 'resolver port 0',
    mutate: (c) => (c.certificates[0].dns.propagation = { resolvers: ['1.1.1.1:0'] }),
    path: 'certificates[0].dns.propagation.resolvers[0]',
    message: 'between 1 and 65535',
  },
  {
    name: 'resolver port 65536',
    mutate: (c) => (c.certificates[0].dns.propagation = { resolvers: ['ns1.example.com:65536'] }),
    path: 'certificates[0].dns.propagation.resolvers[0]',
    message: 'between 1 and 65535',
  },
  {
    name: 'resolver URL',
    mutate: (c) => (c.certificates[0].dns.propagation = { resolvers: ['udp://1.1.1.1:53'] }),
    path: 'certificates[0].dns.propagation.resolvers[0]',
    message: 'host:port',
  },
  {
    name: 'resolvers empty',
    mutate: (c) => (c.certificates[0].dns.propagation = { resolvers: [] }),
    path: 'certificates[0].dns.propagation.resolvers',
    message: 'Too small',
  },
  {
    name: 'propagation timeout in words',
    mutate: (c) => (c.certificates[0].dns.propagation = { timeout: '2 minutes' }),
    path: 'certificates[0].dns.propagation.timeout',
    message: 'duration like',
  },
  {
    name: 'propagation interval 0s',
    mutate: (c) => (c.certificates[0].dns.propagation = { interval: '0s' }),
    path: 'certificates[0].dns.propagation.interval',
    message: 'greater than zero',
  },
  {
    name: 'propagation unknown key',
    mutate: (c) => (c.certificates[0].dns.propagation = { timout: '2m' }),
    path: 'certificates[0].dns.propagation.timout',
    message: 'unknown key',
  },
  {
    name: 'challengeAlias wildcard',
    mutate: (c) => (c.certificates[0].dns.challengeAlias = '*.validation.example.net'),
    path: 'certificates[0].dns.challengeAlias',
    message: 'wildcard',
  },
  {
    name: 'challengeAlias single label',
    mutate: (c) => (c.certificates[0].dns.challengeAlias = 'validation'),
    path: 'certificates[0].dns.challengeAlias',
    message: 'at least two labels',
  },
  {
    name: 'challtestsrv without url',
    mutate: (c) => (c.certificates[0].dns = { provider: 'challtestsrv' }),
    path: 'certificates[0].dns.url',
    message: 'required',
  },
  {
    name: 'challtestsrv ftp url',
    mutate: (c) => (c.certificates[0].dns = { provider: 'challtestsrv', url: 'ftp://localhost:8055' }),
    path: 'certificates[0].dns.url',
    message: 'must use https',
  },
  {
    name: 'challtestsrv http on a remote host',
    mutate: (c) => (c.certificates[0].dns = { provider: 'challtestsrv', url: 'http://challtest.example.com:8055' }),
    path: 'certificates[0].dns.url',
    message: 'http only for loopback hosts',
  },
  {
    name: 'challtestsrv not a URL',
    mutate: (c) => (c.certificates[0].dns = { provider: 'challtestsrv', url: 'localhost:8055/x y' }),
    path: 'certificates[0].dns.url',
    message: /not a valid URL|must use https/,
  },
  {
    name: 'route53 option on challtestsrv',
    mutate: (c) =>
      (c.certificates[0].dns = { provider: 'challtestsrv', url: 'http://localhost:8055', hostedZoneId: 'Z1' }),
    path: 'certificates[0].dns.hostedZoneId',
    message: 'unknown key',
  },
  // store
  {
    name: 'unknown store type',
    mutate: (c) => (c.certificates[1].store = { type: 's3' }),
    path: 'certificates[1].store.type',
    message: 'unknown store type; expected one of: file, aws-secrets-manager',
  },
  {
    name: 'store type missing',
    mutate: (c) => (c.certificates[1].store = { dir: '/tmp/x' }),
    path: 'certificates[1].store.type',
    message: 'required; one of: file, aws-secrets-manager',
  },
  {
    name: 'file store unknown key',
    mutate: (c) => (c.certificates[1].store = { type: 'file', directory: '/x' }),
    path: 'certificates[1].store.directory',
    message: 'unknown key',
  },
  {
    name: 'file store empty dir',
    mutate: (c) => (c.certificates[1].store = { type: 'file', dir: '' }),
    path: 'certificates[1].store.dir',
    message: 'Too small',
  },
  {
    name: 'secret id with a space',
    mutate: (c) => (c.certificates[1].store = { type: 'aws-secrets-manager', secretId: 'tls/my cert' }),
    path: 'certificates[1].store.secretId',
    message: 'secret name',
  },
  {
    name: 'store tag value a number',
    mutate: (c) => (c.certificates[1].store = { type: 'aws-secrets-manager', tags: { team: 7 } }),
    path: 'certificates[1].store.tags.team',
    message: 'expected string',
  },
  {
    name: 'store region bad',
    mutate: (c) => (c.certificates[1].store = { type: 'aws-secrets-manager', region: 'mars' }),
    path: 'certificates[1].store.region',
    message: 'AWS region',
  },
  // exports
  {
    name: 'unknown export type',
    mutate: (c) => (c.certificates[0].exports = [{ type: 'aws-acm' }, { type: 'acm' }]),
    path: 'certificates[0].exports[1].type',
    message: 'unknown export type; expected one of: aws-acm',
  },
  {
    name: 'bad ACM certificate ARN',
    mutate: (c) => (c.certificates[0].exports = [{ type: 'aws-acm', certificateArn: 'arn:aws:acm:::certificate/x' }]),
    path: 'certificates[0].exports[0].certificateArn',
    message: 'ACM certificate ARN',
  },
  {
    name: 'exports a mapping',
    mutate: (c) => (c.certificates[0].exports = { type: 'aws-acm' }),
    path: 'certificates[0].exports',
    message: 'expected array',
  },
  // hooks
  {
    name: 'unknown hook type',
    mutate: hook({ type: 'slack', url: 'https://hooks.slack.com/x' }),
    path: 'certificates[0].hooks[0].type',
    message: 'unknown hook type; expected one of: webhook, github-dispatch',
  },
  {
    name: 'hook type missing',
    mutate: hook({ url: 'https://x.example.com' }),
    path: 'certificates[0].hooks[0].type',
    message: 'required; one of: webhook',
  },
  {
    name: 'webhook http on a remote host',
    mutate: hook({ type: 'webhook', url: 'http://deploy.example.com/hook' }),
    path: 'certificates[0].hooks[0].url',
    message: 'must use https (http only for loopback hosts)',
  },
  {
    name: 'webhook ftp url',
    mutate: hook({ type: 'webhook', url: 'ftp://deploy.example.com/hook' }),
    path: 'certificates[0].hooks[0].url',
    message: 'must use https',
  },
  {
    name: 'webhook url missing',
    mutate: hook({ type: 'webhook' }),
    path: 'certificates[0].hooks[0].url',
    message: 'required',
  },
  {
    name: 'webhook timeout without unit',
    mutate: hook({ type: 'webhook', url: 'https://x.example.com', timeout: '15' }),
    path: 'certificates[0].hooks[0].timeout',
    message: 'duration like',
  },
  {
    name: 'webhook on unknown event',
    mutate: hook({ type: 'webhook', url: 'https://x.example.com', on: ['renewed', 'renewd'] }),
    path: 'certificates[0].hooks[0].on[1]',
    message: 'expected one of "renewed"|"failed"|"warning"',
  },
  {
    name: 'webhook on empty',
    mutate: hook({ type: 'webhook', url: 'https://x.example.com', on: [] }),
    path: 'certificates[0].hooks[0].on',
    message: 'Too small',
  },
  {
    name: 'webhook unknown key',
    mutate: hook({ type: 'webhook', url: 'https://x.example.com', secrett: 'x' }),
    path: 'certificates[0].hooks[0].secrett',
    message: 'unknown key',
  },
  {
    name: 'github-dispatch repository without owner',
    mutate: hook({ type: 'github-dispatch', repository: 'web' }),
    path: 'certificates[0].hooks[0].repository',
    message: 'owner/name',
  },
  {
    name: 'github-dispatch repository missing',
    mutate: hook({ type: 'github-dispatch' }),
    path: 'certificates[0].hooks[0].repository',
    message: 'required',
  },
  {
    name: 'command with an empty run',
    mutate: hook({ type: 'command', run: '' }),
    path: 'certificates[0].hooks[0].run',
    message: 'Too small',
  },
  {
    name: 'verify-endpoint without port',
    mutate: hook({ type: 'verify-endpoint', endpoints: ['example.com'] }),
    path: 'certificates[0].hooks[0].endpoints[0]',
    message: 'host:port',
  },
  {
    name: 'verify-endpoint port 99999',
    mutate: hook({ type: 'verify-endpoint', endpoints: ['example.com:443', 'example.com:99999'] }),
    path: 'certificates[0].hooks[0].endpoints[1]',
    message: 'between 1 and 65535',
  },
  {
    name: 'verify-endpoint an https URL',
    mutate: hook({ type: 'verify-endpoint', endpoints: ['https://example.com'] }),
    path: 'certificates[0].hooks[0].endpoints[0]',
    message: 'host:port',
  },
  {
    name: 'verify-endpoint endpoints empty',
    mutate: hook({ type: 'verify-endpoint', endpoints: [] }),
    path: 'certificates[0].hooks[0].endpoints',
    message: 'Too small',
  },
  {
    name: 'verify-endpoint endpoints missing',
    mutate: hook({ type: 'verify-endpoint' }),
    path: 'certificates[0].hooks[0].endpoints',
    message: 'required',
  },
  {
    name: 'eventbridge bad role ARN',
    mutate: hook({ type: 'aws-eventbridge', roleArn: 'role/events' }),
    path: 'certificates[0].hooks[0].roleArn',
    message: 'IAM role ARN',
  },
  // environment
  {
    name: 'missing env var in a hook secret',
    mutate: hook({ type: 'webhook', url: 'https://x.example.com', secret: '${env:NOPE_SECRET}' }),
    path: 'certificates[0].hooks[0].secret',
    message: 'environment variable NOPE_SECRET is not set',
  },
  {
    name: 'missing env var in the EAB HMAC key',
    mutate: (c) => (c.acme.eab = { kid: '${env:EAB_KID}', hmacKey: '${env:NOPE_HMAC}' }),
    path: 'acme.eab.hmacKey',
    message: 'environment variable NOPE_HMAC is not set',
  },
  {
    name: 'missing env var in a domain',
    mutate: setDomain(1, 0, '${env:NOPE_DOMAIN}'),
    path: 'certificates[1].domains[0]',
    message: 'environment variable NOPE_DOMAIN is not set',
  },
  {
    name: 'missing env var in a URL',
    mutate: hook({ type: 'webhook', url: 'https://${env:NOPE_HOST}/hook' }),
    path: 'certificates[0].hooks[0].url',
    message: 'environment variable NOPE_HOST is not set',
  },
  {
    name: 'missing env var in a defaults field',
    mutate: (c) => {
      c.defaults = { dns: { provider: 'route53', hostedZoneId: '${env:NOPE_ZONE}' } };
      for (const x of c.certificates) delete x.dns;
    },
    path: 'defaults.dns.hostedZoneId',
    message: 'environment variable NOPE_ZONE is not set',
  },
  {
    name: 'missing env var in the discriminator',
    mutate: (c) => (c.certificates[0].store = { type: '${env:NOPE_TYPE}' }),
    path: 'certificates[0].store.type',
    message: 'environment variable NOPE_TYPE is not set',
  },
  // defaults
  {
    name: 'defaults with an id',
    mutate: (c) => (c.defaults = { id: 'x' }),
    path: 'defaults.id',
    message: 'unknown key',
  },
  {
    name: 'defaults with a typo',
    mutate: (c) => (c.defaults = { keytype: 'rsa-2048' }),
    path: 'defaults.keytype',
    message: 'unknown key',
  },
  {
    name: 'defaults with an unknown provider (reported once, under defaults)',
    mutate: (c) => {
      c.defaults = { dns: { provider: 'gcloud' } };
      for (const x of c.certificates) delete x.dns;
    },
    path: 'defaults.dns.provider',
    message: 'unknown DNS provider',
  },
  {
    name: 'defaults with a bad keyType (reported once, under defaults)',
    mutate: (c) => (c.defaults = { keyType: 'dsa' }),
    path: 'defaults.keyType',
    message: 'must be one of',
  },
  {
    name: 'defaults nested value merged into a certificate (reported under defaults)',
    mutate: (c) => {
      c.defaults = { dns: { provider: 'route53', propagation: { timeout: 'soon' } } };
      c.certificates[0].dns = { provider: 'route53', hostedZoneId: 'Z1', propagation: { interval: '1s' } };
    },
    path: 'defaults.dns.propagation.timeout',
    message: 'duration like',
  },
  { name: 'defaults a list', mutate: (c) => (c.defaults = []), path: 'defaults', message: 'expected object' },
  // documents
  {
    name: 'YAML syntax error',
    text: 'version: 1\nacme: { directory: letsencrypt\ncertificates: []\n',
    path: '',
    message: /^YAML: .*line \d+, column \d+/,
  },
  {
    name: 'YAML duplicate keys',
    text: 'version: 1\nacme: { directory: letsencrypt }\nacme: { directory: zerossl }\ncertificates: []\n',
    path: '',
    message: 'Map keys must be unique',
  },
  {
    name: 'YAML duplicate keys inside a certificate',
    text: 'version: 1\nacme: { directory: letsencrypt }\ncertificates:\n  - id: a\n    id: b\n',
    path: '',
    message: 'Map keys must be unique at line 5',
  },
  { name: 'a YAML list document', text: '- id: a\n- id: b\n', path: '', message: 'must be a YAML or JSON mapping' },
  { name: 'a scalar document', text: 'certkeeper', path: '', message: 'must be a YAML or JSON mapping' },
  { name: 'an empty document', text: '# nothing here\n', path: '', message: 'the config is empty' },
  {
    name: 'JSON with version 2',
    text: JSON.stringify({ ...base(), version: 2 }),
    path: 'version',
    message: 'must be 1',
  },
  {
    name: 'JSON with an unknown key',
    text: JSON.stringify({ ...base(), renewal: { renewbefore: '30d' } }),
    path: 'renewal.renewbefore',
    message: 'unknown key',
  },
  {
    name: 'JSON duplicate keys',
    text: '{"version": 1, "version": 1, "acme": {"directory": "letsencrypt"}}',
    path: '',
    message: 'Map keys must be unique',
  },
  { name: 'JSON array', text: '[1, 2]', path: '', message: 'must be a YAML or JSON mapping' },
];

describe('malformed configs', () => {
  it('has at least 60 cases with unique names', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(60);
    expect(new Set(BAD.map((b) => b.name)).size).toBe(BAD.length);
  });

  it.each(BAD)('$name → $path', (bad) => {
    const issues = issuesOf(() => {
      if (bad.text !== undefined) return parseConfigText(bad.text, { env: ENV });
      const c = base();
      bad.mutate?.(c);
      return parseConfig(c, { env: ENV });
    });
    // Exactly the expected paths: nothing redundant, nothing misplaced.
    expect([...new Set(issues.map((i) => i.path))].sort()).toEqual([bad.path, ...(bad.also ?? [])].sort());
    const first = issues.find((i) => i.path === bad.path)!;
    if (typeof bad.message === 'string') expect(first.message).toContain(bad.message);
    else expect(first.message).toMatch(bad.message);
    // Every issue says something and is on its own line in the error message.
    for (const i of issues) expect(i.message.length).toBeGreaterThan(3);
  });
});

describe('error reporting', () => {
  it('reports cross-field issues together with schema issues', () => {
    const c = base();
    c.concurrency = 0;
    c.certificates[1].id = 'a';
    c.certificates[2].domains = ['c.example.com', 'C.EXAMPLE.COM', 'bad_name.example.com'];
    c.certificates[2].keyType = 'dsa';
    const issues = issuesOf(() => parseConfig(c, { env: ENV }));
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'concurrency',
        'certificates[1].id',
        'certificates[2].domains[1]',
        'certificates[2].domains[2]',
        'certificates[2].keyType',
      ].sort(),
    );
    expect(issues).toContainEqual({ path: 'certificates[1].id', message: 'duplicate id "a" (also certificates[0])' });
  });

  it('reports every missing variable once, and nothing else at its path', () => {
    const c = base();
    c.acme.eab = { kid: '${env:NOPE_KID}', hmacKey: '${env:NOPE_HMAC}' };
    c.certificates[0].dns.hostedZoneId = '${env:NOPE_ZONE}';
    c.certificates[0].hooks = [{ type: 'command', run: '${env:NOPE_CMD}' }];
    const issues = issuesOf(() => parseConfig(c, { env: {} }));
    expect(issues).toEqual([
      { path: 'acme.eab.kid', message: 'environment variable NOPE_KID is not set' },
      { path: 'acme.eab.hmacKey', message: 'environment variable NOPE_HMAC is not set' },
      { path: 'certificates[0].dns.hostedZoneId', message: 'environment variable NOPE_ZONE is not set' },
      { path: 'certificates[0].hooks[0].run', message: 'environment variable NOPE_CMD is not set' },
    ]);
  });

  it('says "required" for missing fields', () => {
    const issues = issuesOf(() => parseConfig({ certificates: [{}] }, { env: {} }));
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'version', message: 'required' },
        { path: 'acme', message: 'required' },
        { path: 'certificates[0].id', message: 'required' },
        { path: 'certificates[0].domains', message: 'required' },
        { path: 'certificates[0].dns', message: 'required' },
      ]),
    );
    expect(issues.every((i) => i.path !== '')).toBe(true);
  });

  it('throws a config-class error whose message lists every issue with its path', () => {
    const c = base();
    c.version = 2;
    c.certificates[2].domains[0] = 'bad_name.example.com';
    try {
      parseConfig(c, { env: {} });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.errorClass).toBe('config');
      expect(e.message.split('\n')).toEqual([
        'version: must be 1',
        'certificates[2].domains[0]: "bad_name.example.com": underscores are not allowed in certificate names',
      ]);
      expect(e.hint).toContain('check-config');
    }
  });

  it('never puts secret values into error messages', () => {
    const env = {
      ...ENV,
      HOOK_URL: `http://deploy.example.com/hook?token=${SECRETS.GH_TOKEN}`,
      BAD_DOMAIN: `${SECRETS.HOOK_SECRET}.example.com`,
    };
    const c = base();
    c.version = 3;
    c.acme.eab = { kid: '${env:EAB_KID}', hmacKey: '${env:EAB_HMAC_KEY}', extra: '${env:EAB_HMAC_KEY}' };
    c.certificates[0].hooks = [
      { type: 'webhook', url: '${env:HOOK_URL}', secret: '${env:HOOK_SECRET}', timeout: 'forever' },
      { type: 'github-dispatch', repository: 'nope', token: '${env:GH_TOKEN}' },
      { type: 'webhook', url: 'https://x.example.com', secret: 5 },
    ];
    c.certificates[1].domains = ['${env:BAD_DOMAIN}', '${env:BAD_DOMAIN}'];
    c.certificates[2].id = '${env:EAB_HMAC_KEY}';
    c.certificates[2].dns.hostedZoneId = '${env:HOOK_SECRET}';
    c.certificates[2].store = { type: 'aws-secrets-manager', secretId: '${env:HOOK_SECRET} x' };
    let error: ConfigError | undefined;
    try {
      parseConfig(c, { env });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = [error!.message, JSON.stringify(error!.issues), String(error!.stack)].join('\n');
    expect(error!.issues.length).toBeGreaterThanOrEqual(8);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    // A value that did reach a message is shown as its reference instead.
    expect(error!.issues).toContainEqual({
      path: 'certificates[1].domains[0]',
      message: expect.stringContaining('${env:BAD_DOMAIN}'),
    });
  });

  it('keeps the error free of secrets when a YAML document fails to parse', () => {
    const text = `${PRODUCT_EXAMPLE}\n  broken: [\n`;
    const issues = issuesOf(() => parseConfigText(text, { env: ENV }));
    for (const secret of Object.values(SECRETS)) expect(JSON.stringify(issues)).not.toContain(secret);
  });
});

describe('no network', () => {
  it('the config pipeline and domains.ts import nothing that talks to the network', async () => {
    const files = ['src/core/domains.ts', 'src/ports/schema.ts'];
    for (const f of await readdir(new URL('../../../src/core/config/', import.meta.url)))
      files.push(`src/core/config/${f}`);
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) {
      const source = await readFile(new URL(`../../../${file}`, import.meta.url), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(
          /^(node:)?(http|https|http2|tls|dns|dgram)$|@aws-sdk|acme-client|undici/,
        );
      }
      // node:net only for isIP, which is pure.
      for (const m of source.matchAll(/import \{([^}]*)\} from '(node:)?net'/g)) {
        expect(m[1]?.trim()).toBe('isIP');
      }
      expect(source).not.toMatch(/\bfetch\(/);
    }
  });

  it('parses without calling fetch', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in config parsing'));
    try {
      parseConfigText(PRODUCT_EXAMPLE, { env: ENV });
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });
});
