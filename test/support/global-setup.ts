import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../src/devstack/moto.js';
import { ensurePebbleInstalled, startPebbleStack } from '../../src/devstack/pebble.js';
import { type DnsRouter, startDnsRouter } from './dns-router.js';
import type { SharedStack } from './stack.js';

/**
 * Once per run, before any test file: one Pebble stack and one moto (starting them per file would
 * dominate test time); the built bundles, so the tests that run dist/ as GitHub and Lambda run it
 * never test a stale bundle; the helper processes some tests spawn, compiled once; and the Node 24
 * binary the bundle tests use, found once.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensurePebbleInstalled((line) => console.log(`[pebble install] ${line}`));
  const started = Date.now();
  const helpers = Promise.all([buildDist(), buildWorkers(), findNode(24), findNode(22)]);
  // One moto per test worker too (VITEST_POOL_ID), each reset by the file that uses it: a file's
  // AWS state of its own without a moto start per file (test/support/aws.ts).
  const workerMotos = Promise.all(Array.from({ length: WORKER_MOTOS }, () => startMoto()));
  // The shared Pebble validates through a router: names of zones a test file routes to a server
  // of its own (PowerDNS, BIND, a provider fake, the Route 53 bridge) go there, every other name
  // to this stack's challtestsrv. Those files need no Pebble of their own.
  const router = await startDnsRouter([]);
  const routes = await startRouteControl(router);
  const [pebble, moto] = await Promise.allSettled([startPebbleStack({ dnsServer: router.address }), startMoto()]);
  if (pebble.status === 'fulfilled') router.setFallback(pebble.value.dnsResolver);
  const pool = await workerMotos;
  project.provide(
    'motoPool',
    pool.map((m) => ({ endpoint: m.endpoint, env: m.env })),
  );
  const [built, workers, node24, node22] = await helpers.catch(async (error: unknown) => {
    await Promise.all([
      pebble.status === 'fulfilled' ? pebble.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    throw error;
  });
  project.provide('workers', workers);
  project.provide('node24', node24);
  project.provide('node22', node22);
  if (!built) {
    await Promise.all([
      pebble.status === 'fulfilled' ? pebble.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    throw new Error('npm run build failed: the bundle tests would test a stale dist/');
  }
  if (pebble.status === 'rejected' || moto.status === 'rejected') {
    // Whichever did start must not outlive the failed setup.
    await Promise.all([
      pebble.status === 'fulfilled' ? pebble.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    throw pebble.status === 'rejected' ? pebble.reason : (moto as PromiseRejectedResult).reason;
  }
  const stack = pebble.value;
  const teardown = async () => {
    await Promise.all([stack.stop(), moto.value.stop(), ...pool.map((m) => m.stop()), routes.stop(), router.stop()]);
  };
  try {
    const shared: SharedStack = {
      acmeDirectory: stack.acmeDirectory,
      caBundlePath: stack.caBundlePath,
      caBundlePem: stack.caBundlePem,
      managementUrl: stack.managementUrl,
      challtestsrvUrl: stack.challtestsrvUrl,
      dnsResolver: stack.dnsResolver,
      motoEndpoint: moto.value.endpoint,
      motoEnv: moto.value.env,
    };
    project.provide('stack', shared);
    project.provide('dnsRoutes', routes.url);
    project.provide('rootPem', await stack.rootPem());
  } catch (error) {
    await teardown();
    throw error;
  }
  if (process.env.CERTKEEPER_DEBUG_STACK) console.log(`[devstack] pebble + moto up in ${Date.now() - started} ms`);
  return teardown;
}

/**
 * The router's routes over HTTP, for the test workers (other processes): PUT /<zone> with the
 * server's "host:port" as the body routes the zone (409 when it is routed already: two files
 * must not share a zone); DELETE /<zone> ends it.
 */
async function startRouteControl(router: DnsRouter): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const zone = decodeURIComponent((req.url ?? '/').slice(1));
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      if (!zone) res.writeHead(400).end('no zone');
      else if (req.method === 'PUT') {
        if (!/^[^:]+:\d+$/.test(body)) res.writeHead(400).end('body: host:port');
        else res.writeHead(router.add({ zone, address: body }) ? 204 : 409).end();
      } else if (req.method === 'DELETE') {
        router.remove(zone);
        res.writeHead(204).end();
      } else res.writeHead(405).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** As many as vitest.config.ts's maxWorkers. */
const WORKER_MOTOS = 3;

/**
 * `npm run build`: dist/ as the sources build it (CI then checks that this is what is committed).
 * Skipped when the stamp of the last full build (scripts/dist-stamp.mjs) proves that every input
 * and every file under dist/ is unchanged since: the build is the longest step of this setup.
 */
async function buildDist(): Promise<boolean> {
  const { DIST_STAMP, stampIsCurrent } = (await import(join(ROOT, 'scripts/dist-stamp.mjs'))) as {
    DIST_STAMP: string;
    stampIsCurrent(path: string): Promise<boolean>;
  };
  if (await stampIsCurrent(DIST_STAMP)) return true;
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/build.mjs')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) => done(code === 0));
    child.on('error', () => done(false));
  });
}

/** The helper processes of the cross-process tests, bundled once (a `--import tsx` start costs ~1 s each). */
async function buildWorkers(): Promise<Record<string, string>> {
  const out = await mkdtemp(join(tmpdir(), 'ck-test-workers-'));
  const names = ['lease-worker', 'reserve-worker'];
  await build({
    entryPoints: names.map((n) => join(ROOT, 'test/contract', `${n}.ts`)),
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    banner: {
      js: "import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return Object.fromEntries(names.map((n) => [n, join(out, `${n}.mjs`)]));
}

/**
 * A Node binary of that major line (scripts/node-line.mjs: npx's cache, else npx): 24 for `runs.using: node24` and Lambda's
 * nodejs24.x, 22 for nodejs22.x and the oldest line the CLI supports. The current Node, loudly,
 * when unavailable.
 */
async function findNode(major: 22 | 24): Promise<{ path: string; version: string; fallback: boolean }> {
  try {
    const { nodeLine } = (await import(join(ROOT, 'scripts/node-line.mjs'))) as {
      nodeLine(major: number): Promise<{ path: string; version: string }>;
    };
    return { ...(await nodeLine(major)), fallback: false };
  } catch (error) {
    console.warn(`node@${major} unavailable (${(error as Error).message}); running the bundles on ${process.version}`);
    return { path: process.execPath, version: process.version, fallback: true };
  }
}
