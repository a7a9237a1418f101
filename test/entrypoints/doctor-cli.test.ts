import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/core/doctor/report.js';
import { main } from '../../src/entrypoints/cli/main.js';
import { localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { makeReadOnly } from '../support/doctor.js';
import { getStack } from '../support/stack.js';

/** `certkeeper doctor` as a user runs it: the table, --json, exit statuses 0/1/2, usage errors. */

const stack = getStack();

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

async function configFile(raw: Record<string, unknown>): Promise<string> {
  const path = join(await tempDir('ck-doctor-cli-'), 'certkeeper.json');
  await writeFile(path, JSON.stringify(raw));
  return path;
}

describe('certkeeper doctor', () => {
  it('a config error exits 2 with one failed config check, before any network call', async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const path = await configFile({
        version: 1,
        acme: { directory: `https://127.0.0.1:${port}/dir` },
        certificates: [
          { id: 'web', domains: ['bad_name.example.com'], dns: { provider: 'route53' } },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's ${env:…} reference
          { id: 'api', domains: ['api.example.com'], dns: { provider: 'cloudflare', apiToken: '${env:CF_TOKEN}' } },
        ],
      });
      const json = await cli(['doctor', '--json', '-c', path]);
      expect(json.code).toBe(2);
      const report = JSON.parse(json.stdout) as DoctorReport;
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]).toMatchObject({ certificate: null, check: 'config', status: 'fail' });
      expect(report.checks[0]?.message).toContain('certificates[0].domains[0]');
      expect(report.checks[0]?.message).toContain('environment variable CF_TOKEN is not set');
      expect(report.checks[0]?.hint).toContain('check-config');
      const table = await cli(['doctor', '-c', path]);
      expect(table.code).toBe(2);
      expect(table.stdout.split('\n')[1]).toMatch(/^FAIL\s+-\s+config\s+.*certificates\[0\]\.domains\[0\]/);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
    expect((await cli(['doctor', '--json', '-c', '/nonexistent/certkeeper.yml'])).code).toBe(2);
  });

  it('usage: --probe belongs to doctor; --only must name configured certificates', async () => {
    const path = await configFile(localConfig(stack, await tempDir(), [{ id: 'web', domains: [uniqueZone('dcl')] }]));
    const probe = await cli(['run', '--probe', '-c', path]);
    expect(probe.code).toBe(2);
    expect(probe.stderr).toContain('--probe is an option of doctor only');
    const only = await cli(['doctor', '--json', '--only', 'nope', '-c', path]);
    expect(only.code).toBe(2);
    expect(JSON.parse(only.stdout).checks[0].message).toContain('--only: no certificate with id "nope"');
  });

  it('the table lists failures first, each with its hint; a failing check exits 1; fail-on decides about warnings', async () => {
    const dir = await tempDir('ck-doctor-cli-store-');
    const ro = join(dir, 'ro');
    await mkdir(ro);
    const zone = uniqueZone('dct');
    const raw = localConfig(stack, join(dir, 'ok'), [
      { id: 'fine', domains: [`a.${zone}`] },
      { id: 'locked-out', domains: [`b.${zone}`], store: { type: 'file', dir: ro } },
    ]);
    const path = await configFile(raw);
    const restore = await makeReadOnly(ro);
    try {
      const r = await cli(['doctor', '-c', path]);
      expect(r.code).toBe(1);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^STATUS\s+CERTIFICATE\s+CHECK\s+MESSAGE$/);
      expect(lines[1]).toMatch(/^FAIL\s+locked-out\s+store\s+cannot take a lease in file /);
      expect(lines[2]).toMatch(/^\s+hint: /);
      const firstPass = lines.findIndex((l) => l.startsWith('pass'));
      const lastWarn = lines.map((l) => l.startsWith('WARN')).lastIndexOf(true);
      expect(lastWarn).toBeLessThan(firstPass);
      expect(lines.at(-1)).toMatch(/^\d+ checks: 1 failed, \d+ warning\(s\), \d+ passed, \d+ skipped \(\d+ ms\)$/);
      expect((await cli(['doctor', '--fail-on', 'never', '-c', path])).code).toBe(0);
    } finally {
      await restore();
    }
    // Only warnings (no account yet, nothing stored yet, no ARI at Pebble): 0, unless fail-on is warning.
    const warnings = await configFile(localConfig(stack, join(dir, 'ok'), [{ id: 'fine', domains: [`a.${zone}`] }]));
    expect((await cli(['doctor', '-c', warnings])).code).toBe(0);
    expect((await cli(['doctor', '--fail-on', 'warning', '-c', warnings])).code).toBe(1);
  });
});
