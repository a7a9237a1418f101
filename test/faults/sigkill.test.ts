import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { localConfig, runLocal, tempDir, txtValues, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';

const stack = getStack();
// The built CLI (the global setup builds dist/ from the sources): a tsx start would cost a second per process.
const CLI = join(process.cwd(), 'dist', 'cli', 'index.js');

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('faults: a run killed with SIGKILL during the DNS wait', () => {
  it('leaves a lease naming its TXT records; the next run after expiry removes them and completes', async () => {
    // A "resolver" that swallows every query: the killed run waits for propagation forever.
    const blackhole = createSocket('udp4');
    await new Promise<void>((r) => blackhole.bind(0, '127.0.0.1', () => r()));
    onTestFinished(() => {
      blackhole.close();
    });
    const silent = `127.0.0.1:${blackhole.address().port}`;

    const dir = await tempDir();
    const zone = uniqueZone('kill');
    const name = `_acme-challenge.${zone}`;
    const certs = [{ id: 'k', domains: [zone, `*.${zone}`] }];
    const path = join(dir, 'certkeeper.json');
    await writeFile(
      path,
      JSON.stringify(localConfig(stack, join(dir, 'store'), certs, { resolvers: [silent], leaseTtl: '3s' })),
    );

    // `node dist/cli/index.js` itself, no wrapper: SIGKILL must hit the process doing the work.
    const child = spawn(process.execPath, [CLI, 'run', '-c', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));

    // Kill it once both values are live in DNS and recorded in its lease.
    const lockPath = join(dir, 'store', 'k.lock');
    await until('records in DNS and lease', async () => {
      const lease = JSON.parse(await readFile(lockPath, 'utf8'));
      const live = await txtValues(stack.dnsResolver, name);
      // …and once its log said so (the line follows the write: killed between the two, it is never read).
      return lease.records.length === 2 && live.length === 2 && output.includes('wrote 2 TXT value(s)')
        ? true
        : undefined;
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(output).toContain('wrote 2 TXT value(s)');

    // What the dead run left: two TXT values and a lease listing them, no certificate.
    expect((await txtValues(stack.dnsResolver, name)).length).toBe(2);
    const lease = JSON.parse(await readFile(lockPath, 'utf8'));
    expect(lease.records.map((r: { name: string }) => r.name)).toEqual([name, name]);
    await expect(stat(join(dir, 'store', 'k'))).rejects.toThrow(/ENOENT/);

    // While the lease is live, another run is locked out.
    const good = localConfig(stack, join(dir, 'store'), certs, { leaseTtl: '3s' });
    const early = await runLocal(good);
    expect(early.results[0]!.status).toBe('locked');

    // After it expires, the next run breaks it, removes the dead run's values, and renews.
    // (Read it again: the dead run extended it until it died.)
    const { expiresAt } = JSON.parse(await readFile(lockPath, 'utf8'));
    await until('lease expiry', async () => (Date.parse(expiresAt) < Date.now() ? true : undefined), 10_000);
    const report = await runLocal(good);
    expect(report.results[0]).toMatchObject({ status: 'renewed' });
    expect(await txtValues(stack.dnsResolver, name)).toEqual([]);
    await expect(stat(lockPath)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('SIGINT (Ctrl-C, a cancelled job) stops the run at once and cleans up: no TXT value, no lease', async () => {
    const blackhole = createSocket('udp4');
    await new Promise<void>((r) => blackhole.bind(0, '127.0.0.1', () => r()));
    onTestFinished(() => {
      blackhole.close();
    });
    const dir = await tempDir();
    const zone = uniqueZone('int');
    const name = `_acme-challenge.${zone}`;
    const path = join(dir, 'certkeeper.json');
    const silent = `127.0.0.1:${blackhole.address().port}`;
    await writeFile(
      path,
      JSON.stringify(
        localConfig(stack, join(dir, 'store'), [{ id: 'i', domains: [zone, `*.${zone}`] }], { resolvers: [silent] }),
      ),
    );
    const child = spawn(process.execPath, [CLI, 'run', '-c', path, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const lockPath = join(dir, 'store', 'i.lock');
    await until('records in DNS', async () =>
      (await txtValues(stack.dnsResolver, name)).length === 2 ? true : undefined,
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).toContain('SIGINT: stopping');
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.results[0]).toMatchObject({
      status: 'failed',
      error: { class: 'timeout', message: 'interrupted by SIGINT' },
    });
    expect(await txtValues(stack.dnsResolver, name)).toEqual([]);
    await expect(stat(lockPath)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
