import { randomUUID } from 'node:crypto';
import type { AdapterFactory } from '../ports/adapter.js';
import type { Clock } from '../ports/clock.js';
import type { CertificateConfig, Config } from '../ports/config.js';
import type { TxtRecord } from '../ports/dns.js';
import { CertkeeperError, StoreError, toErrorInfo } from '../ports/errors.js';
import type { EventType } from '../ports/hooks.js';
import type { Logger } from '../ports/logger.js';
import { retry } from '../ports/retry.js';
import type { CertificateStore, IssuedBy, Lease, StoredCertificate } from '../ports/store.js';
import type { AcmeSession } from './acme.js';
import { parseCertificate } from './certinfo.js';
import { buildEvent } from './events.js';
import { runHooks } from './hooks.js';
import type { issueCertificate } from './issue.js';
import { type CurrentState, type Decision, daysLeft, decide, renewalTime } from './plan.js';
import { type CertificateResult, type HookResult, type RunReport, summarize } from './results.js';

export interface RunOptions {
  dryRun?: boolean;
  force?: boolean;
  only?: string[];
  issuedBy: IssuedBy;
  /** Lambda: time left in the invocation; no new certificate starts with less than `minStartMs` left. */
  remainingTimeMs?: () => number;
  minStartMs?: number;
  signal?: AbortSignal;
}

export interface RunDeps {
  adapters: AdapterFactory;
  clock: Clock;
  logger: Logger;
  /** For tests: override the ACME waits. */
  acmeTimeoutMs?: number;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order of results. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}

function currentState(read: Awaited<ReturnType<CertificateStore['read']>>): {
  state: CurrentState;
  stored?: StoredCertificate;
} {
  if (read.kind === 'missing') return { state: { kind: 'missing' } };
  if (read.kind === 'unreadable') return { state: { kind: 'unreadable', reason: read.reason } };
  try {
    const info = parseCertificate(read.certificate.certificate);
    return {
      state: { kind: 'found', info, domains: read.certificate.domains, keyType: info.keyType },
      stored: read.certificate,
    };
  } catch (error) {
    return { state: { kind: 'unreadable', reason: `certificate does not parse: ${(error as Error).message}` } };
  }
}

const STORE_RETRY_DELAYS = [500, 2000, 5000] as const;
const STORE_WRITE_TRIES = STORE_RETRY_DELAYS.length + 1;

/** One run over the configured certificates (PRODUCT §1). One certificate's failure never stops the others. */
export async function run(config: Config, options: RunOptions, deps: RunDeps): Promise<RunReport> {
  const { clock, logger } = deps;
  const started = clock.now();
  const only = options.only?.length ? new Set(options.only) : undefined;
  const certs = config.certificates.filter((c) => !only || only.has(c.id));

  // One ACME session for the whole run, opened only when a certificate is actually due.
  let session: Promise<AcmeSession> | undefined;
  const acmeSession = () => {
    // Imported here, not at the top: a run where nothing is due never loads the ACME client.
    session ??= Promise.all([deps.adapters.accountStore(), import('./acme.js')]).then(([accounts, { AcmeSession }]) =>
      AcmeSession.open(config.acme, accounts, { clock, logger }),
    );
    return session;
  };
  const owner = `${options.issuedBy.via}:${options.issuedBy.runId}:${randomUUID().slice(0, 8)}`;

  const results = await mapLimit(certs, config.concurrency, (cert) =>
    processCertificate(cert, { config, options, deps, acmeSession, owner }),
  );

  const finished = clock.now();
  const renewAts = results
    .map((r) => r.renewAt)
    .filter((x): x is string => Boolean(x))
    .sort();
  return {
    results,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    dryRun: Boolean(options.dryRun),
    ...(renewAts[0] ? { nextCheck: renewAts[0] } : {}),
    summary: summarize(results),
  };
}

/** What every certificate of one run shares. */
interface RunContext {
  config: Config;
  options: RunOptions;
  deps: RunDeps;
  acmeSession: () => Promise<AcmeSession>;
  /** This run's lease owner name. */
  owner: string;
}

async function processCertificate(cert: CertificateConfig, ctx: RunContext): Promise<CertificateResult> {
  const { clock } = ctx.deps;
  const logger = ctx.deps.logger.child({ certificate: cert.id });
  const t0 = clock.now().getTime();
  const base = { id: cert.id, domains: cert.domains };
  const elapsed = () => clock.now().getTime() - t0;
  let decision: Decision = { due: false, reason: '', health: 'missing' };
  let stored: StoredCertificate | undefined;
  let store: CertificateStore | undefined;
  try {
    store = await ctx.deps.adapters.store(cert);
    const read = await store.read(ctx.options.signal);
    const current = currentState(read);
    stored = current.stored;
    const now = clock.now();
    decision = decide(current.state, cert, ctx.config.renewal, now, ctx.options.force);
    const currentFields =
      current.state.kind === 'found'
        ? {
            notAfter: current.state.info.notAfter.toISOString(),
            daysLeft: daysLeft(current.state.info.notAfter, now),
            serialNumber: current.state.info.serialNumber,
          }
        : {};
    const notDue = (status: 'skipped' | 'would-renew' | 'deferred', reason: string): CertificateResult => ({
      ...base,
      status,
      reason,
      health: decision.health,
      ...currentFields,
      durationMs: elapsed(),
      ...(decision.renewAt ? { renewAt: decision.renewAt.toISOString() } : {}),
      store: { type: store!.type, ref: store!.ref },
    });

    if (!decision.due) {
      logger.debug(`${cert.id}: ${decision.reason}`);
      const result = notDue('skipped', decision.reason);
      if ((decision.health === 'warning' || decision.health === 'critical') && !ctx.options.dryRun) {
        result.hooks = await notifyHooks(cert, 'certificate.expiring', result, stored, undefined, ctx, logger);
      }
      return result;
    }
    if (ctx.options.dryRun) return notDue('would-renew', decision.reason);
    // Interrupted (Ctrl-C, a cancelled job, the Lambda deadline): start nothing new.
    ctx.options.signal?.throwIfAborted();
    const remaining = ctx.options.remainingTimeMs?.();
    if (remaining !== undefined && remaining < (ctx.options.minStartMs ?? 180_000)) {
      return notDue(
        'deferred',
        `due (${decision.reason}), but only ${Math.round(remaining / 1000)} s of the invocation left: the next run renews it`,
      );
    }

    logger.info(`${cert.id}: renewing (${decision.reason})`);
    const outcome = await renewUnderLease(cert, store, stored, ctx, logger);
    if (outcome.kind === 'locked') {
      return {
        ...notDue('skipped', ''),
        status: 'locked',
        reason: `another run holds the lease (${outcome.holder}) until ${outcome.until}`,
      };
    }
    if (outcome.kind === 'renewed-elsewhere') {
      return {
        ...notDue('skipped', `renewed meanwhile by another run (serial ${outcome.serialNumber})`),
        serialNumber: outcome.serialNumber,
        notAfter: outcome.notAfter,
        daysLeft: daysLeft(new Date(outcome.notAfter), clock.now()),
        health: 'ok',
      };
    }
    const info = outcome.info;
    const result: CertificateResult = {
      ...base,
      status: 'renewed',
      reason: decision.reason,
      health: 'ok',
      notAfter: info.notAfter,
      daysLeft: daysLeft(new Date(info.notAfter), clock.now()),
      serialNumber: info.serialNumber,
      durationMs: elapsed(),
      store: { type: store.type, ref: outcome.ref, version: outcome.version },
      renewAt: renewalTime(
        { notBefore: new Date(outcome.written.notBefore), notAfter: new Date(info.notAfter) },
        ctx.config.renewal,
      ).toISOString(),
    };
    logger.info(`${cert.id}: renewed, serial ${info.serialNumber}, valid until ${info.notAfter}`);
    result.hooks = await notifyHooks(cert, 'certificate.renewed', result, stored, outcome.written, ctx, logger);
    if (result.hooks.length === 0) delete result.hooks;
    result.durationMs = elapsed();
    return result;
  } catch (error) {
    const info = toErrorInfo(error);
    logger.error(`${cert.id}: failed [${info.class}] ${info.message}`);
    if (info.class === 'internal' && error instanceof Error && error.stack) logger.debug(error.stack);
    const result: CertificateResult = {
      ...base,
      status: 'failed',
      reason: decision.reason || 'error',
      health: decision.health,
      ...(stored
        ? {
            notAfter: stored.notAfter,
            daysLeft: daysLeft(new Date(stored.notAfter), clock.now()),
            serialNumber: stored.serialNumber,
          }
        : {}),
      durationMs: elapsed(),
      error: info,
      ...(store ? { store: { type: store.type, ref: store.ref } } : {}),
    };
    const hooks = await notifyHooks(cert, 'certificate.renewal_failed', result, stored, undefined, ctx, logger).catch(
      () => [],
    );
    if (hooks.length) result.hooks = hooks;
    return result;
  }
}

type RenewOutcome =
  | { kind: 'locked'; holder: string; until: string }
  | { kind: 'renewed-elsewhere'; serialNumber: string; notAfter: string }
  | {
      kind: 'renewed';
      info: { serialNumber: string; notAfter: string };
      ref: string;
      version: string;
      written: StoredCertificate;
    };

async function renewUnderLease(
  cert: CertificateConfig,
  store: CertificateStore,
  previous: StoredCertificate | undefined,
  ctx: RunContext,
  logger: Logger,
): Promise<RenewOutcome> {
  const { clock } = ctx.deps;
  const ttl = ctx.config.leaseTtlMs;
  const provider = await ctx.deps.adapters.dns(cert);
  const acquired = await store.acquireLease(ctx.owner, ttl, async (stale) => {
    // A run that died mid-way left these records; remove them before taking over.
    if (stale.records.length > 0) {
      logger.warn(
        `${cert.id}: breaking an expired lease of ${stale.owner}; removing ${stale.records.length} TXT value(s) it left`,
      );
      await provider.cleanup(stale.records);
    }
  });
  if (acquired.kind === 'locked') {
    return { kind: 'locked', holder: acquired.holder.owner, until: acquired.holder.expiresAt };
  }
  const lease = acquired.lease;
  const stopExtending = keepExtended(lease, ttl, clock, logger);
  try {
    // Another run may have renewed between our read and taking the lease: read again under it,
    // so that concurrent runs issue each certificate once.
    const again = await store.read(ctx.options.signal);
    const serialNow = again.kind === 'found' ? again.certificate.serialNumber : undefined;
    if (serialNow !== previous?.serialNumber && serialNow !== undefined) {
      return {
        kind: 'renewed-elsewhere',
        serialNumber: serialNow,
        notAfter: (again as { certificate: StoredCertificate }).certificate.notAfter,
      };
    }
    const acme = await ctx.acmeSession();
    const { issueCertificate } = await import('./issue.js');
    const issued = await issueCertificate(
      { domains: cert.domains, keyType: cert.keyType, dns: cert.dns },
      {
        acme,
        provider,
        clock,
        logger,
        lookup: ctx.deps.adapters.lookup,
        saveLeaseRecords: (records: TxtRecord[]) => lease.update(records, ttl),
        ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
        ...(ctx.deps.acmeTimeoutMs ? { acmeTimeoutMs: ctx.deps.acmeTimeoutMs } : {}),
      },
    );
    const { bundle } = issued;
    const info = bundle.info;
    const exportsMap: Record<string, string> = { ...(previous?.exports ?? {}) };
    let exportError: unknown;
    for (const exporter of await ctx.deps.adapters.exporters(cert)) {
      try {
        exportsMap[exporter.type] = await exporter.export(
          toStored(cert, bundle, issued.privateKey, ctx.options.issuedBy, clock.now(), exportsMap),
          exportsMap[exporter.type],
        );
      } catch (error) {
        exportError ??= error;
        logger.error(`${cert.id}: export ${exporter.type} failed: ${(error as Error).message}`);
      }
    }
    const record = toStored(cert, bundle, issued.privateKey, ctx.options.issuedBy, clock.now(), exportsMap);
    const written = await writeWithRetries(store, record, clock, logger, ctx.options.signal);
    if (exportError) {
      throw new StoreError(`stored the new certificate, but an export failed: ${(exportError as Error).message}`, {
        cause: exportError,
        hint: 'the store holds the new certificate; fix the export target and run again with force',
      });
    }
    return {
      kind: 'renewed',
      info: { serialNumber: info.serialNumber, notAfter: info.notAfter.toISOString() },
      ref: written.ref,
      version: written.version,
      written: record,
    };
  } finally {
    stopExtending();
    try {
      await lease.release();
    } catch (error) {
      logger.warn(`${cert.id}: could not release the lease (it expires by itself): ${(error as Error).message}`);
    }
  }
}

function toStored(
  cert: CertificateConfig,
  bundle: Awaited<ReturnType<typeof issueCertificate>>['bundle'],
  privateKey: string,
  issuedBy: IssuedBy,
  now: Date,
  exportsMap: Record<string, string>,
): StoredCertificate {
  return {
    format: 'certkeeper/v1',
    id: cert.id,
    domains: cert.domains,
    certificate: bundle.certificate,
    chain: bundle.chain,
    fullchain: bundle.fullchain,
    privateKey,
    keyType: cert.keyType,
    serialNumber: bundle.info.serialNumber,
    notBefore: bundle.info.notBefore.toISOString(),
    notAfter: bundle.info.notAfter.toISOString(),
    issuer: bundle.info.issuer,
    issuedAt: now.toISOString(),
    issuedBy,
    ...(Object.keys(exportsMap).length ? { exports: exportsMap } : {}),
  };
}

/** An issued certificate is never thrown away for a passing store error: retry within the run. */
async function writeWithRetries(
  store: CertificateStore,
  record: StoredCertificate,
  clock: Clock,
  logger: Logger,
  signal?: AbortSignal,
) {
  try {
    return await retry(() => store.write(record, signal), {
      clock,
      tries: STORE_WRITE_TRIES,
      backoff: STORE_RETRY_DELAYS,
      retryable: () => true,
      onRetry: (error) => logger.warn(`${record.id}: store write failed, retrying: ${(error as Error).message}`),
    });
  } catch (error) {
    if (error instanceof CertkeeperError) throw error;
    throw new StoreError(`${store.type}: writing the new certificate failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Extends the lease at a third of its TTL while work goes on. */
function keepExtended(lease: Lease, ttlMs: number, clock: Clock, logger: Logger): () => void {
  const controller = new AbortController();
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        await clock.sleep(Math.max(1000, ttlMs / 3), controller.signal);
        await lease.extend(ttlMs);
      } catch (error) {
        if (controller.signal.aborted) return;
        logger.warn(`lease: extension failed: ${(error as Error).message}`);
      }
    }
  })();
  return () => controller.abort();
}

/** Builds the event for this result and runs the certificate's hooks that selected it. */
async function notifyHooks(
  cert: CertificateConfig,
  type: EventType,
  result: CertificateResult,
  previous: StoredCertificate | undefined,
  written: StoredCertificate | undefined,
  ctx: RunContext,
  logger: Logger,
): Promise<HookResult[]> {
  const hooks = await ctx.deps.adapters.hooks(cert);
  if (hooks.length === 0) return [];
  const event = buildEvent(
    type,
    {
      certificate: cert.id,
      domains: cert.domains,
      ...(result.serialNumber ? { serialNumber: result.serialNumber } : {}),
      ...(written ? { notBefore: written.notBefore } : {}),
      ...(result.notAfter ? { notAfter: result.notAfter } : {}),
      ...(previous && written
        ? { previous: { serialNumber: previous.serialNumber, notAfter: previous.notAfter } }
        : {}),
      ...(result.store ? { store: result.store } : {}),
      ...(result.error ? { error: { class: result.error.class, message: result.error.message } } : {}),
    },
    { clock: ctx.deps.clock },
  );
  const pems = written
    ? {
        certificate: written.certificate,
        chain: written.chain,
        fullchain: written.fullchain,
        privateKey: written.privateKey,
      }
    : undefined;
  return runHooks(hooks, event, pems ? { pems } : {}, {
    logger,
    ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
  });
}
