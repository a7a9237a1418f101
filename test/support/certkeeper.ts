import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogger } from '../../src/adapters/logging/console.js';
import { createAdapters } from '../../src/adapters/registry.js';
import type { RunReport } from '../../src/core/results.js';
import { run } from '../../src/core/runner.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import type { AdapterFactory } from '../../src/ports/adapter.js';
import { type Clock, systemClock } from '../../src/ports/clock.js';
import type { Config } from '../../src/ports/config.js';
import type { DnsProvider } from '../../src/ports/dns.js';
import type { Logger } from '../../src/ports/logger.js';
import { registerSecret, scanForSecrets } from './secrets-guard.js';
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
  return {
    lines,
    logger: consoleLogger({
      verbose: true,
      write: (l) => {
        scanForSecrets('captured log', l);
        lines.push(l);
      },
    }),
  };
}

/** Below vitest's testTimeout (60 s): see runLocal. */
const RUN_DEADLINE_MS = 45_000;

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
    /** The run's clock (default the system clock), e.g. one whose sleeps are shortened. */
    clock?: Clock;
    /** The renewalInfo deadline and the draw in the CA's window (RunDeps). */
    ariTimeoutMs?: number;
    random?: () => number;
    /** The Lambda deadline (RunOptions): time left in the invocation. */
    remainingTimeMs?: () => number;
    /** The run-wide signal (RunOptions), as the CLI's Ctrl-C handler or the Lambda deadline gives it. */
    signal?: AbortSignal;
  } = {},
): Promise<RunReport> {
  const env = opts.env ?? {};
  const config = opts.config ?? parseConfig(raw, { env });
  const log = opts.log ?? captureLog();
  // A run that hangs ends before the test's timeout, as failed results whose errors say where it
  // stood, with its log on stderr: a test timeout alone tells nothing. The timer is cleared when the
  // run ends, so the run's signal never aborts after it.
  const deadline = opts.signal ? undefined : new AbortController();
  const timer = deadline
    ? setTimeout(() => deadline.abort(new Error('runLocal: deadline')), RUN_DEADLINE_MS)
    : undefined;
  const clock = opts.clock ?? systemClock;
  const base = guardKeys(createAdapters(config, { clock, logger: log.logger, env, entry: 'cli' }));
  const adapters: AdapterFactory = opts.dns
    ? { ...base, dns: async (cert) => opts.dns!(await base.dns(cert), cert.id) }
    : base;
  const report = await run(
    config,
    {
      force: opts.force ?? false,
      dryRun: opts.dryRun ?? false,
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.remainingTimeMs ? { remainingTimeMs: opts.remainingTimeMs } : {}),
      signal: opts.signal ?? deadline?.signal,
      issuedBy: { via: 'cli', runId: 'test' },
    },
    {
      adapters,
      clock,
      logger: log.logger,
      ...(opts.ariTimeoutMs ? { ariTimeoutMs: opts.ariTimeoutMs } : {}),
      ...(opts.random ? { random: opts.random } : {}),
    },
  ).finally(() => clearTimeout(timer));
  if (deadline?.signal.aborted) {
    process.stderr.write(
      `runLocal: the run was still going after ${RUN_DEADLINE_MS / 1000} s and was stopped; its log:\n${log.lines.join('\n')}\n`,
    );
  }
  // Every key the run handled is registered by now: no line of one may be in its log or report.
  scanForSecrets('runLocal log', log.lines.join('\n'));
  scanForSecrets('runLocal report', JSON.stringify(report));
  return report;
}

/** Registers with the secrets guard every private key the stores hand over or receive. */
function guardKeys(base: AdapterFactory): AdapterFactory {
  return {
    ...base,
    async store(cert) {
      const store = await base.store(cert);
      const read = store.read.bind(store);
      const write = store.write.bind(store);
      store.read = async (signal) => {
        const r = await read(signal);
        if (r.kind === 'found') registerSecret(r.certificate.privateKey);
        return r;
      };
      store.write = async (record, signal) => {
        registerSecret(record.privateKey);
        return write(record, signal);
      };
      return store;
    },
    async accountStore() {
      const accounts = await base.accountStore();
      const load = accounts.load.bind(accounts);
      const save = accounts.save.bind(accounts);
      accounts.load = async (url) => {
        const a = await load(url);
        if (a) registerSecret(a.accountKey);
        return a;
      };
      accounts.save = async (account) => {
        registerSecret(account.accountKey);
        return save(account);
      };
      return accounts;
    },
  };
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
