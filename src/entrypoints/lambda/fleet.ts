import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { powertoolsLogger } from '../../adapters/logging/powertools.js';
import { createAdapters } from '../../adapters/registry.js';
import {
  type FleetBatch,
  type FleetPlan,
  type FleetReport,
  MIN_START_MS,
  mergeFleet,
  planFleet,
} from '../../core/fleet.js';
import type { CertificateResult } from '../../core/results.js';
import { run } from '../../core/runner.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import { ConfigError, type ConfigIssue, type ErrorClass } from '../../ports/errors.js';
import type { Logger } from '../../ports/logger.js';
import { loadLambdaConfig } from './config.js';
import { parseEvent } from './event.js';
import { InvalidConfigError, type LambdaContext, RenewalFailedError } from './main.js';
import { recordDaysLeft, recordRunMetrics } from './metrics.js';

/**
 * The fleet handlers of PRODUCT §8, in the same bundle as `handler`: `plan` → a Map of `renew`
 * (one batch each) → `report`. workflows-examples/lambda-fleet/ wires them in Step Functions.
 */

/** As in main.ts: work in flight is aborted this long before the hard timeout, so cleanup runs. */
const ABORT_MARGIN_MS = 20_000;

const SERVICE = process.env.POWERTOOLS_SERVICE_NAME || 'certkeeper';
const ptLogger = new PowertoolsLogger({ serviceName: SERVICE });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'certkeeper',
  serviceName: SERVICE,
});

export interface FleetDeps {
  env?: Record<string, string | undefined>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function setUp(context: LambdaContext): Logger {
  ptLogger.addContext(context as unknown as Parameters<PowertoolsLogger['addContext']>[0]);
  return powertoolsLogger(ptLogger);
}

/** Config and event errors end the invocation as main.ts's do: logged, then an InvalidConfigError. */
async function withConfigErrors<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error('invalid configuration', { issues: error.issues });
      throw new InvalidConfigError(
        `certkeeper: invalid configuration: ${error.issues.map((i) => `${i.path || 'config'}: ${i.message}`).join('; ')}`,
        error.issues,
        { cause: error },
      );
    }
    throw error;
  }
}

function logResults(logger: Logger, results: CertificateResult[]): void {
  for (const r of results) {
    const { hooks, error, ...rest } = r;
    const fields = {
      result: rest,
      ...(hooks ? { hooks } : {}),
      ...(error ? { error } : {}),
    };
    if (r.status === 'failed') logger.error(`${r.id}: ${r.status}`, fields);
    else logger.info(`${r.id}: ${r.status}`, fields);
  }
}

/**
 * Decides what is due as a dry run does (stores, the order budget's window, the CA's renewal
 * windows where none is kept; no order, no DNS), and cuts it into batches of `fleet.batchSize`,
 * most urgent first, within the order budget. The event may carry `force`
 * and `only` as the plain handler's does; a forced plan marks its batches `force` so renew
 * renews them too. Emits `DaysLeft` for every certificate it read.
 */
export async function plan(event: unknown, context: LambdaContext, deps: FleetDeps = {}): Promise<FleetPlan> {
  const logger = setUp(context);
  const env = deps.env ?? process.env;
  return withConfigErrors(logger, async () => {
    const request = parseEvent(event);
    const config = await loadLambdaConfig({ env });
    unknownIds(config, request.only, 'event.only');
    const dry = await run(
      config,
      {
        dryRun: true,
        force: request.force,
        only: request.only,
        issuedBy: { via: 'lambda', runId: context.awsRequestId },
      },
      {
        adapters: createAdapters(config, { clock: systemClock, logger, env, entry: 'lambda' }),
        clock: systemClock,
        logger,
      },
    );
    // The dry run read the order budget's window (acme.orderBudget) and deferred what it holds back.
    const result = planFleet(config, dry);
    if (request.force) for (const b of result.batches) Object.assign(b, { force: true });
    recordDaysLeft(metrics, dry.results);
    logger.info('fleet planned', {
      certificates: dry.results.length,
      planned: result.total,
      batches: result.batches.length,
      batchSize: result.batchSize,
      deferred: result.deferred.length + (result.deferredOmitted ?? 0),
    });
    if (result.batchSize < config.fleet.batchSize) {
      logger.warn(
        `fleet.batchSize ${config.fleet.batchSize} is more than one invocation finishes at concurrency ${config.concurrency}; batches of ${result.batchSize}`,
      );
    }
    return result;
  });
}

function unknownIds(config: Config, ids: string[], path: string): void {
  const unknown = ids.filter((id) => !config.certificates.some((c) => c.id === id));
  if (unknown.length) {
    throw new ConfigError([{ path, message: `no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}` }]);
  }
}

function parseRenewEvent(event: unknown): { ids: string[]; force: boolean } {
  const issues: ConfigIssue[] = [];
  const e = isObject(event) ? event : {};
  const ids = e.ids;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id)) {
    issues.push({ path: 'event.ids', message: 'must be a non-empty list of certificate ids (one batch of plan)' });
  }
  if (e.force !== undefined && typeof e.force !== 'boolean') {
    issues.push({ path: 'event.force', message: 'must be true or false' });
  }
  if (issues.length) throw new ConfigError(issues);
  return { ids: [...new Set(ids as string[])], force: e.force === true };
}

/**
 * Renews one batch through the normal runner (`only: ids`), so leases, failure backoff, the order
 * budget and coalesced zone writes apply as in any run. Starts no certificate with less than
 * 3 minutes left: those come back `deferred`. A failed certificate does not throw: `report`
 * does, once, for the whole fleet. An id the config no longer has (it changed since plan) fails
 * alone.
 */
export async function renew(event: unknown, context: LambdaContext, deps: FleetDeps = {}): Promise<FleetBatch> {
  const logger = setUp(context);
  const env = deps.env ?? process.env;
  return withConfigErrors(logger, async () => {
    const request = parseRenewEvent(event);
    const config = await loadLambdaConfig({ env });
    const known = new Set(config.certificates.map((c) => c.id));
    const gone = request.ids.filter((id) => !known.has(id));
    const ids = request.ids.filter((id) => known.has(id));
    const remaining = context.getRemainingTimeInMillis();
    const signal = remaining > 2 * ABORT_MARGIN_MS ? AbortSignal.timeout(remaining - ABORT_MARGIN_MS) : undefined;
    const report = ids.length
      ? await run(
          config,
          {
            force: request.force,
            only: ids,
            issuedBy: { via: 'lambda', runId: context.awsRequestId },
            remainingTimeMs: () => context.getRemainingTimeInMillis(),
            minStartMs: MIN_START_MS,
            ...(signal ? { signal } : {}),
          },
          {
            adapters: createAdapters(config, { clock: systemClock, logger, env, entry: 'lambda' }),
            clock: systemClock,
            logger,
          },
        )
      : undefined;
    const results: CertificateResult[] = [
      ...(report?.results ?? []),
      ...gone.map(
        (id): CertificateResult => ({
          id,
          status: 'failed',
          reason: 'not in the config any more',
          domains: [],
          health: 'missing',
          durationMs: 0,
          error: {
            class: 'config',
            message: `no certificate with id "${id}" in the config`,
            hint: 'the config changed between plan and renew; the next plan uses the new one',
          },
        }),
      ),
    ];
    logResults(logger, results);
    logger.info('batch finished', { certificates: results.length, durationMs: report?.durationMs ?? 0 });
    return { results };
  });
}

/** A Map iteration whose renew failed for good arrives as `{ ids, error: { Error, Cause } }` (the state machine's Catch). */
function failedBatch(item: Record<string, unknown>): CertificateResult[] {
  const err = isObject(item.error) ? item.error : {};
  const name = String(err.Error ?? 'unknown');
  const cause = String(err.Cause ?? '').slice(0, 500);
  const errorClass: ErrorClass =
    name === 'States.Timeout' || name === 'Sandbox.Timedout'
      ? 'timeout'
      : name === 'InvalidConfigError'
        ? 'config'
        : name.startsWith('Lambda.')
          ? 'network'
          : 'internal';
  const ids = Array.isArray(item.ids) ? item.ids.filter((id): id is string => typeof id === 'string') : [];
  return ids.map((id) => ({
    id,
    status: 'failed',
    reason: 'its renew invocation failed',
    domains: [],
    health: 'missing',
    durationMs: 0,
    error: {
      class: errorClass,
      message: `renew invocation failed: ${name}${cause ? `: ${cause}` : ''}`,
      hint: "see the renew function's logs; certificates it had started are released when their leases expire",
    },
  }));
}

function parseReportEvent(event: unknown): { batches: FleetBatch[]; deferred: CertificateResult[]; omitted: number } {
  const e = isObject(event) ? event : {};
  if (!Array.isArray(e.batches)) {
    throw new ConfigError([{ path: 'event.batches', message: 'must be the list of renew outputs (the Map result)' }]);
  }
  const batches: FleetBatch[] = e.batches.map((item, i) => {
    if (isObject(item) && Array.isArray(item.results)) return { results: item.results as CertificateResult[] };
    if (isObject(item) && 'error' in item) return { results: failedBatch(item) };
    throw new ConfigError([{ path: `event.batches[${i}]`, message: 'must be a renew output { results: [...] }' }]);
  });
  const deferred = Array.isArray(e.deferred) ? (e.deferred as CertificateResult[]) : [];
  const omitted = typeof e.deferredOmitted === 'number' ? e.deferredOmitted : 0;
  return { batches, deferred, omitted };
}

/**
 * Merges the Map's results (`{ batches: [<renew output>, …] }`, plus the plan's `deferred` when
 * the state machine passes them along), logs them, emits the run metrics, and throws after
 * reporting when any certificate failed, so the execution fails and its alarm fires.
 */
export async function report(event: unknown, context: LambdaContext): Promise<FleetReport> {
  const logger = setUp(context);
  const { batches, deferred, omitted } = await withConfigErrors(logger, async () => parseReportEvent(event));
  const merged = mergeFleet(batches, deferred, omitted);
  for (const r of merged.results) if (r.status === 'failed') logger.error(`${r.id}: failed`, { error: r.error });
  logger.info('fleet finished', { summary: merged.summary, batches: batches.length });
  recordRunMetrics(metrics, merged);
  const failed = merged.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    throw new RenewalFailedError(
      `certkeeper: ${failed.length} certificate(s) failed: ${failed
        .slice(0, 20)
        .map((r) => `${r.id} [${r.error?.class ?? 'unknown'}]`)
        .join('; ')}${failed.length > 20 ? '; …' : ''}`,
      failed.map((r) => r.id),
    );
  }
  return merged;
}
