import { ListCertificatesCommand } from '@aws-sdk/client-acm';
import { ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsCall, assumeRoleCredentials, createAwsClientFactory } from '../../../src/adapters/aws/clients.js';
import { useMoto } from '../../support/aws.js';
import { fakeClock } from '../../support/clock.js';

const aws = useMoto();

const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
});

describe('AWS clients', () => {
  it('honour the per-service AWS_ENDPOINT_URL_* variables (over AWS_ENDPOINT_URL)', async () => {
    // Nothing listens on port 9: only the per-service variables can make these calls work.
    setEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_ROUTE_53: aws.moto.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.moto.endpoint,
      AWS_ENDPOINT_URL_ACM: aws.moto.endpoint,
    });
    const f = createAwsClientFactory();
    await expect(f.route53({}).send(new ListHostedZonesByNameCommand({}))).resolves.toBeDefined();
    await expect(f.secretsManager({ region: 'eu-west-1' }).send(new ListSecretsCommand({}))).resolves.toBeDefined();
    await expect(f.acm({ region: 'us-east-1' }).send(new ListCertificatesCommand({}))).resolves.toBeDefined();
    setEnv({ AWS_ENDPOINT_URL_ACM: undefined });
    const refused = await createAwsClientFactory({})
      .acm({ region: 'us-east-1' })
      .send(new ListCertificatesCommand({}))
      .catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
  });

  it('assume roleArn through STS once per role, with the external id, and keep roles apart', async () => {
    const calls: AwsCall[] = [];
    const f = createAwsClientFactory({ onCall: (c) => calls.push(c) });
    const dnsAccess = { roleArn: 'arn:aws:iam::111111111111:role/dns', externalId: 'ext-1' };
    const dns = f.route53(dnsAccess);
    expect(f.route53(dnsAccess)).toBe(dns);
    await dns.send(new ListHostedZonesByNameCommand({}));
    await dns.send(new ListHostedZonesByNameCommand({}));
    const store = f.secretsManager({ roleArn: 'arn:aws:iam::222222222222:role/store', region: 'us-east-1' });
    await store.send(new ListSecretsCommand({}));
    const assumed = calls.filter((c) => c.service === 'sts');
    expect(assumed.map((c) => [c.operation, c.input.RoleArn, c.input.ExternalId, c.input.RoleSessionName])).toEqual([
      ['AssumeRole', 'arn:aws:iam::111111111111:role/dns', 'ext-1', 'certkeeper-route53'],
      ['AssumeRole', 'arn:aws:iam::222222222222:role/store', undefined, 'certkeeper-secretsmanager'],
    ]);
    expect(calls.filter((c) => c.service === 'route53').map((c) => c.operation)).toEqual([
      'ListHostedZonesByName',
      'ListHostedZonesByName',
    ]);
    // Route 53 is global; the SDK still wants a region, and gets AWS_REGION or us-east-1.
    expect(calls.find((c) => c.service === 'route53')?.region).toBe('us-east-1');
  });

  it('refresh assumed credentials shortly before they expire, one request for concurrent callers', async () => {
    const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const stub = mockClient(sts);
    const clock = fakeClock();
    let n = 0;
    stub.on(AssumeRoleCommand).callsFake(async () => {
      n++;
      await new Promise((r) => setImmediate(r));
      return {
        Credentials: {
          AccessKeyId: `AKIA${n}`,
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(clock.now().getTime() + 3_600_000),
        },
      };
    });
    const provider = assumeRoleCredentials({
      sts,
      roleArn: 'arn:aws:iam::1:role/r',
      sessionName: 'certkeeper-test',
      clock,
    });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.accessKeyId).toBe('AKIA1');
    expect(b.accessKeyId).toBe('AKIA1');
    clock.advance(50 * 60_000);
    expect((await provider()).accessKeyId).toBe('AKIA1');
    clock.advance(6 * 60_000);
    expect((await provider()).accessKeyId).toBe('AKIA2');
    expect(n).toBe(2);
    stub.restore();
  });

  it('names the role in an AssumeRole failure', async () => {
    const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const stub = mockClient(sts);
    stub.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const provider = assumeRoleCredentials({ sts, roleArn: 'arn:aws:iam::1:role/r', sessionName: 's' });
    await expect(provider()).rejects.toThrow('sts: cannot assume arn:aws:iam::1:role/r: AccessDenied: not authorized');
    stub.restore();
  });
});
