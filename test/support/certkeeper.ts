import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogger } from '../../src/adapters/console-logger.js';
import { createAdapters } from '../../src/adapters/registry.js';
import { type Config, parseConfig } from '../../src/core/config.js';
import type { RunReport } from '../../src/core/results.js';
import { type AdapterFactory, run } from '../../src/core/runner.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DnsProvider } from '../../src/ports/dns.js';
import type { Logger } from '../../src/ports/logger.js';
import type { SharedStack } from './stack.js';

export async function tempDir(prefix = 'ck-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

let counter = 0;
/** Names of their own for each test, so tests sharing one challtestsrv never see each other's values. */
export function uniqueZone(tag = 't'): string {
  counter++;
  return `${tag}${process.pid}x${counter}x${Math.random().toString(36).slice(2, 7)}.example.com`;
}

export interface StackLike {
  acmeDirectory: string;
  caBundlePath: string;
  challtestsrvUrl: string;
  dnsResolver: string;
}

/** A raw config for the local stack: challtestsrv DNS, file store in `dir`. */
export function localConfig(
  stack: StackLike | SharedStack,
  dir: string,
  certificates: Record<string, unknown>[],
  extra: { acme?: Record<string, unknown>; resolvers?: string[] | null; [k: string]: unknown } = {},
): Record<string, unknown> {
  const { acme, resolvers, ...rest } = extra;
  return {
    version: 1,
    acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, ...acme },
    defaults: {
      dns: {
        provider: 'challtestsrv',
        url: stack.challtestsrvUrl,
        propagation: {
          ...(resolvers === null ? {} : { resolvers: resolvers ?? [stack.dnsResolver] }),
          timeout: '20s',
          interval: '100ms',
        },
      },
      store: { type: 'file', dir },
    },
    certificates,
    ...rest,
  };
}

export interface CapturedLog {
  lines: string[];
  logger: Logger;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  return { lines, logger: consoleLogger({ verbose: true, write: (l) => lines.push(l) }) };
}

export async function runLocal(
  raw: Record<string, unknown>,
  opts: {
    force?: boolean;
    dryRun?: boolean;
    only?: string[];
    log?: CapturedLog;
    dns?: (real: DnsProvider, certId: string) => DnsProvider;
    config?: Config;
    /** What `${env:NAME}` substitution and the hooks see (GITHUB_API_URL, a command's PATH…); default none. */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<RunReport> {
  const env = opts.env ?? {};
  const config = opts.config ?? parseConfig(raw, { env });
  const log = opts.log ?? captureLog();
  const base = createAdapters(config, { clock: systemClock, logger: log.logger, env, entry: 'cli' });
  const adapters: AdapterFactory = opts.dns
    ? { ...base, dns: async (cert) => opts.dns!(await base.dns(cert), cert.id) }
    : base;
  return run(
    config,
    {
      force: opts.force ?? false,
      dryRun: opts.dryRun ?? false,
      ...(opts.only ? { only: opts.only } : {}),
      issuedBy: { via: 'cli', runId: 'test' },
    },
    { adapters, clock: systemClock, logger: log.logger },
  );
}

/** TXT values challtestsrv's DNS answers at `name`. */
export async function txtValues(resolver: string, name: string): Promise<string[]> {
  const { Resolver } = await import('node:dns/promises');
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([resolver]);
  try {
    return (await r.resolveTxt(name)).map((c) => c.join(''));
  } catch (error) {
    if (['ENODATA', 'ENOTFOUND'].includes((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
}
