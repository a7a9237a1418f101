import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { getStack } from '../support/stack.js';
import {
  invokeLambda,
  LAMBDA_BUNDLE,
  type LambdaRun,
  localConfig,
  nodeBinary,
  pemBodyLines,
  schedulerEvent,
  storedKeys,
  tempDir,
  uniqueZone,
} from './helpers.js';

/**
 * dist/lambda/index.mjs imported in a fresh Node 24 process and invoked once per test, with a
 * scheduler event and a fake context, against the shared Pebble + challtestsrv (+ moto) stack.
 */

interface Emf {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** The value of `metric` in the EMF line whose dimension values match `dims` (and have no others). */
function metric(run: LambdaRun, name: string, dims: Record<string, string> = {}): number | undefined {
  for (const line of run.emf as Emf[]) {
    const def = line._aws.CloudWatchMetrics[0];
    if (!def?.Metrics.some((m) => m.Name === name)) continue;
    const keys = def.Dimensions[0] ?? [];
    const wanted = ['service', ...Object.keys(dims)].sort();
    if (JSON.stringify([...keys].sort()) !== JSON.stringify(wanted)) continue;
    if (Object.entries(dims).every(([k, v]) => line[k] === v)) return line[name] as number;
  }
  return undefined;
}

function results(run: LambdaRun): { id: string; status: string; reason: string; error?: { class: string } }[] {
  if (!run.outcome.ok) throw new Error(`handler threw ${run.outcome.name}: ${run.outcome.message}\n${run.stdout}`);
  return run.outcome.value.results as never;
}

async function expectNoKeyMaterial(run: LambdaRun, storeDir: string): Promise<void> {
  const all = `${run.stdout}\n${run.stderr}\n${JSON.stringify(run.outcome)}`;
  expect(all).not.toContain('PRIVATE KEY');
  for (const key of await storedKeys(storeDir)) {
    for (const line of pemBodyLines(key.pem)) expect(all, key.name).not.toContain(line);
  }
}

describe('Lambda bundle', () => {
  beforeAll(async () => {
    await access(LAMBDA_BUNDLE).catch(() => {
      throw new Error(`${LAMBDA_BUNDLE} is missing: run npm run build`);
    });
    const node = await nodeBinary();
    if (node.fallback) console.warn(`lambda tests run on ${node.version}, not Node 24`);
  }, 200_000);

  it('renews from an inline config, logs JSON, emits EMF metrics, returns the results', async () => {
    const stack = getStack();
    const dir = await tempDir('ck-lambda-store-');
    const config = localConfig(stack, dir, [{ id: 'api', domains: [uniqueZone('lam')] }]);

    const run = await invokeLambda(schedulerEvent({}), { CERTKEEPER_CONFIG: JSON.stringify(config) });
    expect(results(run).map((r) => [r.id, r.status])).toEqual([['api', 'renewed']]);

    // Every output line is JSON: Powertools log lines and EMF.
    const nonJson = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
    expect(nonJson).toEqual([]);
    const logs = run.lines.filter((l) => !('_aws' in l));
    expect(logs.some((l) => l.level === 'INFO' && l.service === 'certkeeper')).toBe(true);
    expect(logs.some((l) => l.function_request_id === 'c0ffee00-0000-4000-8000-000000000001')).toBe(true);
    expect(logs.some((l) => l.certificate === 'api' && String(l.message).includes('renewed'))).toBe(true);

    for (const line of run.emf as Emf[]) expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('certkeeper');
    expect(metric(run, 'DaysLeft', { certificate: 'api' })).toBeGreaterThan(1);
    expect(metric(run, 'RenewalSucceeded')).toBe(1);
    expect(metric(run, 'RenewalFailed')).toBe(0);

    const meta = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'api', 'meta.json'), 'utf8')),
    );
    expect(meta.issuedBy).toEqual({ via: 'lambda', runId: 'c0ffee00-0000-4000-8000-000000000001' });
    await expectNoKeyMaterial(run, dir);

    // Warm path, next schedule: nothing due; DaysLeft still reported.
    const again = await invokeLambda({ detail: { only: ['api'] } }, { CERTKEEPER_CONFIG: JSON.stringify(config) });
    expect(results(again)[0]?.status).toBe('skipped');
    expect(metric(again, 'DaysLeft', { certificate: 'api' })).toBeGreaterThan(1);
    expect(metric(again, 'RenewalSucceeded')).toBe(0);
    await expectNoKeyMaterial(again, dir);
  });

  it('throws after logging and metrics when a certificate fails; the others still renew', async () => {
    const stack = getStack();
    const dir = await tempDir('ck-lambda-store-');
    const file = join(dir, 'certkeeper.yml');
    await writeFile(
      file,
      JSON.stringify(
        localConfig(stack, dir, [
          { id: 'ok', domains: [uniqueZone('lamok')] },
          {
            id: 'broken',
            domains: [uniqueZone('lambad')],
            dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' },
          },
        ]),
      ),
    );
    const run = await invokeLambda(schedulerEvent(), { CERTKEEPER_CONFIG_FILE: file });
    expect(run.outcome.ok).toBe(false);
    if (run.outcome.ok) return;
    expect(run.outcome.name).toBe('RenewalFailedError');
    expect(run.outcome.message).toContain('broken [dns-provider]');

    const errorLog = run.lines.find((l) => l.level === 'ERROR' && l.certificate === 'broken');
    expect(errorLog, run.stdout).toBeDefined();
    expect(run.lines.some((l) => l.certificate === 'ok' && String(l.message).includes('renewed'))).toBe(true);
    expect(metric(run, 'RenewalFailed')).toBe(1);
    expect(metric(run, 'RenewalFailed', { errorClass: 'dns-provider' })).toBe(1);
    expect(metric(run, 'RenewalSucceeded')).toBe(1);
    // The metrics were written before the throw: the last EMF line precedes nothing but the handler's end.
    expect(run.emf.length).toBeGreaterThanOrEqual(3);
    await expectNoKeyMaterial(run, dir);
  });

  it('starts no new certificate with less than 3 minutes left', async () => {
    const stack = getStack();
    const dir = await tempDir('ck-lambda-store-');
    const config = localConfig(stack, dir, [{ id: 'late', domains: [uniqueZone('lamlate')] }]);
    const run = await invokeLambda(
      schedulerEvent(),
      { CERTKEEPER_CONFIG: JSON.stringify(config) },
      { remainingMs: 120_000 },
    );
    const [result] = results(run);
    expect(result?.status).toBe('deferred');
    expect(result?.reason).toMatch(/s of the invocation left/);
  });

  it('reads the config from an SSM parameter; dryRun and only from the top level of the event', async () => {
    const stack = getStack();
    const name = `/certkeeper/test/${Date.now()}`;
    const config = {
      version: 1,
      acme: { directory: 'letsencrypt-staging' },
      certificates: [
        {
          id: 'sm',
          domains: [uniqueZone('lamssm')],
          dns: { provider: 'route53', hostedZoneId: 'Z0123456789ABC' },
          store: { type: 'aws-secrets-manager', secretId: `test/lambda/${Date.now()}` },
        },
        { id: 'other', domains: [uniqueZone('lamssm2')], dns: { provider: 'route53' } },
      ],
    };
    const ssm = new SSMClient({
      endpoint: stack.motoEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await ssm.send(new PutParameterCommand({ Name: name, Type: 'SecureString', Value: JSON.stringify(config) }));
    ssm.destroy();

    const run = await invokeLambda(
      // The top level wins over detail.
      { dryRun: true, only: 'sm', detail: { dryRun: false } },
      { ...stack.motoEnv, CERTKEEPER_CONFIG_SSM_PARAMETER: name },
    );
    expect(results(run).map((r) => [r.id, r.status])).toEqual([['sm', 'would-renew']]);
  });

  describe('config errors throw with the path', () => {
    it('an invalid inline config', async () => {
      const run = await invokeLambda(schedulerEvent(), {
        CERTKEEPER_CONFIG:
          'version: 1\nacme: { directory: letsencrypt }\ncertificates:\n  - id: x\n    domains: ["*.*.example.com"]\n    dns: { provider: route53 }\n',
      });
      expect(run.outcome.ok).toBe(false);
      if (run.outcome.ok) return;
      expect(run.outcome.name).toBe('InvalidConfigError');
      expect(run.outcome.message).toContain('certificates[0].domains[0]');
      expect(run.lines.some((l) => l.level === 'ERROR' && l.message === 'invalid configuration')).toBe(true);
      expect(metric(run, 'RenewalFailed', { errorClass: 'config' })).toBe(1);
    });

    it('no config source, a missing file, a missing parameter, a bad event field', async () => {
      const none = await invokeLambda({}, {});
      expect(none.outcome.ok || none.outcome.message).toMatch(/set one of CERTKEEPER_CONFIG/);

      const missing = await invokeLambda({}, { CERTKEEPER_CONFIG_FILE: '/nonexistent/certkeeper.yml' });
      expect(missing.outcome.ok || missing.outcome.message).toContain(
        '/nonexistent/certkeeper.yml: config file not found',
      );

      const stack = getStack();
      const noParam = await invokeLambda({}, { ...stack.motoEnv, CERTKEEPER_CONFIG_SSM_PARAMETER: '/certkeeper/none' });
      expect(noParam.outcome.ok || noParam.outcome.message).toContain('SSM parameter /certkeeper/none not found');

      const badEvent = await invokeLambda({ detail: { force: 'yes' } }, { CERTKEEPER_CONFIG: '{}' });
      expect(badEvent.outcome.ok || badEvent.outcome.message).toContain('event.detail.force: must be true or false');
    });
  });
});
