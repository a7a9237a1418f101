import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

describe('--shard i/N', () => {
  it('plan --shards lists the shards with due certificates; run --shard renews each exactly once across them', async () => {
    const dir = await tempDir();
    const ids = Array.from({ length: 6 }, (_, i) => `shard-${i}`);
    const path = await writeConfig(
      localConfig(
        stack,
        dir,
        ids.map((id) => ({ id, domains: [uniqueZone('shd')] })),
      ),
    );
    const planned = await cli(['plan', '-c', path, '--json', '--shards', '4']);
    expect(planned.code).toBe(0);
    const shards = JSON.parse(planned.stdout).shards as { shard: string; ids: string[] }[];
    expect(shards.flatMap((s) => s.ids).sort()).toEqual(ids);
    expect(shards.every((s) => /^[1-4]\/4$/.test(s.shard) && s.ids.length > 0)).toBe(true);

    const renewed: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await cli(['run', '-c', path, '--json', '--shard', `${i}/4`]);
      expect(r.code, r.stderr).toBe(0);
      const results = JSON.parse(r.stdout).results as { id: string; status: string }[];
      // Exactly the plan's ids for this shard, and nothing of the others' (their stores are not read).
      expect(results.map((x) => x.id).sort()).toEqual((shards.find((s) => s.shard === `${i}/4`)?.ids ?? []).sort());
      for (const x of results) expect(x.status).toBe('renewed');
      renewed.push(...results.map((x) => x.id));
    }
    expect(renewed.sort()).toEqual(ids);
    // Nothing due any more: no shard has work.
    const again = await cli(['plan', '-c', path, '--json', '--shards', '4']);
    expect(JSON.parse(again.stdout).shards).toEqual([]);
    const table = await cli(['plan', '-c', path, '--shards', '4']);
    expect(table.stdout).toContain('shards with due certificates: none');
  });

  it('rejects a bad shard as a usage error (exit 2)', async () => {
    const path = await writeConfig(localConfig(stack, await tempDir(), [{ id: 'x', domains: ['example.com'] }]));
    for (const args of [
      ['run', '--shard', '0/4'],
      ['run', '--shard', '5/4'],
      ['run', '--shard', '1/300'],
      ['run', '--shard', 'two/4'],
      ['run', '--shards', '4'],
      ['plan', '--shards', '0'],
    ]) {
      const r = await cli([...args, '-c', path]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--shards?:/);
    }
  });
});

describe('certkeeper iam-policy', () => {
  it('prints the policy of the config as JSON, the non-AWS grants as notes, with no network call', async () => {
    const example = fileURLToPath(new URL('../../examples/aws.yml', import.meta.url));
    const r = await cli(['iam-policy', '-c', example]);
    expect(r.code).toBe(0);
    const committed = JSON.parse(
      await readFile(new URL('../../workflows-examples/iam-policy.json', import.meta.url), 'utf8'),
    );
    expect(JSON.parse(r.stdout)).toEqual(committed);

    const cf = await writeConfig({
      version: 1,
      acme: { directory: 'letsencrypt' },
      certificates: [{ id: 'cf', domains: ['cf.example.com'], dns: { provider: 'cloudflare' } }],
    });
    const notes = await cli(['iam-policy', '-c', cf], { CLOUDFLARE_API_TOKEN: 'token-value-1234' });
    expect(notes.code).toBe(0);
    // A file store and Cloudflare need no IAM at all; the token's scope is a note.
    expect(JSON.parse(notes.stdout).Statement).toEqual([]);
    expect(notes.stderr).toMatch(/note: certificates\[0\]\.dns \(cloudflare\): an API token with Zone → DNS → Edit/);
    expect(notes.stderr).not.toContain('token-value-1234');
  });

  it('is a usage error (exit 2) for a bad config or option', async () => {
    expect((await cli(['iam-policy', '-c', '/nonexistent.yml'])).code).toBe(2);
    expect((await cli(['iam-policy', '--bogus'])).code).toBe(2);
  });
});
