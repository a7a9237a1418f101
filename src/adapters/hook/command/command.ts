import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration } from '../../../ports/duration.js';
import { HookError } from '../../../ports/errors.js';
import type { CertificateEvent, DeployHook, HookContext, HookOutcome } from '../../../ports/hooks.js';
import type { Logger } from '../../../ports/logger.js';
import type { Env } from '../common.js';
import type { CommandConfig } from './descriptor.js';

export interface CommandDeps {
  logger: Logger;
  /** The environment the command inherits (PATH, HOME, the user's own variables). */
  env: Env;
  /** Kill the command after this long; default 5 minutes. */
  timeoutMs?: number;
  /** Where the 0700 directory for the PEM files goes; default os.tmpdir(). */
  tmpDir?: string;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 5 * 60_000;
/** After SIGTERM, a command gets this long to exit before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** How many lines of stderr go into the error, and of output into the log. */
const TAIL_LINES = 5;
const LOG_LINES = 20;
const MAX_CAPTURE = 64 * 1024;

/**
 * Runs `run` with /bin/sh, like certbot's --deploy-hook. The only hook that gets the private key:
 * as a 0600 file in a fresh 0700 directory that is removed whatever happens, never through the
 * environment (which other processes of the same user can read in /proc).
 */
export function createCommandHook(config: CommandConfig, deps: CommandDeps): DeployHook {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const log = deps.logger.child({ hook: 'command' });

  return {
    type: 'command',
    on: config.on,
    receivesKeyMaterial: true,
    async run(event: CertificateEvent, context: HookContext, signal?: AbortSignal): Promise<HookOutcome> {
      const vars: Record<string, string> = {
        CERTKEEPER_ID: event.data.certificate,
        CERTKEEPER_DOMAINS: event.data.domains.join(','),
        CERTKEEPER_EVENT: event.type,
        CERTKEEPER_SERIAL: event.data.serialNumber ?? '',
      };
      const redact = redactor(context.pems?.privateKey);
      // Failure and warning events come without PEMs: then there are no files to point at.
      const dir = context.pems ? await makePrivateDir(deps.tmpDir ?? tmpdir()) : undefined;
      try {
        if (dir && context.pems) {
          const files = {
            CERTKEEPER_CERT_FILE: ['cert.pem', context.pems.certificate],
            CERTKEEPER_CHAIN_FILE: ['chain.pem', context.pems.chain],
            CERTKEEPER_FULLCHAIN_FILE: ['fullchain.pem', context.pems.fullchain],
            CERTKEEPER_KEY_FILE: ['privkey.pem', context.pems.privateKey],
          } as const;
          for (const [name, [file, content]] of Object.entries(files)) {
            const path = join(dir, file);
            // 'wx': never follow or reuse something already there.
            await writeFile(path, content, { mode: 0o600, flag: 'wx' });
            vars[name] = path;
          }
        }
        const result = await runShell(config.run, { ...definedOnly(deps.env), ...vars }, timeoutMs, signal);
        const stdout = redact(result.stdout);
        const stderr = redact(result.stderr);
        if (stdout || stderr) {
          log.info('command output', { stdout: lastLines(stdout, LOG_LINES), stderr: lastLines(stderr, LOG_LINES) });
        }
        if (result.timedOut) {
          throw new HookError(`command: did not finish within ${formatDuration(timeoutMs)} and was stopped`, {
            hint: 'a deploy command should reload the service and return; start long work in the background',
          });
        }
        if (result.aborted) throw new HookError('command: cancelled, the run is stopping');
        if (result.code !== 0) {
          const tail = lastLines(stderr, TAIL_LINES).join(' | ');
          const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
          throw new HookError(`command: ${how}${tail ? `: ${tail}` : ''}`);
        }
        return { status: 'ok', message: 'command exited with code 0' };
      } finally {
        if (dir) {
          try {
            await rm(dir, { recursive: true, force: true });
          } catch (error) {
            // Logged, not thrown: the command's own outcome is the error worth reporting.
            log.error('could not remove the temporary PEM directory', { dir, error: (error as Error).message });
          }
        }
      }
    },
  };
}

/** mkdtemp makes the directory 0700: only our user can list or open the key file in it. */
async function makePrivateDir(parent: string): Promise<string> {
  try {
    return await mkdtemp(join(parent, 'certkeeper-hook-'));
  } catch (error) {
    throw new HookError(`command: cannot create a temporary directory in ${parent}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

interface ShellResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

function runShell(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout stops `sh` and everything it started, not just `sh`.
    const child = spawn('/bin/sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const keep = (prev: string, chunk: Buffer) => {
      const next = prev + chunk.toString('utf8');
      return next.length > MAX_CAPTURE ? next.slice(-MAX_CAPTURE) : next;
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout = keep(stdout, c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = keep(stderr, c);
    });

    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();

    const finish = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      finish();
      reject(new HookError(`command: could not start /bin/sh: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code, sig) => {
      finish();
      const done = () => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ code, signal: sig, stdout, stderr, timedOut, aborted });
      };
      // A daemon started by the command may keep our pipes open forever: wait for the rest of the
      // output only briefly.
      if (child.stdout.readableEnded && child.stderr.readableEnded) return done();
      const grace = setTimeout(done, 500);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Output of a user's command may echo the key (`cat $CERTKEEPER_KEY_FILE` while debugging): any
 * line with a PEM marker or a line of the key's base64 body is replaced before it is logged or
 * put into an error.
 */
function redactor(privateKeyPem: string | undefined): (text: string) => string {
  const keyLines = (privateKeyPem ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return (text) =>
    text
      .split(/\r?\n/)
      .map((line) =>
        line.toUpperCase().includes('PRIVATE KEY') || keyLines.some((k) => line.includes(k))
          ? '[redacted: private key material]'
          : line,
      )
      .join('\n');
}

function lastLines(text: string, n: number): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-n);
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
