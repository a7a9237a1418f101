import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/entrypoints/cli/main.js';
import { localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

const stack = getStack();

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

async function writeConfig(obj: unknown): Promise<string> {
  const path = join(await tempDir(), 'certkeeper.json');
  await writeFile(path, JSON.stringify(obj));
  return path;
}

describe('CLI exit status', () => {
  it('check-config: a malformed file exits 2 naming the path, without any network call', async () => {
    const path = join(await tempDir(), 'certkeeper.yml');
    // The directory points at a port nothing listens on: a network call would hang or fail differently.
    await writeFile(
      path,
      `version: 1
acme: { directory: "https://127.0.0.1:9/dir" }
certificates:
  - id: web
    domains: [example.com, "bad_name.example.com"]
    dns: { provider: route53 }
  - id: web
    domains: [example.org]
    dns: { provider: route54 }
`,
    );
    const r = await cli(['check-config', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('certificates[0].domains[1]');
    expect(r.stderr).toContain('certificates[1].id');
    expect(r.stderr).toContain('certificates[1].dns.provider');
  });

  it('check-config: a valid file exits 0', async () => {
    const path = await writeConfig(localConfig(stack, await tempDir(), [{ id: 'ok', domains: ['example.com'] }]));
    const r = await cli(['check-config', '-c', path]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('1 certificate(s): ok');
  });

  it('a missing config file exits 2', async () => {
    const r = await cli(['run', '--config', '/nonexistent/certkeeper.yml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config file not found');
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['run', '--bogus'])).code).toBe(2);
    expect((await cli(['run', '--fail-on', 'sometimes'])).code).toBe(2);
    const path = await writeConfig(localConfig(stack, await tempDir(), [{ id: 'ok', domains: ['example.com'] }]));
    const r = await cli(['run', '-c', path, '--only', 'ok,nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"nope"');
  });

  it('run: 0 when renewed, JSON on stdout with --json; then skipped on the next run', async () => {
    const dir = await tempDir();
    const zone = uniqueZone('cli');
    const path = await writeConfig(localConfig(stack, dir, [{ id: 'c1', domains: [zone, `*.${zone}`] }]));
    const first = await cli(['run', '-c', path, '--json']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.results).toEqual([expect.objectContaining({ id: 'c1', status: 'renewed', health: 'ok' })]);
    expect(first.stdout).not.toContain('PRIVATE KEY');
    expect(first.stderr).not.toContain('PRIVATE KEY');
    const second = await cli(['run', '-c', path]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/c1\s+skipped/);
  });

  it('plan reports would-renew and changes nothing', async () => {
    const dir = await tempDir();
    const path = await writeConfig(localConfig(stack, dir, [{ id: 'p', domains: [uniqueZone('plan')] }]));
    const r = await cli(['plan', '-c', path, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ status: 'would-renew' });
  });

  it('run: 1 when a certificate fails, and the others still run (--only narrows)', async () => {
    const dir = await tempDir();
    const raw = localConfig(stack, dir, [
      { id: 'good', domains: [uniqueZone('g')] },
      // Its DNS provider is unreachable (nothing listens on port 9).
      { id: 'bad', domains: [uniqueZone('b')], dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' } },
    ]);
    const path = await writeConfig(raw);
    const r = await cli(['run', '-c', path, '--json']);
    expect(r.code).toBe(1);
    const byId = Object.fromEntries(JSON.parse(r.stdout).results.map((x: { id: string }) => [x.id, x]));
    expect(byId.good.status).toBe('renewed');
    expect(byId.bad).toMatchObject({ status: 'failed', error: { class: 'dns-provider' } });
    const onlyGood = await cli(['run', '-c', path, '--only', 'good', '--json']);
    expect(onlyGood.code).toBe(0);
    expect(JSON.parse(onlyGood.stdout).results.map((x: { id: string }) => x.id)).toEqual(['good']);
    expect((await cli(['run', '-c', path, '--fail-on', 'never'])).code).toBe(0);
  });

  it('schema prints the JSON Schema', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).properties.certificates).toBeDefined();
  });
});
