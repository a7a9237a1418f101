import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/entrypoints/cli/main.js';
import { type AriShim, startAriShim } from '../support/ari-shim.js';
import { runLocal } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';
import {
  ACTION_BUNDLE,
  invokeLambda,
  LAMBDA_BUNDLE,
  type LambdaRun,
  localConfig,
  nodeBinary,
  runAction,
  tempDir,
  uniqueZone,
} from './helpers.js';

/**
 * ARI's renewal window and status `deferred` across the entry points: the CLI, and the built
 * Action and Lambda bundles (Node 24, fresh processes) reading one file store.
 */

const stack = getStack();
const DAY = 86_400_000;
let shim: AriShim;

interface Result {
  id: string;
  status: string;
  reason: string;
  renewalWindow?: { start: string; end: string; selected: string; explanationURL?: string };
}

beforeAll(async () => {
  await Promise.all(
    [ACTION_BUNDLE, LAMBDA_BUNDLE].map((b) =>
      access(b).catch(() => {
        throw new Error(`${b} is missing: run npm run build`);
      }),
    ),
  );
  const node = await nodeBinary();
  if (node.fallback) console.warn(`ARI entry point tests run on ${node.version}, not Node 24`);
  shim = await startAriShim({ upstream: stack });
}, 200_000);
afterAll(() => shim?.stop());

function lambdaResults(run: LambdaRun): Result[] {
  if (!run.outcome.ok) throw new Error(`handler threw ${run.outcome.name}: ${run.outcome.message}\n${run.stdout}`);
  return run.outcome.value.results as unknown as Result[];
}

function emf(run: LambdaRun, name: string): number | undefined {
  const line = run.emf.find(
    (l) => name in l && Object.keys(l).every((k) => !['certificate', 'errorClass'].includes(k)),
  );
  return line?.[name] as number | undefined;
}

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('entry points reading one store', () => {
  it("the CLI, the Lambda and the Action agree on the time drawn in the CA's window; only the first asks the CA", async () => {
    const workspace = await tempDir('ck-ari-ep-');
    const dir = join(workspace, 'certs');
    const config = localConfig({ ...stack, acmeDirectory: shim.directoryUrl, caBundlePath: shim.caBundlePath }, dir, [
      { id: 'agreed', domains: [uniqueZone('ariep')] },
    ]);
    const path = join(workspace, 'certkeeper.yml');
    await writeFile(path, JSON.stringify(config));
    expect((await runLocal(config)).results[0]?.status).toBe('renewed');
    const certId = shim.certId(await readFile(join(dir, 'agreed', 'cert.pem'), 'utf8'));
    const start = Date.now() + 20 * DAY;
    shim.setRenewalInfo(certId, {
      window: { start: new Date(start), end: new Date(start + 5 * DAY) },
      explanationURL: 'https://ca.example/ari/why',
    });
    shim.resetLog();

    const planned = await cli(['plan', '--json', '-c', path]);
    expect(planned.code, planned.stderr).toBe(0);
    const fromCli = (JSON.parse(planned.stdout) as { results: Result[] }).results[0];
    const selected = fromCli?.renewalWindow?.selected as string;
    expect(Date.parse(selected)).toBeGreaterThanOrEqual(start);
    expect(fromCli?.renewalWindow?.explanationURL).toBe('https://ca.example/ari/why');
    expect(shim.count('renewal-info')).toBe(1);

    const lambda = await invokeLambda({ detail: { dryRun: true } }, { CERTKEEPER_CONFIG: JSON.stringify(config) });
    expect(lambdaResults(lambda)[0]).toMatchObject({ status: 'skipped', renewalWindow: { selected } });
    const fleet = await invokeLambda({}, { CERTKEEPER_CONFIG: JSON.stringify(config) }, { handler: 'plan' });
    expect(fleet.outcome).toMatchObject({ ok: true, value: { batches: [], total: 0 } });

    const action = await runAction(workspace, { 'dry-run': 'true' });
    expect(action.code, action.stderr).toBe(0);
    const fromAction = (JSON.parse(action.outputs.results ?? '') as { results: Result[] }).results[0];
    expect(fromAction?.renewalWindow?.selected).toBe(selected);
    expect(action.summary).toContain('CA window');
    expect(action.summary).toContain('<a href="https://ca.example/ari/why">explanation</a>');
    expect(JSON.parse(action.outputs.deferred ?? '')).toEqual([]);

    // Every one of them read the window kept in the store: the CA was asked once.
    expect(shim.count('renewal-info')).toBe(1);
  }, 120_000);

  it('a certificate backing off: Action output deferred, fail-on warning fails on it, Lambda counts RenewalDeferred', async () => {
    const workspace = await tempDir('ck-ari-bo-');
    const dir = join(workspace, 'certs');
    const config = localConfig(stack, dir, [{ id: 'flaky', domains: [uniqueZone('aribo')] }]);
    // A DNS provider that is not there: the attempt fails after its order.
    const defaults = config.defaults as { dns: Record<string, unknown> };
    defaults.dns.url = 'http://127.0.0.1:9';
    await writeFile(join(workspace, 'certkeeper.yml'), JSON.stringify(config));

    const failed = await runAction(workspace, {});
    expect(failed.code).not.toBe(0);
    expect(JSON.parse(failed.outputs.failed ?? '')).toEqual(['flaky']);

    const warned = await runAction(workspace, { 'fail-on': 'warning' });
    expect(warned.code).not.toBe(0);
    expect(JSON.parse(warned.outputs.deferred ?? '')).toEqual(['flaky']);
    expect(JSON.parse(warned.outputs.failed ?? '')).toEqual([]);
    expect(warned.summary).toContain('deferred');
    expect(warned.summary).toMatch(/backing off after 1 failure until \S+; last: dns-provider/);
    expect(warned.stdout).toMatch(/::warning title=certkeeper%3A flaky::deferred: .*backing off/);
    expect(warned.stdout).toMatch(/::error::certkeeper: warnings, and fail-on is warning: flaky: deferred/);
    // fail-on: error (the default) lets a deferred certificate pass.
    expect((await runAction(workspace, {})).code).toBe(0);

    const lambda = await invokeLambda({}, { CERTKEEPER_CONFIG: JSON.stringify(config) });
    expect(lambdaResults(lambda)[0]).toMatchObject({ status: 'deferred' });
    expect(emf(lambda, 'RenewalDeferred')).toBe(1);
    expect(emf(lambda, 'RenewalFailed')).toBe(0);
  }, 120_000);
});
