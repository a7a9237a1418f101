import { fileURLToPath } from 'node:url';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../../../src/adapters/aws/clients.js';
import { createRoute53Provider } from '../../../src/adapters/dns/route53/provider.js';
import { createAcmExporter } from '../../../src/adapters/export/aws-acm/exporter.js';
import { registry } from '../../../src/adapters/registry.js';
import { createSecretsManagerAccountStore } from '../../../src/adapters/store/aws-secrets-manager/account.js';
import { createSecretsManagerStore } from '../../../src/adapters/store/aws-secrets-manager/store.js';
import { configPermissions } from '../../../src/core/permissions.js';
import { loadConfigFile, parseConfig } from '../../../src/entrypoints/config.js';
import { challengeValue } from '../../contract/dns-provider.js';
import { assertAllowedByPolicy, loadPolicy, useMoto } from '../../support/aws.js';
import { fakeClock } from '../../support/clock.js';
import { makeCertificate } from '../../support/fixtures.js';
import { evaluate, type IamRequest, type Policy, requestsFor } from '../../support/iam.js';
import { recordingLogger } from '../../support/logger.js';

/**
 * `certkeeper iam-policy` must grant every AWS call a config's run makes, and nothing beyond it.
 * workflows-examples/iam-policy.json is its output for examples/aws.yml;
 * this file checks that it is current, what it allows and denies, and then runs one full
 * certificate life through the AWS adapters and proves, call by call, that the policy generated
 * for exactly that config (zone discovered in moto) allows every one of them.
 */

const aws = useMoto();
const policy = loadPolicy();
const EXAMPLE = new URL('../../../examples/aws.yml', import.meta.url);

const call = (service: AwsCall['service'], operation: string, input: Record<string, unknown>): AwsCall => ({
  service,
  operation,
  region: 'us-east-1',
  input,
});

const change = (records: { name: string; type?: string; action?: string }[], zone = 'Z0EXAMPLE123') =>
  call('route53', 'ChangeResourceRecordSets', {
    HostedZoneId: `/hostedzone/${zone}`,
    ChangeBatch: {
      Changes: records.map((r) => ({
        Action: r.action ?? 'UPSERT',
        ResourceRecordSet: { Name: r.name, Type: r.type ?? 'TXT', TTL: 60, ResourceRecords: [{ Value: '"x"' }] },
      })),
    },
  });

const verdict = (c: AwsCall) => requestsFor(c).map((r: IamRequest) => evaluate(policy, r));

describe('the example IAM policy (generated)', () => {
  it('is what `certkeeper iam-policy` prints for the example config', async () => {
    const config = await loadConfigFile(fileURLToPath(EXAMPLE), { env: {}, entry: 'cli' });
    const { policy: fresh } = await configPermissions(config, registry);
    expect(policy).toEqual(JSON.parse(JSON.stringify(fresh)));
  });

  it('has no wildcard action and no ForAllValues in an Allow', () => {
    for (const s of policy.Statement) {
      for (const a of Array.isArray(s.Action) ? s.Action : [s.Action]) expect(a).not.toContain('*');
    }
  });

  it("allows writing the config's _acme-challenge TXT records, in its zone, with CREATE/DELETE/UPSERT", () => {
    expect(verdict(change([{ name: '_acme-challenge.example.com' }]))).toEqual(['allow']);
    expect(
      verdict(
        change([
          { name: '_acme-challenge.example.com.', action: 'DELETE' },
          { name: '_acme-challenge.Example.com', action: 'CREATE' },
          { name: '_acme-challenge.api.example.com', action: 'CREATE' },
        ]),
      ),
    ).toEqual(['allow']);
    // Another certificate's name, or another zone, is not this config's.
    expect(verdict(change([{ name: '_acme-challenge.www.example.org' }]))).toEqual(['explicit-deny']);
    expect(verdict(change([{ name: '_acme-challenge.example.com', type: 'CNAME' }], 'ZOTHER'))).toEqual([
      'explicit-deny',
    ]);
  });

  it('denies any batch that touches another name or type, even mixed with a challenge record', () => {
    expect(verdict(change([{ name: 'www.example.com', type: 'A' }]))).toEqual(['explicit-deny']);
    expect(verdict(change([{ name: '_acme-challenge.example.com' }, { name: 'example.com' }]))).toEqual([
      'explicit-deny',
    ]);
    expect(verdict(change([{ name: '_acme-challenge.example.com', type: 'CNAME' }]))).toEqual(['explicit-deny']);
    expect(
      verdict(change([{ name: '_acme-challenge.example.com' }, { name: '_acme-challenge.x.example.com', type: 'A' }])),
    ).toEqual(['explicit-deny']);
    expect(verdict(change([{ name: 'x._acme-challenge.example.com' }]))).toEqual(['explicit-deny']);
  });

  it('allows reading the named zone and change polling, and nothing else in Route 53', () => {
    // One certificate of the example leaves its zone to discovery: listing zones by name is allowed.
    expect(verdict(call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' }))).toEqual(['allow']);
    expect(verdict(call('route53', 'GetHostedZone', { Id: 'Z0EXAMPLE123' }))).toEqual(['allow']);
    expect(verdict(call('route53', 'ListResourceRecordSets', { HostedZoneId: 'Z0EXAMPLE123' }))).toEqual(['allow']);
    // Discovered zones cannot be named offline, so the other certificate's statements use hostedzone/*;
    // `--discover` pins them (below).
    expect(verdict(call('route53', 'GetHostedZone', { Id: 'Z1' }))).toEqual(['allow']);
    expect(verdict(call('route53', 'GetChange', { Id: '/change/C123' }))).toEqual(['allow']);
    expect(verdict(call('route53', 'DeleteHostedZone', { Id: 'Z1' }))).toEqual(['implicit-deny']);
    expect(verdict(call('route53', 'CreateHostedZone', { Name: 'example.com' }))).toEqual(['implicit-deny']);
  });

  it("limits Secrets Manager to the config's secrets (and their .lock, the account and its ledger) and ACM to import/tag", () => {
    expect(verdict(call('secretsmanager', 'GetSecretValue', { SecretId: 'certkeeper/example-com' }))).toEqual([
      'allow',
    ]);
    expect(
      verdict(
        call('secretsmanager', 'CreateSecret', {
          Name: 'certkeeper/api-example-com.lock',
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
      ),
    ).toEqual(['allow', 'allow']);
    expect(
      verdict(
        call('secretsmanager', 'PutSecretValue', {
          SecretId: 'certkeeper/account/acme-v02.api.letsencrypt.org.orders',
        }),
      ),
    ).toEqual(['allow']);
    expect(verdict(call('secretsmanager', 'GetSecretValue', { SecretId: 'certkeeper/site' }))).toEqual([
      'implicit-deny',
    ]);
    expect(verdict(call('secretsmanager', 'DeleteSecret', { SecretId: 'certkeeper/example-com' }))).toEqual([
      'implicit-deny',
    ]);
    expect(verdict(call('secretsmanager', 'GetSecretValue', { SecretId: 'prod/database' }))).toEqual(['implicit-deny']);
    expect(verdict(call('secretsmanager', 'DeleteSecret', { SecretId: 'other/thing' }))).toEqual(['implicit-deny']);
    expect(verdict(call('secretsmanager', 'ListSecrets', {}))).toEqual(['implicit-deny']);
    expect(verdict(call('acm', 'ImportCertificate', { Tags: [{ Key: 'certkeeper:id', Value: 'x' }] }))).toEqual([
      'allow',
      'allow',
    ]);
    expect(
      verdict(call('acm', 'DeleteCertificate', { CertificateArn: 'arn:aws:acm:us-east-1:1:certificate/x' })),
    ).toEqual(['implicit-deny']);
  });

  it('uses no ForAllValues in an Allow (it passes when the key is missing)', () => {
    for (const s of policy.Statement) {
      if (s.Effect !== 'Allow') continue;
      expect(Object.keys(s.Condition ?? {}).filter((op) => op.startsWith('ForAllValues:'))).toEqual([]);
    }
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
    expect(policy.Version).toBe('2012-10-17');
  });

  it('allows every call of a whole certificate life through the adapters, and these are all of them', async () => {
    const admin = new Route53Client({});
    await admin.send(new CreateHostedZoneCommand({ Name: 'iam.example.com', CallerReference: 'iam' }));
    const logger = recordingLogger();
    const clock = fakeClock();
    const deps = { logger, clock, clients: aws.clients };

    const dns = createRoute53Provider(
      { provider: 'route53', ttl: 60, propagation: { timeoutMs: 120_000, intervalMs: 2000 } },
      { ...deps, resolveHost: async () => ['192.0.2.1'] },
    );
    const store = createSecretsManagerStore('iam', { type: 'aws-secrets-manager', tags: { team: 'web' } }, deps);
    const accounts = createSecretsManagerAccountStore({ type: 'aws-secrets-manager' }, deps);
    const acm = createAcmExporter({ type: 'aws-acm', region: 'us-east-1' }, deps);

    // First issuance.
    await accounts.load('https://acme.example.test/dir');
    await accounts.save({
      directoryUrl: 'https://acme.example.test/dir',
      accountUrl: 'https://acme.example.test/acct/1',
      accountKey: 'key',
      createdAt: clock.now().toISOString(),
    });
    await store.read();
    const lease = await store.acquireLease('run-1', 60_000, async () => {});
    if (lease.kind !== 'acquired') throw new Error('expected the lease');
    const records = [
      { name: '_acme-challenge.iam.example.com', value: challengeValue() },
      { name: '_acme-challenge.iam.example.com', value: challengeValue() },
    ];
    await lease.lease.update(records, 60_000);
    await dns.present(records);
    await dns.defaultResolvers?.('_acme-challenge.iam.example.com');
    await dns.cleanup(records);
    const cert = await makeCertificate('iam', ['iam.example.com', '*.iam.example.com']);
    const arn = await acm.export(cert, undefined);
    await store.write({ ...cert, exports: { 'aws-acm': arn } });
    await lease.lease.extend(60_000);
    await lease.lease.release();

    // Renewal, after a run died holding the lease.
    const dead = await store.acquireLease('run-dead', 1_000, async () => {});
    expect(dead.kind).toBe('acquired');
    clock.advance(5_000);
    const next = await store.acquireLease('run-2', 60_000, async (stale) => dns.cleanup(stale.records));
    if (next.kind !== 'acquired') throw new Error('expected to break the lease');
    await store.read();
    const renewed = await makeCertificate('iam', ['iam.example.com', '*.iam.example.com']);
    await acm.export(renewed, arn);
    await store.write({ ...renewed, exports: { 'aws-acm': arn } });
    await next.lease.release();

    // The policy `certkeeper iam-policy --discover` prints for exactly this certificate's config.
    const config = parseConfig(
      {
        version: 1,
        acme: { directory: 'https://acme.example.test/dir' },
        certificates: [
          {
            id: 'iam',
            domains: ['iam.example.com', '*.iam.example.com'],
            dns: { provider: 'route53' },
            store: { type: 'aws-secrets-manager', tags: { team: 'web' } },
            exports: [{ type: 'aws-acm', region: 'us-east-1' }],
          },
        ],
      },
      { env: {}, entry: 'cli' },
    );
    const generated = (
      await configPermissions(config, registry, {
        discover: true,
        ctx: {
          clock,
          logger,
          env: {},
          entry: 'cli',
          lookup: {} as never,
          services: { aws: aws.clients },
        },
      })
    ).policy as unknown as Policy;
    const discovered = generated.Statement.find((st) => st.Sid === 'Route53WriteChallengeRecords');
    expect(discovered?.Resource).toMatch(/^arn:aws:route53:::hostedzone\/[A-Z0-9]+$/);
    const requests = assertAllowedByPolicy(aws.calls, generated);
    // …and the same calls in another zone or for another secret are not.
    const otherZone = aws.calls.find((c) => c.operation === 'ChangeResourceRecordSets') as AwsCall;
    expect(
      requestsFor({ ...otherZone, input: { ...otherZone.input, HostedZoneId: '/hostedzone/ZOTHER' } }).map((r) =>
        evaluate(generated, r),
      ),
    ).toEqual(['implicit-deny']);
    expect(
      requestsFor(call('secretsmanager', 'GetSecretValue', { SecretId: 'certkeeper/other' })).map((r) =>
        evaluate(generated, r),
      ),
    ).toEqual(['implicit-deny']);
    const operations = [...new Set(requests.map((r) => r.action))].sort();
    expect(operations).toEqual(
      [
        'acm:AddTagsToCertificate',
        'acm:ImportCertificate',
        'route53:ChangeResourceRecordSets',
        'route53:GetHostedZone',
        'route53:ListHostedZonesByName',
        'route53:ListResourceRecordSets',
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:TagResource',
      ].sort(),
    );
    // moto reports INSYNC at once, so GetChange is only seen on the stub (route53-stub.test.ts);
    // the policy allows it (above).
  });
});
