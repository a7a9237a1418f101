import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandHook } from '../../../../src/adapters/hook/command/command.js';
import { HookError } from '../../../../src/ports/errors.js';
import { makeCert, sampleEvent, type TestCert } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/logger.js';

let work: string;
let cert: TestCert;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'certkeeper-cmd-test-'));
  await mkdir(join(work, 'tmp'));
  cert ??= await makeCert(['example.com', '*.example.com']);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function pems() {
  return { certificate: cert.certPem, chain: '', fullchain: cert.certPem, privateKey: cert.keyPem };
}

function hook(run: string, timeoutMs?: number) {
  const logger = recordingLogger();
  // The PEM directory goes under a directory of ours, so we can see that nothing is left behind.
  const tmpDir = join(work, 'tmp');
  const h = createCommandHook(
    { type: 'command', run, on: ['renewed'] },
    { logger, env: { PATH: process.env.PATH, OUT: join(work, 'out') }, tmpDir, ...(timeoutMs ? { timeoutMs } : {}) },
  );
  return { h, logger, tmpDir };
}

async function leftovers(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('command hook', () => {
  it('passes id, domains, event and serial, and the PEMs as 0600 files in a 0700 directory, removed afterwards', async () => {
    const script = [
      'env | grep ^CERTKEEPER_ | sort > "$OUT.env"',
      'stat -c %a "$CERTKEEPER_KEY_FILE" "$CERTKEEPER_CERT_FILE" "$CERTKEEPER_CHAIN_FILE" "$CERTKEEPER_FULLCHAIN_FILE" > "$OUT.modes"',
      'stat -c %a "$(dirname "$CERTKEEPER_KEY_FILE")" >> "$OUT.modes"',
      'cp "$CERTKEEPER_FULLCHAIN_FILE" "$OUT.fullchain"',
      'cmp -s "$CERTKEEPER_KEY_FILE" /dev/null || echo key-present > "$OUT.key"',
    ].join('\n');
    const { h, tmpDir } = hook(script);
    const event = sampleEvent({ serialNumber: cert.serial });

    const outcome = await h.run(event, { pems: pems() });

    expect(outcome.status).toBe('ok');
    const env = Object.fromEntries(
      (await readFile(join(work, 'out.env'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env.CERTKEEPER_ID).toBe('example-com');
    expect(env.CERTKEEPER_DOMAINS).toBe('example.com,*.example.com');
    expect(env.CERTKEEPER_EVENT).toBe('certificate.renewed');
    expect(env.CERTKEEPER_SERIAL).toBe(cert.serial);
    for (const k of [
      'CERTKEEPER_CERT_FILE',
      'CERTKEEPER_CHAIN_FILE',
      'CERTKEEPER_FULLCHAIN_FILE',
      'CERTKEEPER_KEY_FILE',
    ]) {
      expect(env[k]).toMatch(new RegExp(`^${tmpDir}/certkeeper-hook-[^/]+/\\w+\\.pem$`));
    }
    // The key reaches the command only as a file, never as an environment value.
    expect(JSON.stringify(env)).not.toContain('PRIVATE KEY');
    expect((await readFile(join(work, 'out.modes'), 'utf8')).trim().split('\n')).toEqual([
      '600',
      '600',
      '600',
      '600',
      '700',
    ]);
    expect(await readFile(join(work, 'out.fullchain'), 'utf8')).toBe(cert.certPem);
    expect(await readFile(join(work, 'out.key'), 'utf8')).toBe('key-present\n');
    expect(await leftovers(tmpDir)).toEqual([]);
  });

  it('classifies a non-zero exit, with the end of stderr, and still removes the files', async () => {
    const { h, tmpDir } = hook('echo starting; echo "line 1" >&2; echo "nginx: config test failed" >&2; exit 3');
    const error = await h.run(sampleEvent(), { pems: pems() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookError);
    expect((error as HookError).message).toBe('command: exited with code 3: line 1 | nginx: config test failed');
    expect(await leftovers(tmpDir)).toEqual([]);
  });

  it('never puts the key into the error or the log, even when the command prints it', async () => {
    const { h, logger } = hook('cat "$CERTKEEPER_KEY_FILE"; cat "$CERTKEEPER_KEY_FILE" >&2; exit 1');
    const error = (await h.run(sampleEvent(), { pems: pems() }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^command: exited with code 1: /);
    const body = cert.keyPem.split('\n').find((l) => l.length > 40)!;
    for (const text of [error.message, JSON.stringify(logger.lines)]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(body);
    }
  });

  it('kills a command that runs too long, with everything it started', async () => {
    const { h, tmpDir } = hook('sleep 30 & echo $! > "$OUT.child"; sleep 30', 300);
    const started = Date.now();
    await expect(h.run(sampleEvent(), { pems: pems() })).rejects.toThrow(
      /^command: did not finish within 300ms and was stopped/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await leftovers(tmpDir)).toEqual([]);
    const child = Number(await readFile(join(work, 'out.child'), 'utf8'));
    // The background `sleep` went down with its process group: gone, or a zombie (state Z) where
    // the container's init does not reap orphans.
    await new Promise((r) => setTimeout(r, 100));
    const stat = await readFile(`/proc/${child}/stat`, 'utf8').catch(() => 'gone');
    expect(stat === 'gone' || stat.split(') ')[1]?.startsWith('Z')).toBe(true);
  });

  it('runs without PEM files for events that carry none (failed, warning)', async () => {
    const { h } = hook('test -z "$CERTKEEPER_KEY_FILE" && echo "none $CERTKEEPER_EVENT" > "$OUT.txt"');
    await h.run(sampleEvent({}, 'certificate.renewal_failed'), {});
    expect(await readFile(join(work, 'out.txt'), 'utf8')).toBe('none certificate.renewal_failed\n');
  });
});
