import { X509Certificate } from 'node:crypto';
import { ACMClient, GetCertificateCommand } from '@aws-sdk/client-acm';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPemChain } from '../../src/core/certinfo.js';
import type { StoredCertificate } from '../../src/ports/store.js';
import { useMoto } from '../support/aws.js';
import { captureLog, runLocal } from '../support/certkeeper.js';
import { type Route53Dns, startRoute53Dns } from '../support/route53-dns.js';
import { getRootPem, getStack, routeZones } from '../support/stack.js';

/**
 * The whole AWS path end to end: the shared Pebble validates DNS-01 through a DNS server that serves moto's
 * Route 53 zones, so the certificate is only issued if the route53 provider really wrote the TXT
 * values; the certificate lands in Secrets Manager and ACM (moto); the ACME account is kept in
 * Secrets Manager too. Adapters are built by the real registry from a config, as a run does.
 */

const aws = useMoto();
let dns: Route53Dns;
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;
let zoneId: string;

beforeAll(async () => {
  const admin = new Route53Client({});
  zoneId = (await admin.send(new CreateHostedZoneCommand({ Name: 'e2e.example.com', CallerReference: 'e2e' })))
    .HostedZone?.Id as string;
  dns = await startRoute53Dns({ endpoint: aws.moto.endpoint });
  unroute = await routeZones([{ zone: 'e2e.example.com', address: dns.address }]);
}, 120_000);

afterAll(async () => {
  await unroute?.();
  await dns?.stop();
});

function config() {
  return {
    version: 1,
    acme: { directory: pebble.acmeDirectory, caBundle: pebble.caBundlePath },
    defaults: {
      dns: {
        provider: 'route53',
        propagation: { resolvers: [dns.address], timeout: '30s', interval: '200ms' },
      },
      store: { type: 'aws-secrets-manager' },
    },
    certificates: [
      {
        id: 'e2e-site',
        domains: ['e2e.example.com', '*.e2e.example.com'],
        exports: [{ type: 'aws-acm', region: 'us-east-1' }],
      },
    ],
  };
}

/** The chain in the secret verifies up to the shared Pebble's root (which changes every start). */
async function verifiesAgainstPebbleRoot(fullchain: string): Promise<boolean> {
  const chain = splitPemChain(fullchain).map((p) => new X509Certificate(p));
  for (let i = 0; i + 1 < chain.length; i++) if (!chain[i]!.verify(chain[i + 1]!.publicKey)) return false;
  return chain.at(-1)!.verify(new X509Certificate(getRootPem()).publicKey);
}

/** What ACM holds under the ARN: the serial of its leaf. */
async function acmSerial(arn: string): Promise<string> {
  const out = await new ACMClient({ region: 'us-east-1' }).send(new GetCertificateCommand({ CertificateArn: arn }));
  return new X509Certificate(out.Certificate as string).serialNumber.toLowerCase();
}

async function stored(): Promise<StoredCertificate> {
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'certkeeper/e2e-site' }));
  return JSON.parse(out.SecretString as string) as StoredCertificate;
}

describe('ACME DNS-01 through Route 53 (moto) into Secrets Manager and ACM', () => {
  it('issues apex + wildcard, stores and exports it, and leaves no TXT record or lease behind', async () => {
    const log = captureLog();
    const report = await runLocal(config(), { log });
    const [r] = report.results;
    expect(r?.error, log.lines.join('\n')).toBeUndefined();
    expect(r).toMatchObject({ id: 'e2e-site', status: 'renewed' });

    const cert = await stored();
    expect(cert.format).toBe('certkeeper/v1');
    expect(new X509Certificate(cert.certificate).subjectAltName).toContain('DNS:*.e2e.example.com');
    expect(cert.serialNumber).toBe(r?.serialNumber);
    expect(cert.exports?.['aws-acm']).toMatch(/^arn:aws:acm:us-east-1:/);
    expect(await verifiesAgainstPebbleRoot(cert.fullchain)).toBe(true);
    expect(await acmSerial(cert.exports?.['aws-acm'] as string)).toBe(cert.serialNumber);

    const sets = await new Route53Client({}).send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    expect(sets.ResourceRecordSets?.filter((s) => s.Type === 'TXT')).toEqual([]);
    const secrets = await new SecretsManagerClient({}).send(new ListSecretsCommand({}));
    const names = (secrets.SecretList ?? []).map((s) => s.Name).sort();
    expect(names).toContain('certkeeper/e2e-site');
    expect(names.some((n) => n?.startsWith('certkeeper/account/127.0.0.1_'))).toBe(true);
    expect(names).not.toContain('certkeeper/e2e-site.lock');
    expect(dns.queries).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain(cert.privateKey.split('\n')[1] as string);
  });

  it('renews with force into a new version and the same ACM ARN, reusing the stored account', async () => {
    const before = await stored();
    const log = captureLog();
    const report = await runLocal(config(), { force: true, log });
    expect(report.results[0]?.error, log.lines.join('\n')).toBeUndefined();
    expect(report.results[0]?.status).toBe('renewed');
    const after = await stored();
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.exports?.['aws-acm']).toBe(before.exports?.['aws-acm']);
    expect(await verifiesAgainstPebbleRoot(after.fullchain)).toBe(true);
    // Re-imported in place: the same ARN now holds the new certificate.
    expect(await acmSerial(after.exports?.['aws-acm'] as string)).toBe(after.serialNumber);
    const previous = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: 'certkeeper/e2e-site', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(JSON.parse(previous.SecretString as string).serialNumber).toBe(before.serialNumber);
    // The account stored by the first run was used, not a new one registered and saved.
    const sm = new SecretsManagerClient({});
    const account = (await sm.send(new ListSecretsCommand({}))).SecretList?.find((s) =>
      s.Name?.startsWith('certkeeper/account/'),
    );
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: account?.Name as string }));
    expect(versions.Versions).toHaveLength(1);
  });
});
