import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { exitedEarly, freePort, type Managed, startManaged, waitForPort } from './process.js';
import { createSelfSignedCert } from './tlscert.js';

export interface PebbleStackOptions {
  /** Extra environment for Pebble; wins over the deterministic defaults (see DEFAULT_PEBBLE_ENV). */
  env?: Record<string, string>;
  /** "host:port" Pebble resolves DNS-01 challenges against; default the challtestsrv started here. */
  dnsServer?: string;
  /** Lifetime of issued certificates, in seconds (Pebble's default is about 5 years). */
  validityPeriodSec?: number;
  /** Makes EAB mandatory for new accounts; hmacKey is base64url, as the CA would hand it out. */
  eab?: { kid: string; hmacKey: string };
  /** Parent directory for the stack's temporary directory (default os.tmpdir()); the latter is removed on stop. */
  workDir?: string;
  /** Both servers die by themselves after this long even if nobody calls stop() (default 3600). */
  maxLifetimeSec?: number;
}

export interface PebbleStack {
  /** https://127.0.0.1:<port>/dir */
  acmeDirectory: string;
  /** PEM file of Pebble's listener certificate: trust it to talk to the directory and management API. */
  caBundlePath: string;
  caBundlePem: string;
  /** https://127.0.0.1:<port> — Pebble's management API (roots, intermediates, cert status). */
  managementUrl: string;
  /** http://127.0.0.1:<port> — challtestsrv's management API (set-txt, clear-txt, …). */
  challtestsrvUrl: string;
  /** "127.0.0.1:<port>" — challtestsrv's DNS server (UDP and TCP). */
  dnsResolver: string;
  /** PEM of the current root; Pebble makes new roots at each start, so never cache it across stacks. */
  rootPem(): Promise<string>;
  intermediatePem(): Promise<string>;
  /** Recent output of both servers, for assertion messages when something goes wrong. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Pebble's defaults add random sleeps, reject 5 % of nonces and reuse half of the valid
 * authorizations; tests must not depend on luck, so all three are off unless a test opts in. (Not
 * quite for reuse: Pebble reuses when `rand.Intn(100) > PEBBLE_AUTHZREUSE`, so 0 still reuses 1 %
 * of the valid authorizations, and it refuses negative values; a test ordering names it validated
 * before must accept a `ready` order.)
 */
export const DEFAULT_PEBBLE_ENV: Readonly<Record<string, string>> = {
  PEBBLE_VA_NOSLEEP: '1',
  PEBBLE_AUTHZREUSE: '0',
  PEBBLE_WFE_NONCEREJECT: '0',
};

/** Makes sure the Debian `pebble` package (pebble + pebble-challtestsrv) is there, installing it when root. */
export async function ensurePebbleInstalled(log: (line: string) => void = () => {}): Promise<void> {
  const missing = async () => {
    const found = await Promise.all(['pebble', 'pebble-challtestsrv'].map(onPath));
    return found.some((f) => !f);
  };
  if (!(await missing())) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'pebble and pebble-challtestsrv are not installed. Install the Debian/Ubuntu package: ' +
        '`sudo apt-get update && sudo apt-get install -y pebble` (or put both binaries on PATH).',
    );
  }
  log('pebble not found: installing the Debian package (apt-get install -y pebble)');
  await run('apt-get', ['update'], log);
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'pebble'], log);
  if (await missing()) throw new Error('apt-get installed pebble but pebble/pebble-challtestsrv are still not on PATH');
}

/** Starts pebble-challtestsrv (DNS only) and a Pebble using it, on free loopback ports. */
export async function startPebbleStack(opts: PebbleStackOptions = {}): Promise<PebbleStack> {
  const dir = await mkdtemp(join(opts.workDir ?? tmpdir(), 'certkeeper-pebble-'));
  try {
    const { certPem, keyPem } = await createSelfSignedCert(['localhost', '127.0.0.1']);
    const certPath = join(dir, 'cert.pem');
    await Promise.all([writeFile(certPath, certPem), writeFile(join(dir, 'key.pem'), keyPem, { mode: 0o600 })]);
    // Another process can take a port between freePort() and the server's bind; start again on
    // fresh ports rather than fail a whole test run on that race.
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(dir, certPem, opts);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortTakenError extends Error {}

async function startOnce(dir: string, certPem: string, opts: PebbleStackOptions): Promise<PebbleStack> {
  const [acmePort, mgmtPort, httpPort, tlsPort, dnsPort, ctsMgmtPort] = await distinctFreePorts(6);
  const lifetime = opts.maxLifetimeSec ?? 3600;
  const dnsResolver = `127.0.0.1:${dnsPort}`;
  const configPath = join(dir, 'pebble-config.json');
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      // Only DNS-01 is used, but Pebble insists on ports for the other challenge types; free ports
      // keep it from probing anything that happens to listen on its defaults (5001/5002).
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: Boolean(opts.eab),
      ...(opts.eab ? { externalAccountMACKeys: { [opts.eab.kid]: opts.eab.hmacKey } } : {}),
      ...(opts.validityPeriodSec !== undefined ? { certificateValidityPeriod: opts.validityPeriodSec } : {}),
    },
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));

  // challtestsrv serves every listener by default on fixed ports (:5001-5003, :8053, :8055) on all
  // interfaces; an empty value is the documented way to switch one off. An empty -defaultIPv6 makes
  // AAAA queries answer nothing, so nothing ever tries ::1.
  const challtestsrv = startManaged(
    'pebble-challtestsrv',
    [
      '-dns01',
      dnsResolver,
      '-management',
      `127.0.0.1:${ctsMgmtPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { cwd: dir, maxLifetimeSec: lifetime },
  );
  const pebble = startManaged('pebble', ['-config', configPath, '-dnsserver', opts.dnsServer ?? dnsResolver], {
    cwd: dir,
    env: { ...DEFAULT_PEBBLE_ENV, ...opts.env },
    maxLifetimeSec: lifetime,
  });
  const logs = () => `--- pebble ---\n${pebble.output()}\n--- pebble-challtestsrv ---\n${challtestsrv.output()}`;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all([pebble.stop(), challtestsrv.stop()]).then(() => rm(dir, { recursive: true, force: true }));
    return stopped;
  };
  const stopProcesses = () => Promise.all([pebble.stop(), challtestsrv.stop()]);

  const acmeDirectory = `https://127.0.0.1:${acmePort}/dir`;
  const managementUrl = `https://127.0.0.1:${mgmtPort}`;
  try {
    await Promise.race([
      Promise.all([
        waitForPort(ctsMgmtPort, 10_000),
        waitForPort(dnsPort, 10_000),
        waitForHttps(acmeDirectory, certPem, 15_000),
        waitForHttps(`${managementUrl}/roots/0`, certPem, 15_000),
      ]),
      exitedEarly(pebble, 'pebble'),
      exitedEarly(challtestsrv, 'pebble-challtestsrv'),
    ]);
  } catch (error) {
    await stopProcesses();
    const out = logs();
    if (/address already in use/i.test(out))
      throw new PortTakenError(`Pebble stack could not bind its ports:\n${out.slice(-4000)}`);
    throw new Error(`Pebble stack did not start: ${(error as Error).message}\n${out.slice(-4000)}`, { cause: error });
  }

  return {
    acmeDirectory,
    caBundlePath: join(dir, 'cert.pem'),
    caBundlePem: certPem,
    managementUrl,
    challtestsrvUrl: `http://127.0.0.1:${ctsMgmtPort}`,
    dnsResolver,
    rootPem: () => httpsGetOk(`${managementUrl}/roots/0`, certPem),
    intermediatePem: () => httpsGetOk(`${managementUrl}/intermediates/0`, certPem),
    logs,
    stop,
  };
}

async function distinctFreePorts(n: 6): Promise<[number, number, number, number, number, number]>;
async function distinctFreePorts(n: number): Promise<number[]> {
  // freePort() releases each port before returning, so the OS may hand the same one out twice.
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

function httpsGet(url: string, ca: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // agent:false: no keep-alive socket may outlive the stack and keep the event loop (or vitest) busy.
    const req = request(url, { ca, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function httpsGetOk(url: string, ca: string): Promise<string> {
  const { status, body } = await httpsGet(url, ca);
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}: ${body.slice(0, 500)}`);
  return body;
}

/** Polls until the URL answers 200 over TLS verified against `ca` — a bound port alone is not "ready". */
async function waitForHttps(url: string, ca: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const { status } = await httpsGet(url, ca, 2_000);
      if (status === 200) return;
      last = new Error(`HTTP ${status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`GET ${url} not answering after ${timeoutMs} ms: ${(last as Error | undefined)?.message}`);
}

async function onPath(command: string): Promise<boolean> {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    try {
      await access(join(d, command), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${tail}`)),
    );
  });
}
