import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/results.js';
import { idFromDomain, readInputs, shortcutConfig, shortcutIssues } from '../../src/entrypoints/action/inputs.js';
import { configSecrets, lineMasker, maskingAdapters } from '../../src/entrypoints/action/masking.js';
import { annotations, daysBar, escapeHtml, summaryTable } from '../../src/entrypoints/action/summary.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { loadLambdaConfig } from '../../src/entrypoints/lambda/config.js';
import { parseEvent, parseProbe } from '../../src/entrypoints/lambda/event.js';
import type { AdapterFactory } from '../../src/ports/adapter.js';
import type { ConfigError } from '../../src/ports/errors.js';
import type { CertificateStore, StoredCertificate } from '../../src/ports/store.js';

/** The entry points' pure parts, without the bundles (those are tested in action/lambda.test.ts). */

const PEM = '-----BEGIN PRIVATE KEY-----\nAAAAline1\r\nBBBBline2\nCC\n-----END PRIVATE KEY-----\n';

describe('action: masking', () => {
  it('masks each body line once, not the armour nor fragments too short to matter', () => {
    const masked: string[] = [];
    const mask = lineMasker((s) => masked.push(s));
    mask(PEM);
    mask(PEM);
    expect(masked).toEqual(['AAAAline1', 'BBBBline2']);
  });

  it('wraps stores: keys read and written are masked, other members are forwarded', async () => {
    const masked: string[] = [];
    const stored = {
      privateKey: '-----BEGIN PRIVATE KEY-----\nREADKEY1\n-----END PRIVATE KEY-----',
    } as StoredCertificate;
    const store = {
      type: 'file',
      ref: '/x',
      extra: () => 'forwarded',
      read: async () => ({ kind: 'found' as const, certificate: stored }),
      write: async () => ({ ref: '/x', version: '1' }),
      acquireLease: async () => ({ kind: 'locked' as const, holder: { owner: 'o', expiresAt: '', records: [] } }),
    };
    const base = {
      store: async () => store as unknown as CertificateStore,
      accountStore: async () => ({
        ref: 'acct',
        load: async () => ({ directoryUrl: 'd', accountUrl: 'u', accountKey: 'x\nACCOUNTKEY\n', createdAt: '' }),
        save: async () => {},
      }),
    } as unknown as AdapterFactory;
    const adapters = maskingAdapters(
      base,
      lineMasker((s) => masked.push(s)),
    );
    const s = await adapters.store({} as never);
    expect(s.type).toBe('file');
    expect((s as unknown as { extra(): string }).extra()).toBe('forwarded');
    await s.read();
    await s.write({ privateKey: 'WRITEKEY\n' } as StoredCertificate);
    await (await adapters.accountStore()).load('d');
    await (await adapters.accountStore()).save({
      directoryUrl: 'd',
      accountUrl: 'u',
      accountKey: 'SAVEDKEY',
      createdAt: '',
    });
    expect(masked).toEqual(['READKEY1', 'WRITEKEY', 'ACCOUNTKEY', 'SAVEDKEY']);
  });

  it('finds the credentials a config carries', () => {
    const config = parseConfig(
      {
        version: 1,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: certkeeper's own ${env:…} syntax
        acme: { directory: 'zerossl', eab: { kid: 'kid', hmacKey: '${env:EAB}' } },
        certificates: [
          {
            id: 'a',
            domains: ['a.example.com'],
            dns: { provider: 'route53' },
            hooks: [
              { type: 'webhook', url: 'https://h.example.com/x', secret: 'whsec' },
              { type: 'github-dispatch', repository: 'o/r' },
            ],
          },
        ],
      },
      { env: { EAB: 'hmac-value' } },
    );
    expect(configSecrets(config, { GITHUB_TOKEN: 'ghs_token' })).toEqual(['hmac-value', 'whsec', 'ghs_token']);
  });
});

describe('action: inputs', () => {
  const get = (values: Record<string, string>) => (name: string) => values[name] ?? '';

  it('reads lists, booleans and defaults', () => {
    const inputs = readInputs(get({ only: 'a, b\nc', 'dry-run': 'True', domains: 'x.example.com,\n *.x.example.com' }));
    expect(inputs).toMatchObject({
      config: 'certkeeper.yml',
      dryRun: true,
      force: false,
      only: ['a', 'b', 'c'],
      failOn: 'error',
    });
    expect(inputs.shortcut.domains).toEqual(['x.example.com', '*.x.example.com']);
    expect(inputs.command).toBe('run');
    expect(readInputs(get({ command: 'report' })).command).toBe('report');
    expect(readInputs(get({ command: 'doctor' })).command).toBe('doctor');
    expect(readInputs(get({ command: 'plan' }))).toMatchObject({ command: 'plan', dryRun: true });
    expect(() => readInputs(get({ command: 'renew' }))).toThrow(
      /input command: must be one of run, plan, doctor, report, not "renew"/,
    );
  });

  it('derives the id from the first domain', () => {
    expect(idFromDomain('*.Example.com')).toBe('example-com');
    expect(idFromDomain('bücher.example')).toBe('xn--bcher-kva-example');
  });

  it('builds a config the shared validator accepts, and names inputs in its errors', () => {
    const shortcut = readInputs(
      get({ domains: 'example.com', 'secret-id': 'prod/tls/web', 'hosted-zone-id': 'Z1' }),
    ).shortcut;
    const config = parseConfig(shortcutConfig(shortcut), { env: {} });
    expect(config.certificates[0]).toMatchObject({
      id: 'example-com',
      store: { type: 'aws-secrets-manager', secretId: 'prod/tls/web' },
      dns: { provider: 'route53', hostedZoneId: 'Z1' },
    });
    expect(config.acme.directoryUrl).toContain('letsencrypt.org');

    const bad = readInputs(get({ domains: 'ok.example.com,bad_name.example.com', 'renew-before': 'soon' })).shortcut;
    let error: unknown;
    try {
      parseConfig(shortcutConfig(bad), { env: {} });
    } catch (e) {
      error = shortcutIssues(e as ConfigError);
    }
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual(['input domains[1]', 'input renew-before']);
  });

  it("takes every provider's settings and credentials from the job's environment, as the descriptors name them", () => {
    const issues = (inputs: Record<string, string>, env: Record<string, string>) => {
      try {
        parseConfig(shortcutConfig(readInputs(get(inputs)).shortcut), { env });
        return [];
      } catch (e) {
        return shortcutIssues(e as ConfigError).issues;
      }
    };
    const cf = parseConfig(
      shortcutConfig(readInputs(get({ domains: 'example.com', 'dns-provider': 'cloudflare' })).shortcut),
      { env: { CLOUDFLARE_API_TOKEN: 'cf-token-1234' } },
    );
    expect(cf.certificates[0]?.dns).toMatchObject({ provider: 'cloudflare', apiToken: 'cf-token-1234' });
    const rfc = parseConfig(
      shortcutConfig(readInputs(get({ domains: 'example.com', 'dns-provider': 'rfc2136' })).shortcut),
      {
        env: {
          RFC2136_NAMESERVER: 'ns1.example.com:53',
          RFC2136_TSIG_KEY: 'k1',
          RFC2136_TSIG_SECRET: 'c2VjcmV0IGtleSBieXRlcw==',
        },
      },
    );
    expect(rfc.certificates[0]?.dns).toMatchObject({
      provider: 'rfc2136',
      server: 'ns1.example.com:53',
      tsig: { name: 'k1' },
    });
    // A variable the provider needs and the job lacks is named, at the input.
    expect(issues({ domains: 'example.com', 'dns-provider': 'google-cloud-dns' }, {})).toEqual([
      { path: 'input dns-provider.project', message: 'environment variable GOOGLE_CLOUD_PROJECT is not set' },
    ]);
    // A Route 53 option with another provider.
    expect(
      issues(
        { domains: 'example.com', 'dns-provider': 'cloudflare', 'hosted-zone-id': 'Z1' },
        { CLOUDFLARE_API_TOKEN: 'x-token' },
      ),
    ).toEqual([{ path: 'input hosted-zone-id', message: 'only for dns-provider route53 (a Route 53 hosted zone id)' }]);
  });
});

describe('action: summary', () => {
  const report: RunReport = {
    results: [
      {
        id: 'a',
        status: 'renewed',
        reason: 'due',
        domains: ['a.example.com'],
        health: 'ok',
        notAfter: '2026-03-01T00:00:00Z',
        daysLeft: 89.5,
        durationMs: 1,
      },
      {
        id: 'b<x>',
        status: 'failed',
        reason: 'due',
        domains: ['b.example.com'],
        health: 'critical',
        daysLeft: 3,
        durationMs: 1,
        error: { class: 'dns-provider', message: 'route53: <denied>', hint: 'check the role' },
      },
      {
        id: 'c',
        status: 'skipped',
        reason: 'not due',
        domains: ['c.example.com'],
        health: 'warning',
        daysLeft: 10,
        durationMs: 1,
        hooks: [{ type: 'verify-endpoint', status: 'warning', message: 'renewed but not served' }],
      },
    ],
    startedAt: '',
    finishedAt: '',
    durationMs: 1200,
    dryRun: false,
    summary: { renewed: 1, skipped: 1, 'would-renew': 0, deferred: 0, failed: 1, locked: 0 },
  };

  it('escapes what it puts in HTML, draws a bar of the days left', () => {
    expect(escapeHtml('<a href="x">')).toBe('&#60;a href=&#34;x&#34;&#62;');
    expect(daysBar(90)).toBe('▰▰▰▰▰▰▰▰▰▰');
    expect(daysBar(-3)).toBe('▱▱▱▱▱▱▱▱▱▱');
    const table = summaryTable(report);
    expect(table).toHaveLength(4);
    expect(JSON.stringify(table)).not.toContain('<x>');
    expect(JSON.stringify(table)).toContain('route53: &#60;denied&#62;');
  });

  it('annotates failures as errors, warnings and low health as warnings', () => {
    const list = annotations(report).map((a) => `${a.level} ${a.title}: ${a.message}`);
    expect(list).toEqual([
      'error certkeeper: b<x>: [dns-provider] route53: <denied> (hint: check the role)',
      'warning certkeeper: c: hook verify-endpoint warning: renewed but not served',
      'warning certkeeper: c: certificate health is warning (10 days left): not due',
    ]);
  });
});

describe('lambda: event and config source', () => {
  it('reads dryRun, force and only from the top level or from detail, ignoring the envelope', () => {
    expect(parseEvent(undefined)).toEqual({ command: 'run', dryRun: false, force: false, only: [] });
    expect(parseEvent({ source: 'aws.scheduler', detail: { force: true, only: 'a,b' } })).toEqual({
      command: 'run',
      dryRun: false,
      force: true,
      only: ['a', 'b'],
    });
    expect(parseEvent({ dryRun: 'true', only: ['x'], detail: { dryRun: false, only: ['y'] } })).toEqual({
      command: 'run',
      dryRun: true,
      force: false,
      only: ['x'],
    });
    expect(() => parseEvent({ only: [1] })).toThrow(/event.only/);
  });

  it('reads the command: run by default, doctor, report, nothing else', () => {
    expect(parseEvent({ command: 'report' }).command).toBe('report');
    expect(parseEvent({ detail: { command: 'report' } }).command).toBe('report');
    expect(parseEvent({ command: 'doctor' }).command).toBe('doctor');
    expect(() => parseEvent({ command: 'renew-all' })).toThrow(/event.command: must be "run", "doctor", "report"/);
    expect(parseProbe({ command: 'doctor', probe: true })).toBe(true);
    expect(parseProbe({ detail: { probe: 'true' } })).toBe(true);
    expect(parseProbe({})).toBe(false);
    expect(() => parseProbe({ probe: 'yes' })).toThrow(/event.probe: must be true or false/);
  });

  it('takes exactly one config source', async () => {
    await expect(loadLambdaConfig({ env: {} })).rejects.toThrow(/set one of/);
    await expect(loadLambdaConfig({ env: { CERTKEEPER_CONFIG: '{}', CERTKEEPER_CONFIG_FILE: '/x' } })).rejects.toThrow(
      /set only one of CERTKEEPER_CONFIG, CERTKEEPER_CONFIG_FILE/,
    );
    const yaml =
      'version: 1\nacme: { directory: letsencrypt }\ncertificates: [{ id: a, domains: [a.example.com], dns: { provider: route53 } }]';
    const config = await loadLambdaConfig({
      env: { CERTKEEPER_CONFIG_SSM_PARAMETER: '/ck' },
      readParameter: async (name) => (name === '/ck' ? yaml : ''),
    });
    expect(config.certificates[0]?.id).toBe('a');
  });
});
