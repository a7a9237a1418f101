import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { childEnv, type PebbleStack } from './stack.js';

/**
 * Running the real certbot and lego (Debian packages) against a local Pebble, with DNS-01 answered
 * through challtestsrv by their own hook mechanisms: certbot's `--manual-auth-hook` and lego's
 * `--dns exec`. What they leave on disk is what the import tests read.
 */

export interface ToolRun {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function script(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\nset -eu\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/**
 * `certbot certonly --manual` for `domains` into `<dir>/config` (with --work-dir and --logs-dir
 * beside it). Its auth hook appends the validation to challtestsrv, its cleanup hook clears the name.
 */
export async function certbotIssue(
  pebble: PebbleStack,
  dir: string,
  domains: string[],
  opts: { certName?: string; keyType?: 'ecdsa' | 'rsa'; rsaKeySize?: number } = {},
): Promise<void> {
  const auth = await script(
    join(dir, 'certbot-auth.sh'),
    'curl -fsS --max-time 10 -X POST -d "{\\"host\\":\\"_acme-challenge.$CERTBOT_DOMAIN.\\",\\"value\\":\\"$CERTBOT_VALIDATION\\"}" "$CK_CHALLTESTSRV/set-txt"',
  );
  const cleanup = await script(
    join(dir, 'certbot-cleanup.sh'),
    'curl -fsS --max-time 10 -X POST -d "{\\"host\\":\\"_acme-challenge.$CERTBOT_DOMAIN.\\"}" "$CK_CHALLTESTSRV/clear-txt"',
  );
  const args = [
    'certonly',
    '--non-interactive',
    '--agree-tos',
    '--register-unsafely-without-email',
    '--server',
    pebble.acmeDirectory,
    '--config-dir',
    join(dir, 'config'),
    '--work-dir',
    join(dir, 'work'),
    '--logs-dir',
    join(dir, 'logs'),
    '--manual',
    '--preferred-challenges',
    'dns',
    '--manual-auth-hook',
    auth,
    '--manual-cleanup-hook',
    cleanup,
    '--key-type',
    opts.keyType ?? 'ecdsa',
    ...(opts.rsaKeySize ? ['--rsa-key-size', String(opts.rsaKeySize)] : []),
    ...(opts.certName ? ['--cert-name', opts.certName] : []),
    ...domains.flatMap((d) => ['-d', d]),
  ];
  const r = await run('certbot', args, {
    CK_CHALLTESTSRV: pebble.challtestsrvUrl,
    REQUESTS_CA_BUNDLE: pebble.caBundlePath,
  });
  if (r.code !== 0)
    throw new Error(`certbot exited ${r.code}:\n${r.output.slice(-3000)}\n${pebble.logs().slice(-2000)}`);
}

/** `lego run` for `domains` with `--path <path>`, DNS through `--dns exec` and challtestsrv. */
export async function legoIssue(
  pebble: PebbleStack,
  path: string,
  domains: string[],
  opts: { keyType?: 'ec256' | 'ec384' | 'rsa2048' } = {},
): Promise<void> {
  const exec = await script(
    `${path}-exec.sh`,
    `case "$1" in
  present) curl -fsS --max-time 10 -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" "$CK_CHALLTESTSRV/set-txt" ;;
  cleanup) curl -fsS --max-time 10 -X POST -d "{\\"host\\":\\"$2\\"}" "$CK_CHALLTESTSRV/clear-txt" ;;
esac`,
  );
  const args = [
    '--server',
    pebble.acmeDirectory,
    '--email',
    'import-test@example.com',
    '--accept-tos',
    '--path',
    path,
    '--key-type',
    opts.keyType ?? 'ec256',
    '--dns',
    'exec',
    '--dns.resolvers',
    pebble.dnsResolver,
    '--dns.disable-cp',
    '--cert.timeout',
    '6',
    ...domains.flatMap((d) => ['-d', d]),
    'run',
  ];
  const r = await run('lego', args, {
    LEGO_CA_CERTIFICATES: pebble.caBundlePath,
    EXEC_PATH: exec,
    EXEC_POLLING_INTERVAL: '0',
    EXEC_PROPAGATION_TIMEOUT: '10',
    EXEC_SEQUENCE_INTERVAL: '0',
    LEGO_DISABLE_CNAME_SUPPORT: 'true',
    CK_CHALLTESTSRV: pebble.challtestsrvUrl,
  });
  if (r.code !== 0) throw new Error(`lego exited ${r.code}:\n${r.output.slice(-3000)}`);
}

/** What Pebble saw: new orders, and signed (POST) requests, which every account action is. */
export function acmeCounts(pebble: PebbleStack): { orders: number; signed: number } {
  const logs = pebble.logs();
  return {
    orders: logs.split('POST /order-plz').length - 1,
    signed: logs.split(/POST \//).length - 1,
  };
}
