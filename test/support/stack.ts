import { inject } from 'vitest';
import { type PebbleStack, type PebbleStackOptions, startPebbleStack } from '../../src/devstack/pebble.js';

/**
 * The servers global-setup.ts starts once per run: the plain fields of a PebbleStack (the shared
 * Pebble validates against its own challtestsrv at `dnsResolver`, except in zones a file routes
 * elsewhere: routeZones) plus moto. Plain JSON, because
 * it crosses into the test workers.
 */
export type SharedStack = Pick<
  PebbleStack,
  'acmeDirectory' | 'caBundlePath' | 'caBundlePem' | 'managementUrl' | 'challtestsrvUrl' | 'dnsResolver'
> & {
  /** http://127.0.0.1:<port> */
  motoEndpoint: string;
  /** AWS_ENDPOINT_URL, dummy credentials and region for SDK clients pointed at moto. */
  motoEnv: Record<string, string>;
};

declare module 'vitest' {
  export interface ProvidedContext {
    stack: SharedStack;
    /** The shared Pebble's root (Pebble makes a new one at every start). */
    rootPem: string;
    /** A moto per test worker (index VITEST_POOL_ID - 1), reset by each file that uses it. */
    motoPool: { endpoint: string; env: Record<string, string> }[];
    /** Bundled helper processes (test/contract/*-worker.ts), by name. */
    workers: Record<string, string>;
    /** The route control of the DNS router the shared Pebble validates through (routeZones). */
    dnsRoutes: string;
    /** The Node 24 binary the bundle tests run dist/ with. */
    node24: { path: string; version: string; fallback: boolean };
    /** Node 22, the oldest line the CLI supports (PRODUCT §4). */
    node22: { path: string; version: string; fallback: boolean };
  }
}

/**
 * The run-wide Pebble + challtestsrv + moto. Shared by every test file, so tests must use names
 * (domains, secret ids, TXT hosts) of their own to stay independent of each other.
 */
export function getStack(): SharedStack {
  return inject('stack');
}

export function getRootPem(): string {
  return inject('rootPem');
}

/**
 * Makes the shared Pebble validate names under each zone against that server (a real BIND,
 * PowerDNS, a provider's fake, the Route 53 bridge) instead of the shared challtestsrv, until the
 * returned function is called (in afterAll). A zone already routed by another file is refused:
 * zones must be the file's own.
 */
export async function routeZones(routes: { zone: string; address: string }[]): Promise<() => Promise<void>> {
  const control = inject('dnsRoutes');
  const done: string[] = [];
  const unroute = async () => {
    await Promise.all(
      done.map((zone) =>
        fetch(`${control}/${encodeURIComponent(zone)}`, { method: 'DELETE' }).then((r) => r.body?.cancel()),
      ),
    );
  };
  for (const { zone, address } of routes) {
    const res = await fetch(`${control}/${encodeURIComponent(zone)}`, { method: 'PUT', body: address });
    if (!res.ok) {
      await unroute();
      throw new Error(`routing ${zone} to ${address}: HTTP ${res.status} (another file routes it?)`);
    }
    done.push(zone);
  }
  return unroute;
}

/**
 * A private Pebble for tests that change its behaviour (nonce rejection, EAB, short validity) or
 * would disturb others. The caller stops it, e.g. `onTestFinished(() => pebble.stop())`.
 */
export function startOwnPebble(opts: PebbleStackOptions = {}): Promise<PebbleStack> {
  return startPebbleStack(opts);
}

export type { PebbleStack, PebbleStackOptions };

/** The path of a bundled helper process (test/contract/<name>.ts), built once by the global setup. */
export function workerScript(name: 'lease-worker' | 'reserve-worker'): string {
  return inject('workers')[name] as string;
}

/**
 * The least environment a child process of a test starts with: PATH, HOME and, when `npm test`
 * set one, Node's compile cache (so the dozens of dist/ processes compile the bundle once, not
 * each). Tests add what the runner, Lambda or the tool would see; nothing else of ours leaks in.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  if (process.env.NODE_COMPILE_CACHE) base.NODE_COMPILE_CACHE = process.env.NODE_COMPILE_CACHE;
  return { ...base, ...extra };
}
