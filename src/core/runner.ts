import { randomUUID } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import type { AdapterFactory } from '../ports/adapter.js';
import type { Clock } from '../ports/clock.js';
import type { CertificateConfig, Config } from '../ports/config.js';
import type { DnsProvider, TxtRecord } from '../ports/dns.js';
import { formatDuration } from '../ports/duration.js';
import { AcmeError, CertkeeperError, StoreError, toErrorInfo } from '../ports/errors.js';
import type { EventType } from '../ports/hooks.js';
import type { Logger } from '../ports/logger.js';
import { retry } from '../ports/retry.js';
import type {
  AriState,
  CertificateStore,
  FailureState,
  IssuedBy,
  Lease,
  RenewalState,
  StoredCertificate,
} from '../ports/store.js';
import type { AcmeSession } from './acme.js';
import { AcmeDirectoryClient, unknownProfile } from './acme-directory.js';
import { ariCertId, ariFetchDue, nextAriState } from './ari.js';
import { backoffDeferral, countsAsFailure, nextFailureState } from './backoff.js';
import { parseCertificate } from './certinfo.js';
import { buildEvent } from './events.js';
import { runHooks } from './hooks.js';
import type { issueCertificate } from './issue.js';
import { type CurrentState, type Decision, daysLeft, decide, renewalTime } from './plan.js';
import {
  type CertificateResult,
  type HookResult,
  type OrderBudgetReport,
  type RunReport,
  summarize,
} from './results.js';

export interface RunOptions {
  /**
   * Decide and report; order nothing, and write nothing but the CA's renewal windows it had to ask
   * for (with the time drawn in them), so that the run after a plan agrees with it.
   */
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
  /** For tests: the renewalInfo deadline (default 10 s). */
  ariTimeoutMs?: number;
  /** Draws the renewal time in the CA's window (default Math.random). */
  random?: () => number;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order of results. */
export function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return mapWithSlots(items, limit, async (item, slot, index) => {
    await slot.acquire();
    return fn(item, index);
  });
}

/** One item's share of `mapWithSlots`' `limit`: taken for a phase of its work, given back after. */
export interface Slot {
  /** Waits for one of the `limit` slots (first come, first served); once per item. */
  acquire(): Promise<void>;
  /** Gives the slot back (also done when the item ends); harmless when not held. */
  release(): void;
}

/**
 * Runs `fn` over `items`, results in order, at most `2 × limit` items in flight. Of those, at most
 * `limit` hold a slot at once: an item takes one (`slot.acquire()`) for the phase that must be
 * bounded and gives it back when that phase ends. At most `limit` items work towards a slot at
 * once, so the first ones reach theirs uncontended and the next ones work ahead meanwhile. The
 * run holds a slot from publishing a certificate's challenges until they are valid: the next
 * certificates place their orders while earlier ones wait for DNS, and one past its challenges
 * finalizes, stores and deploys without one.
 */
export async function mapWithSlots<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, slot: Slot, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let free = limit;
  const waiting: (() => void)[] = [];
  const giveBack = () => {
    const granted = waiting.shift();
    if (granted) granted();
    else free++;
  };
  // At most `limit` items are working towards their slot (those waiting for one not counted):
  // the first ones reach their slots uncontended, and the next ones order while those hold them.
  let ahead = 0;
  const roomAhead: (() => void)[] = [];
  const leaveAhead = () => {
    ahead--;
    roomAhead.shift()?.();
  };
  const workers = Array.from({ length: Math.min(2 * limit, items.length) }, async () => {
    for (;;) {
      while (ahead >= limit) await new Promise<void>((go) => roomAhead.push(go));
      if (next >= items.length) {
        roomAhead.shift()?.();
        return;
      }
      const i = next++;
      ahead++;
      let state: 'ahead' | 'waiting' | 'held' | 'done' = 'ahead';
      let ended = false;
      const slot: Slot = {
        async acquire() {
          if (state !== 'ahead') return;
          state = 'waiting';
          leaveAhead();
          if (free > 0) free--;
          else await new Promise<void>((granted) => waiting.push(granted));
          state = 'held';
          // Granted after the item ended without waiting for it: not kept.
          if (ended) slot.release();
        },
        release() {
          if (state !== 'held') return;
          state = 'done';
          giveBack();
        },
      };
      try {
        results[i] = await fn(items[i] as T, slot, i);
      } finally {
        ended = true;
        if (state === 'ahead') {
          state = 'done';
          leaveAhead();
        } else slot.release();
      }
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
      state: {
        kind: 'found',
        info,
        domains: read.certificate.domains,
        keyType: info.keyType,
        ...(read.certificate.profile ? { profile: read.certificate.profile } : {}),
      },
      stored: read.certificate,
    };
  } catch (error) {
    return { state: { kind: 'unreadable', reason: `certificate does not parse: ${(error as Error).message}` } };
  }
}

const STORE_RETRY_DELAYS = [500, 2000, 5000] as const;
const STORE_WRITE_TRIES = STORE_RETRY_DELAYS.length + 1;
/** renewalInfo failures in a row (timeouts, unreachable) after which a run stops asking. */
const ARI_UNREACHABLE_LIMIT = 2;

/**
 * One run over the configured certificates (PRODUCT §1). One certificate's failure never stops the
 * others. Two passes: every certificate is read and decided first (threshold, ARI, backoff), so
 * the order budget is reserved once for all that would order and goes to the most urgent; then
 * the due ones are worked on, most urgent first.
 */
export async function run(config: Config, options: RunOptions, deps: RunDeps): Promise<RunReport> {
  const { clock, logger } = deps;
  const started = clock.now();
  if (options.signal) allowListeners(options.signal, config.concurrency);
  const only = options.only?.length ? new Set(options.only) : undefined;
  const certs = config.certificates.filter((c) => !only || only.has(c.id));

  // The directory and renewalInfo need no account and no acme-client: a run that only asks the CA
  // when to renew never loads either.
  const ca = new AcmeDirectoryClient(config.acme, { clock, logger });
  // One ACME session for the whole run, opened only when a certificate is actually ordered.
  let session: Promise<AcmeSession> | undefined;
  const acmeSession = () => {
    // Imported here, not at the top: a run where nothing is due never loads the ACME client.
    session ??= Promise.all([deps.adapters.accountStore(), import('./acme.js')]).then(([accounts, { AcmeSession }]) =>
      AcmeSession.open(config.acme, accounts, { clock, logger }, ca),
    );
    return session;
  };
  const owner = `${options.issuedBy.via}:${options.issuedBy.runId}:${randomUUID().slice(0, 8)}`;
  const ctx: RunContext = { config, options, deps, ca, acmeSession, owner, ari: { unreachable: 0, off: false } };

  const assessed = await mapLimit(certs, config.concurrency, (cert) => assess(cert, ctx));
  const ordering = assessed.filter((a): a is Assessed => a.kind === 'assessed' && a.decision.due && !a.deferral);
  ordering.sort(byUrgency);
  const budget = await reserveBudget(ordering, ctx);

  let results: CertificateResult[];
  try {
    // The most urgent start first: the Lambda deadline and a CA rate limit stop the least urgent.
    const first = new Set<Assessment>(ordering);
    const queue = [...ordering, ...assessed.filter((a) => !first.has(a))];
    const byCert = new Map<Assessment, CertificateResult>();
    // A certificate holds a slot from publishing its challenges until they are valid: the next
    // ones order meanwhile, and its finalize, store and hooks overlap the next one's DNS wait.
    await mapWithSlots(queue, config.concurrency, async (a, slot) => {
      if (a.kind === 'assessed') a.slot = slot;
      byCert.set(a, await finish(a, ctx));
    });
    results = assessed.map((a) => byCert.get(a) as CertificateResult);
  } finally {
    if (budget?.reservation) await releaseUnused(budget.reservation, session, ctx);
  }

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
    ...(budget ? { orderBudget: budget.report } : {}),
    summary: summarize(results),
  };
}

/**
 * Each certificate in flight (at most 2 × concurrency) listens to the run's signal while it waits
 * (the zone's write queue, INSYNC, the CA's validation): a fleet holds dozens of listeners at once,
 * each removed when its wait ends. Node warns past 10 ("MaxListenersExceededWarning: Possible
 * EventTarget memory leak"); the limit is raised to what the run may hold, so a real leak still warns.
 */
function allowListeners(signal: AbortSignal, concurrency: number): void {
  const current = getMaxListeners(signal);
  const needed = 8 * concurrency + 10;
  if (current !== 0 && current < needed) setMaxListeners(needed, signal);
}

/** What every certificate of one run shares. */
interface RunContext {
  config: Config;
  options: RunOptions;
  deps: RunDeps;
  ca: AcmeDirectoryClient;
  acmeSession: () => Promise<AcmeSession>;
  /** This run's lease owner name. */
  owner: string;
  /** renewalInfo failures in a row that say the CA is unreachable; `off` once there were too many. */
  ari: { unreachable: number; off: boolean };
  /** Set once the CA rate-limits new orders for the whole account: no new order for the rest of the run. */
  accountLimit?: { until?: string };
}

/** A certificate read and decided, not yet worked on. */
interface Assessed {
  kind: 'assessed';
  cert: CertificateConfig;
  store: CertificateStore;
  stored?: StoredCertificate;
  state: CurrentState;
  decision: Decision;
  /** The stored certificate's RFC 9773 id (absent: none stored, or it has no AKI). */
  certId?: string;
  /** The failure part of the renewal state, as read. */
  failures?: FailureState;
  /** Due, but not attempted in this run (backoff, the order budget): why, and until when. */
  deferral?: { reason: string; until?: string };
  startedAt: number;
  /** This certificate's concurrency slot: taken before its challenges are published, given back once they are valid. */
  slot?: Slot;
}

type Assessment = Assessed | { kind: 'done'; result: CertificateResult };

/** Missing (or unreadable: no notAfter) first, then the earliest notAfter; ids break ties. */
function byUrgency(a: Assessed, b: Assessed): number {
  const at = (x: Assessed) => (x.state.kind === 'found' ? x.state.info.notAfter.getTime() : Number.NEGATIVE_INFINITY);
  if (at(a) !== at(b)) return at(a) < at(b) ? -1 : 1;
  return a.cert.id < b.cert.id ? -1 : a.cert.id > b.cert.id ? 1 : 0;
}

/** Reads the certificate and decides whether it is due: threshold, the CA's window, failure backoff. */
async function assess(cert: CertificateConfig, ctx: RunContext): Promise<Assessment> {
  const { clock } = ctx.deps;
  const logger = ctx.deps.logger.child({ certificate: cert.id });
  const startedAt = clock.now().getTime();
  let store: CertificateStore | undefined;
  let stored: StoredCertificate | undefined;
  try {
    store = await ctx.deps.adapters.store(cert);
    const current = currentState(await store.read(ctx.options.signal));
    stored = current.stored;
    const { renewal } = ctx.config;
    const force = Boolean(ctx.options.force);
    const certId = current.state.kind === 'found' && renewal.ari && stored ? certIdOf(stored) : undefined;
    let kept: RenewalState | undefined;
    if (certId) kept = await readState(store, cert, logger, ctx.options.signal);
    const fresh = certId && kept?.ari && !ariFetchDue(kept.ari, certId, clock.now()) ? kept.ari : undefined;
    let decision = decide(current.state, cert, renewal, clock.now(), {
      force,
      ...(fresh && certId ? { ari: { state: fresh, certId } } : {}),
    });
    // Asked only when nothing else makes it due, and at most once per Retry-After (every entry
    // point reads the window kept in the store).
    if (!decision.due && certId && !fresh) {
      const window = await refreshWindow(store, cert, certId, kept?.ari, ctx, logger);
      if (window)
        decision = decide(current.state, cert, renewal, clock.now(), { force, ari: { state: window, certId } });
    }
    const assessed: Assessed = {
      kind: 'assessed',
      cert,
      store,
      state: current.state,
      decision,
      startedAt,
      ...(stored ? { stored } : {}),
      ...(certId ? { certId } : {}),
    };
    if (decision.due) {
      kept ??= await readState(store, cert, logger, ctx.options.signal);
      if (kept.failures) assessed.failures = kept.failures;
      const backoff = force ? undefined : backoffDeferral(kept.failures, clock.now());
      if (backoff) assessed.deferral = backoff;
    }
    return assessed;
  } catch (error) {
    return { kind: 'done', result: await failedResult(error, cert, store, stored, '', startedAt, ctx, logger) };
  }
}

/** The renewal state, or nothing when it cannot be read: it may defer or speed up a renewal, never stop one. */
async function readState(
  store: CertificateStore,
  cert: CertificateConfig,
  logger: Logger,
  signal?: AbortSignal,
): Promise<RenewalState> {
  try {
    return await store.readState(signal);
  } catch (error) {
    logger.warn(`${cert.id}: cannot read the renewal state (no backoff, no kept window): ${(error as Error).message}`);
    return {};
  }
}

/**
 * Asks the CA for the certificate's window (RFC 9773) and keeps it with the time drawn in it,
 * which survives as long as the window does. Any failure is logged and gives undefined: the
 * threshold decides alone, so ARI never blocks or delays a renewal.
 */
async function refreshWindow(
  store: CertificateStore,
  cert: CertificateConfig,
  certId: string,
  previous: AriState | undefined,
  ctx: RunContext,
  logger: Logger,
): Promise<AriState | undefined> {
  if (ctx.ari.off) return undefined;
  let offered: boolean;
  try {
    offered = Boolean((await ctx.ca.directory()).renewalInfo);
  } catch (error) {
    ctx.ari.off = true;
    logger.warn(`ARI: ${(error as Error).message}; the threshold decides for this run`);
    return undefined;
  }
  // A CA without ARI: the threshold decides, as it always did.
  if (!offered) return undefined;
  const answer = await ctx.ca.renewalInfo(certId, {
    ...(ctx.deps.ariTimeoutMs ? { timeoutMs: ctx.deps.ariTimeoutMs } : {}),
  });
  if (!answer.ok) {
    logger.warn(`${cert.id}: ARI: ${answer.message}; the threshold decides`);
    if (answer.failure === 'timeout' || answer.failure === 'network') {
      if (++ctx.ari.unreachable >= ARI_UNREACHABLE_LIMIT && !ctx.ari.off) {
        ctx.ari.off = true;
        logger.warn(`ARI: renewalInfo failed ${ctx.ari.unreachable} times in a row; not asking again in this run`);
      }
    }
    return undefined;
  }
  ctx.ari.unreachable = 0;
  const next = nextAriState(previous, certId, answer.window, answer.nextFetch, ctx.deps.random ?? Math.random);
  if (previous?.selected !== next.selected) {
    logger.info(
      `${cert.id}: the CA's renewal window is ${next.start} – ${next.end}; renewal time drawn: ${next.selected}`,
    );
  }
  try {
    await store.writeState({ ari: next }, ctx.options.signal);
  } catch (error) {
    logger.warn(`${cert.id}: cannot keep the renewal window (the next run asks again): ${(error as Error).message}`);
  }
  return next;
}

/**
 * Reserves the orders of this run from the account's order budget, in one go (the Secrets
 * Manager ledger is a secret: a version per reservation, not per order). `ordering` is most
 * urgent first; those past what was granted are deferred. A dry run only reads the window. A
 * ledger that cannot be read or written must not stop renewals: the run then orders without it
 * (the CA's own limit still applies, and stops the run's orders once it answers).
 */
async function reserveBudget(
  ordering: Assessed[],
  ctx: RunContext,
): Promise<{ report: OrderBudgetReport; reservation?: { id: string; granted: number } } | undefined> {
  const budget = ctx.config.acme.orderBudget;
  if (!budget || ordering.length === 0) return undefined;
  const { logger, clock } = ctx.deps;
  const url = ctx.config.acme.directoryUrl;
  let usedBefore: number;
  let granted: number;
  let freesAt: string | undefined;
  let reservation: { id: string; granted: number } | undefined;
  try {
    const accounts = await ctx.deps.adapters.accountStore();
    if (ctx.options.dryRun) {
      const usage = await accounts.ordersInWindow(url, budget);
      usedBefore = usage.used;
      granted = Math.max(0, Math.min(ordering.length, budget.orders - usage.used));
      freesAt = usage.freesAt;
    } else {
      const r = await accounts.reserveOrders(url, ordering.length, budget, ctx.owner);
      usedBefore = r.used - r.granted;
      granted = r.granted;
      freesAt = r.freesAt;
      if (r.id && r.granted > 0) reservation = { id: r.id, granted: r.granted };
    }
  } catch (error) {
    logger.warn(`order budget: ${(error as Error).message}; ordering without it in this run`);
    return undefined;
  }
  const over = ordering.slice(granted);
  const until = freesAt ?? new Date(clock.now().getTime() + budget.perMs).toISOString();
  for (const a of over) {
    a.deferral = {
      reason: `order budget of ${budget.orders} per ${formatDuration(budget.perMs)} used up until ${until}`,
      until,
    };
  }
  if (over.length) {
    logger.warn(
      `order budget: ${granted} of ${ordering.length} due certificate(s) may order now; the rest wait until ${until}`,
    );
  }
  return {
    report: {
      orders: budget.orders,
      perMs: budget.perMs,
      usedBefore,
      granted,
      deferred: over.length,
      ...(over.length ? { freesAt: until } : {}),
    },
    ...(reservation ? { reservation } : {}),
  };
}

/** Gives back the orders reserved but not placed (not due after all, locked, failed before ordering). */
async function releaseUnused(
  reservation: { id: string; granted: number },
  session: Promise<AcmeSession> | undefined,
  ctx: RunContext,
): Promise<void> {
  const placed = session ? await session.then((s) => s.ordersCreated).catch(() => 0) : 0;
  const unused = reservation.granted - placed;
  if (unused <= 0) return;
  try {
    const accounts = await ctx.deps.adapters.accountStore();
    await accounts.releaseOrders(ctx.config.acme.directoryUrl, reservation.id, unused);
  } catch (error) {
    ctx.deps.logger.warn(
      `order budget: could not give back ${unused} unused order(s); they count until the window passes: ${(error as Error).message}`,
    );
  }
}

/** Works on one assessed certificate: reports it, or renews it. */
async function finish(a: Assessment, ctx: RunContext): Promise<CertificateResult> {
  if (a.kind === 'done') return a.result;
  const { cert, store, stored, decision } = a;
  const { clock } = ctx.deps;
  const logger = ctx.deps.logger.child({ certificate: cert.id });
  const elapsed = () => clock.now().getTime() - a.startedAt;
  const base = { id: cert.id, domains: cert.domains, ...(cert.profile ? { profile: cert.profile } : {}) };
  try {
    const now = clock.now();
    const currentFields =
      a.state.kind === 'found'
        ? {
            notAfter: a.state.info.notAfter.toISOString(),
            daysLeft: daysLeft(a.state.info.notAfter, now),
            serialNumber: a.state.info.serialNumber,
          }
        : {};
    const notDue = (
      status: 'skipped' | 'would-renew' | 'deferred',
      reason: string,
      renewAt = decision.renewAt?.toISOString(),
    ): CertificateResult => ({
      ...base,
      status,
      reason,
      health: decision.health,
      ...currentFields,
      durationMs: elapsed(),
      ...(renewAt ? { renewAt } : {}),
      ...(decision.renewalWindow ? { renewalWindow: decision.renewalWindow } : {}),
      store: { type: store.type, ref: store.ref },
    });
    const expiring = async (result: CertificateResult) => {
      if (['warning', 'critical', 'expired'].includes(result.health) && !ctx.options.dryRun) {
        result.hooks = await notifyHooks(cert, 'certificate.expiring', result, stored, undefined, ctx, logger);
        if (result.hooks.length === 0) delete result.hooks;
      }
      return result;
    };
    const deferred = (reason: string, until?: string) => {
      logger.warn(`${cert.id}: deferred: ${reason}`);
      return expiring(notDue('deferred', `due (${decision.reason}), but ${reason}`, until));
    };

    if (!decision.due) {
      logger.debug(`${cert.id}: ${decision.reason}`);
      return await expiring(notDue('skipped', decision.reason));
    }
    if (a.deferral) return await deferred(a.deferral.reason, a.deferral.until);
    if (ctx.options.dryRun) return notDue('would-renew', decision.reason);
    // Interrupted (Ctrl-C, a cancelled job, the Lambda deadline): start nothing new.
    ctx.options.signal?.throwIfAborted();
    const remaining = tooLittleTimeLeft(ctx);
    if (remaining !== undefined) {
      return await deferred(`only ${Math.round(remaining / 1000)} s of the invocation left: the next run renews it`);
    }
    if (ctx.accountLimit) {
      const until = ctx.accountLimit.until;
      return await deferred(
        `the CA rate-limits new orders for this account${until ? ` until ${until}` : ''}: no new order in this run`,
        until,
      );
    }

    logger.info(`${cert.id}: renewing (${decision.reason})`);
    const outcome = await renewUnderLease(a, ctx, logger);
    if (outcome.kind === 'locked') {
      return {
        ...notDue('skipped', ''),
        status: 'locked',
        reason: `another run holds the lease (${outcome.holder}) until ${outcome.until}`,
      };
    }
    if (outcome.kind === 'backing-off') return await deferred(outcome.reason, outcome.until);
    if (outcome.kind === 'out-of-time') {
      return await deferred(
        `only ${Math.round(outcome.remainingMs / 1000)} s of the invocation left when its turn came: the next run renews it`,
      );
    }
    if (outcome.kind === 'renewed-elsewhere') {
      const { renewalWindow: _, ...rest } = notDue(
        'skipped',
        `renewed meanwhile by another run (serial ${outcome.serialNumber})`,
      );
      return {
        ...rest,
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
      // The window that asked for this renewal (the new certificate's own comes with the next run).
      ...(decision.byAri && decision.renewalWindow ? { renewalWindow: decision.renewalWindow } : {}),
    };
    logger.info(`${cert.id}: renewed, serial ${info.serialNumber}, valid until ${info.notAfter}`);
    result.hooks = await notifyHooks(cert, 'certificate.renewed', result, stored, outcome.written, ctx, logger);
    if (result.hooks.length === 0) delete result.hooks;
    result.durationMs = elapsed();
    return result;
  } catch (error) {
    return failedResult(error, cert, store, stored, decision.reason, a.startedAt, ctx, logger, decision);
  }
}

async function failedResult(
  error: unknown,
  cert: CertificateConfig,
  store: CertificateStore | undefined,
  stored: StoredCertificate | undefined,
  reason: string,
  startedAt: number,
  ctx: RunContext,
  logger: Logger,
  decision?: Decision,
): Promise<CertificateResult> {
  const { clock } = ctx.deps;
  const info = toErrorInfo(error);
  logger.error(`${cert.id}: failed [${info.class}] ${info.message}`);
  if (info.class === 'internal' && error instanceof Error && error.stack) logger.debug(error.stack);
  const result: CertificateResult = {
    id: cert.id,
    status: 'failed',
    reason: reason || 'error',
    domains: cert.domains,
    ...(cert.profile ? { profile: cert.profile } : {}),
    health: decision?.health ?? 'missing',
    ...(stored
      ? {
          notAfter: stored.notAfter,
          daysLeft: daysLeft(new Date(stored.notAfter), clock.now()),
          serialNumber: stored.serialNumber,
        }
      : {}),
    durationMs: clock.now().getTime() - startedAt,
    ...(decision?.renewalWindow ? { renewalWindow: decision.renewalWindow } : {}),
    error: info,
    ...(store ? { store: { type: store.type, ref: store.ref } } : {}),
  };
  const hooks = await notifyHooks(cert, 'certificate.renewal_failed', result, stored, undefined, ctx, logger).catch(
    () => [],
  );
  if (hooks.length) result.hooks = hooks;
  return result;
}

type RenewOutcome =
  | { kind: 'locked'; holder: string; until: string }
  | { kind: 'out-of-time'; remainingMs: number }
  | { kind: 'renewed-elsewhere'; serialNumber: string; notAfter: string }
  | { kind: 'backing-off'; reason: string; until: string }
  | {
      kind: 'renewed';
      info: { serialNumber: string; notAfter: string };
      ref: string;
      version: string;
      written: StoredCertificate;
    };

async function renewUnderLease(a: Assessed, ctx: RunContext, logger: Logger): Promise<RenewOutcome> {
  const { cert, store, stored: previous } = a;
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
    // …or failed meanwhile: its failure counts, and may start a backoff.
    const failures = (await readState(store, cert, logger, ctx.options.signal)).failures ?? a.failures;
    const backoff = ctx.options.force ? undefined : backoffDeferral(failures, clock.now());
    if (backoff) return { kind: 'backing-off', ...backoff };
    try {
      return await attempt(a, provider, lease, failures, ctx, logger);
    } catch (error) {
      if (error instanceof OutOfTimeAtSlot) return { kind: 'out-of-time', remainingMs: error.remainingMs };
      await countFailure(error, a, failures, ctx, logger);
      throw error;
    }
  } finally {
    stopExtending();
    try {
      await lease.release();
    } catch (error) {
      logger.warn(`${cert.id}: could not release the lease (it expires by itself): ${(error as Error).message}`);
    }
  }
}

function certIdOf(stored: StoredCertificate): string | undefined {
  try {
    return ariCertId(stored.certificate);
  } catch {
    return undefined;
  }
}

/**
 * Its turn came (a concurrency slot) with less than `minStartMs` of the invocation left: its order
 * was placed ahead, but nothing is published; the next run renews it. Not a failure.
 */
class OutOfTimeAtSlot extends Error {
  constructor(readonly remainingMs: number) {
    super(`only ${Math.round(remainingMs / 1000)} s of the invocation left`);
  }
}

/**
 * Waits for a concurrency slot; then, as at a certificate's start, nothing new begins with less
 * than `minStartMs` of a Lambda invocation left (its order was placed ahead, possibly a wave ago).
 */
async function takeSlot(slot: Slot, ctx: RunContext): Promise<void> {
  await slot.acquire();
  const remaining = tooLittleTimeLeft(ctx);
  if (remaining !== undefined) throw new OutOfTimeAtSlot(remaining);
}

/** The time left in a Lambda invocation when it is under `minStartMs` (nothing new starts then). */
function tooLittleTimeLeft(ctx: RunContext): number | undefined {
  const remaining = ctx.options.remainingTimeMs?.();
  return remaining !== undefined && remaining < (ctx.options.minStartMs ?? 180_000) ? remaining : undefined;
}

/** One attempt at the CA, under the lease: order, validate, store, export. */
async function attempt(
  a: Assessed,
  provider: DnsProvider,
  lease: Lease,
  failures: FailureState | undefined,
  ctx: RunContext,
  logger: Logger,
): Promise<RenewOutcome> {
  const { cert, store, stored: previous } = a;
  const { clock } = ctx.deps;
  const ttl = ctx.config.leaseTtlMs;
  const directory = await ctx.ca.directory();
  // Before any order, and before an account is loaded or registered.
  const unknown = cert.profile ? unknownProfile(directory, cert.profile) : undefined;
  if (unknown) throw unknown;
  // RFC 9773 §5: a renewal names the certificate it replaces when the CA offers ARI, whatever
  // `renewal.ari` says (renewals inside the window are exempt from rate limits).
  const replaces = directory.renewalInfo && previous ? (a.certId ?? certIdOf(previous)) : undefined;
  const acme = await ctx.acmeSession();
  const { issueCertificate } = await import('./issue.js');
  const issued = await issueCertificate(
    {
      domains: cert.domains,
      keyType: cert.keyType,
      dns: cert.dns,
      ...(cert.profile ? { profile: cert.profile } : {}),
      ...(replaces ? { replaces } : {}),
    },
    {
      acme,
      provider,
      clock,
      logger,
      lookup: ctx.deps.adapters.lookup,
      saveLeaseRecords: (records: TxtRecord[]) => lease.update(records, ttl),
      ...(a.slot ? { beforeChallenges: () => takeSlot(a.slot as Slot, ctx), onValidated: a.slot.release } : {}),
      ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
      ...(ctx.deps.acmeTimeoutMs ? { acmeTimeoutMs: ctx.deps.acmeTimeoutMs } : {}),
    },
  );
  if (issued.replaces?.accepted) logger.info(`${cert.id}: ordered as the replacement of ${issued.replaces.certId}`);
  else if (issued.replaces) {
    logger.warn(
      `${cert.id}: the CA refused replaces=${issued.replaces.certId} (${issued.replaces.refusal}); ordered without it`,
    );
  }
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
  // Issued and stored: the backoff is over, and the old certificate's window means nothing now.
  if (failures || a.certId) {
    try {
      await store.writeState({ failures: null, ari: null }, ctx.options.signal);
    } catch (error) {
      logger.warn(`${cert.id}: could not clear the renewal state: ${(error as Error).message}`);
    }
  }
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
}

/**
 * Counts a failed attempt in the certificate's store, so every entry point backs off from it; a
 * CA rate limit on the whole account also stops the run's further orders. Not counted: config
 * errors (see countsAsFailure), an attempt the run itself interrupted, and an export failure
 * after the new certificate was stored (the CA's part succeeded).
 */
async function countFailure(
  error: unknown,
  a: Assessed,
  failures: FailureState | undefined,
  ctx: RunContext,
  logger: Logger,
): Promise<void> {
  if (error instanceof AcmeError && error.limitScope === 'account') {
    ctx.accountLimit ??= error.retryAfter ? { until: error.retryAfter.toISOString() } : {};
  }
  const info = toErrorInfo(error);
  if (!countsAsFailure(info) || ctx.options.signal?.aborted) return;
  if (error instanceof StoreError && /^stored the new certificate/.test(error.message)) return;
  const next = nextFailureState(failures, info, ctx.deps.clock.now(), ctx.config.renewal.failureBackoffMs);
  try {
    await a.store.writeState({ failures: next }, ctx.options.signal);
    logger.info(`${a.cert.id}: failed attempt ${next.count}; the next one not before ${next.nextAttempt}`);
  } catch (writeError) {
    logger.warn(`${a.cert.id}: could not record the failed attempt: ${(writeError as Error).message}`);
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
    ...(cert.profile ? { profile: cert.profile } : {}),
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
      ...(result.renewalWindow ? { renewalWindow: result.renewalWindow } : {}),
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
