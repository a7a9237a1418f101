import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getStack } from '../support/stack.js';
import {
  ACTION_BUNDLE,
  type ActionRun,
  localConfig,
  nodeBinary,
  occurrences,
  pemBodyLines,
  runAction,
  storedKeys,
  tempDir,
  uniqueZone,
} from './helpers.js';

/**
 * dist/action/index.js run as the GitHub runner runs it (Node 24, INPUT_* env with the defaults
 * of action.yml, the runner's files) against the shared Pebble + challtestsrv stack.
 */

interface Report {
  results: {
    id: string;
    status: string;
    daysLeft?: number;
    notAfter?: string;
    error?: { class: string; message: string; hint?: string };
  }[];
  nextCheck?: string;
  dryRun: boolean;
}

/**
 * No line of any key the store now holds appears anywhere but in its own `::add-mask::` command.
 * `account: false` for a run that renewed nothing: it never opens the ACME account.
 */
async function expectKeysMasked(run: ActionRun, storeDir: string, opts: { account?: boolean } = {}): Promise<number> {
  const all = await storedKeys(storeDir);
  const keys = all.filter((k) => opts.account !== false || !k.name.startsWith('account '));
  expect(keys.length).toBeGreaterThan(0);
  for (const key of all.filter((k) => !keys.includes(k))) {
    for (const line of pemBodyLines(key.pem)) expect(run.everything).not.toContain(line);
  }
  expect(run.everything).not.toContain('PRIVATE KEY');
  let lines = 0;
  for (const key of keys) {
    for (const line of pemBodyLines(key.pem)) {
      lines++;
      const masked = occurrences(run.stdout, `::add-mask::${line}`);
      expect(masked, `${key.name}: a key line was never masked`).toBeGreaterThanOrEqual(1);
      expect(occurrences(run.everything, line), `${key.name}: a key line appears outside ::add-mask::`).toBe(masked);
    }
  }
  return lines;
}

function ids(json: string | undefined): string[] {
  return JSON.parse(json ?? 'null') as string[];
}

describe('GitHub Action bundle', () => {
  beforeAll(async () => {
    await access(ACTION_BUNDLE).catch(() => {
      throw new Error(`${ACTION_BUNDLE} is missing: run npm run build`);
    });
    const node = await nodeBinary();
    if (node.fallback) console.warn(`action tests run on ${node.version}, not Node 24`);
  }, 200_000);

  it('issues into the file store, sets outputs and summary, and masks every key line', async () => {
    const stack = getStack();
    const workspace = await tempDir('ck-action-');
    const storeDir = join(workspace, 'certs');
    const zone = uniqueZone('act');
    await writeFile(
      join(workspace, 'certkeeper.yml'),
      JSON.stringify(localConfig(stack, storeDir, [{ id: 'web', domains: [zone, `*.${zone}`] }])),
    );

    const first = await runAction(workspace, {});
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const report = JSON.parse(first.outputs.results ?? '') as Report;
    expect(report.results.map((r) => [r.id, r.status])).toEqual([['web', 'renewed']]);
    expect(ids(first.outputs.renewed)).toEqual(['web']);
    expect(ids(first.outputs.failed)).toEqual([]);
    expect(first.outputs['next-check']).toBe(report.nextCheck ?? '');

    expect(first.summary).toContain('<table>');
    expect(first.summary).toContain('<code>web</code>');
    expect(first.summary).toContain(`*.${zone}`);
    expect(first.summary).toMatch(/renewed/);
    expect(first.summary).toMatch(/[▰▱]{10}/);
    expect(first.summary).not.toContain('Failures');

    const meta = JSON.parse(await readFile(join(storeDir, 'web', 'meta.json'), 'utf8'));
    expect(meta.issuedBy).toEqual({ via: 'github-action', runId: '4242', repository: 'acme/infra' });
    // The new certificate key and the freshly registered account key.
    const maskedLines = await expectKeysMasked(first, storeDir);
    expect(maskedLines).toBeGreaterThan(2);

    // A second run reads the stored key (and the account): both are masked on read too.
    const second = await runAction(workspace, {});
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(ids(second.outputs.renewed)).toEqual([]);
    expect(second.outputs['next-check']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect((JSON.parse(second.outputs.results ?? '') as Report).results[0]?.status).toBe('skipped');
    await expectKeysMasked(second, storeDir, { account: false });

    // dry-run + force: would renew, changes nothing.
    const dry = await runAction(workspace, { 'dry-run': 'true', force: 'true' });
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const dryReport = JSON.parse(dry.outputs.results ?? '') as Report;
    expect(dryReport.dryRun).toBe(true);
    expect(dryReport.results[0]?.status).toBe('would-renew');
    expect(dry.summary).toContain('dry run');
  });

  it('fails the step after reporting when a certificate fails; the others still run', async () => {
    const stack = getStack();
    const workspace = await tempDir('ck-action-');
    const storeDir = join(workspace, 'certs');
    const raw = localConfig(stack, storeDir, [
      { id: 'good', domains: [uniqueZone('actok')] },
      {
        id: 'broken',
        domains: [uniqueZone('actbad')],
        // Nothing listens on port 9: the DNS provider call fails at once.
        dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' },
      },
    ]);
    await writeFile(join(workspace, 'ck.yml'), JSON.stringify(raw));

    const run = await runAction(workspace, { config: 'ck.yml' });
    expect(run.code).toBe(1);
    expect(ids(run.outputs.renewed)).toEqual(['good']);
    expect(ids(run.outputs.failed)).toEqual(['broken']);
    const broken = (JSON.parse(run.outputs.results ?? '') as Report).results.find((r) => r.id === 'broken');
    expect(broken?.error?.class).toBe('dns-provider');
    expect(run.stdout).toMatch(/::error title=certkeeper%3A broken::\[dns-provider\]/);
    expect(run.stdout).toMatch(/::error::certkeeper: 1 certificate\(s\) failed: broken \[dns-provider\]/);
    expect(run.summary).toContain('Failures');
    expect(run.summary).toContain('<b>dns-provider</b>');
    expect(run.summary).toContain('Hint:');
    await expectKeysMasked(run, storeDir);

    // Run again at once: the broken one backs off (deferred, a warning), which fail-on: error lets pass.
    const again = await runAction(workspace, { config: 'ck.yml' });
    expect(again.code).toBe(0);
    expect(ids(again.outputs.deferred)).toEqual(['broken']);
    expect(ids(again.outputs.failed)).toEqual([]);

    // fail-on: never keeps the step green with the same outcome (forced past the backoff).
    const lenient = await runAction(workspace, { config: 'ck.yml', 'fail-on': 'never', force: 'true' });
    expect(lenient.code).toBe(0);
    expect(ids(lenient.outputs.failed)).toEqual(['broken']);
  });

  describe('config and usage errors exit 2 and name the path', () => {
    it('an invalid config file', async () => {
      const workspace = await tempDir('ck-action-');
      await writeFile(
        join(workspace, 'certkeeper.yml'),
        'version: 1\nacme: { directory: letsencrypt-staging }\ncertificates:\n  - id: web\n    domains: [exa_mple.com]\n    dns: { provider: route53 }\n    renewbefore: 30d\n',
      );
      const run = await runAction(workspace, {});
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('::error::');
      expect(run.stdout).toContain('certificates[0].domains[0]');
      expect(run.stdout).toContain('certificates[0].renewbefore');
      expect(run.outputs.results).toBeUndefined();
    });

    it('no config file and no one-certificate inputs', async () => {
      const run = await runAction(await tempDir('ck-action-'), {});
      expect(run.code).toBe(2);
      expect(run.stdout).toMatch(/::error::.*certkeeper\.yml: config file not found/);
    });

    it('one-certificate inputs are validated like a file, named by input', async () => {
      const run = await runAction(await tempDir('ck-action-'), {
        domains: 'example.com, -bad-.example.com',
        'key-type': 'rsa-1024',
      });
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('input domains[1]');
      expect(run.stdout).toContain('input key-type');
    });

    it('bad input values', async () => {
      const run = await runAction(await tempDir('ck-action-'), { 'fail-on': 'sometimes', 'dry-run': 'yes' });
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('input fail-on');
      expect(run.stdout).toContain('input dry-run');
    });

    it('--only naming an unknown certificate', async () => {
      const stack = getStack();
      const workspace = await tempDir('ck-action-');
      await writeFile(
        join(workspace, 'certkeeper.yml'),
        JSON.stringify(localConfig(stack, join(workspace, 'certs'), [{ id: 'web', domains: [uniqueZone('actonly')] }])),
      );
      const run = await runAction(workspace, { only: 'web, nope' });
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('input only: no certificate with id "nope"');
    });
  });

  it('the one-certificate inputs build a Secrets Manager config (dry run against moto)', async () => {
    const stack = getStack();
    const run = await runAction(
      await tempDir('ck-action-'),
      {
        domains: `${uniqueZone('actsc')}\n*.shortcut.example.org`,
        'acme-directory': 'letsencrypt-staging',
        'dry-run': 'true',
        'secret-id': `test/action/${Date.now()}`,
      },
      stack.motoEnv,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.outputs.results ?? '') as Report & {
      results: { id: string; status: string; store?: { type: string; ref: string } }[];
    };
    expect(report.results).toHaveLength(1);
    expect(report.results[0]?.status).toBe('would-renew');
    expect(report.results[0]?.id).toMatch(/^actsc.*-example-com$/);
    expect(report.results[0]?.store?.type).toBe('aws-secrets-manager');
  });
});
