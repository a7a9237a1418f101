import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks; closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on `port`; `signal` stops the tries (a startup race lost). */
export function waitForPort(port: number, timeoutMs = 15_000, host = '127.0.0.1', signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (signal?.aborted) return reject(signal.reason);
      const sock = connect({ port, host });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Rejects when `proc` exits: race it against a readiness check so a crash at startup fails at once. */
export function exitedEarly(proc: Managed, name: string): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () =>
      reject(new Error(`${name} exited during startup (code ${proc.child.exitCode ?? proc.child.signalCode})`));
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) fail();
    else proc.child.once('exit', fail);
  });
}

export interface Managed {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a helper server for tests, the demo or the bench. Servers must stop by themselves even
 * if this process is SIGKILLed, so each runs under coreutils `timeout` (lifetime bound) and is
 * killed when this process exits normally.
 */
export function startManaged(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; maxLifetimeSec?: number } = {},
): Managed {
  const lifetime = String(opts.maxLifetimeSec ?? 3600);
  const child = spawn('timeout', ['--signal=TERM', '--kill-after=5', lifetime, command, ...args], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGTERM');
    });
  }
  return {
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
