import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { powertoolsLogger } from '../../adapters/logging/powertools.js';
import { createAdapters } from '../../adapters/registry.js';
import type { DoctorReport } from '../../core/doctor/report.js';
import type { FleetReport } from '../../core/report.js';
import { type RunReport, runFailed } from '../../core/results.js';
import { run } from '../../core/runner.js';
import { systemClock } from '../../ports/clock.js';
import { ConfigError, toErrorInfo } from '../../ports/errors.js';
import { loadLambdaConfig } from './config.js';
import { parseEvent, parseProbe } from './event.js';
import { recordReportMetrics, recordRunMetrics } from './metrics.js';

/** The part of the Lambda context certkeeper uses (the rest is passed on to the logger). */
export interface LambdaContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
  functionName?: string;
  [key: string]: unknown;
}

/** No certificate starts with less than this left (PRODUCT §4): an order plus DNS waits take minutes. */
const MIN_START_MS = 3 * 60_000;
/**
 * Work in flight is aborted this long before the hard timeout, so the core's cleanup (TXT records,
 * lease) still runs; a killed invocation would leave them until its lease expires.
 */
const ABORT_MARGIN_MS = 20_000;

const SERVICE = process.env.POWERTOOLS_SERVICE_NAME || 'certkeeper';
// Module scope, as Powertools advises: reused by warm invocations, and it tracks cold starts.
const ptLogger = new PowertoolsLogger({ serviceName: SERVICE });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'certkeeper',
  serviceName: SERVICE,
});

/** Thrown after reporting when a certificate failed, so Lambda's error metric, alarms and retries see it. */
export class RenewalFailedError extends Error {
  constructor(
    message: string,
    readonly failed: string[],
  ) {
    super(message);
    this.name = 'RenewalFailedError';
  }
}

export class InvalidConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidConfigError';
  }
}

export async function handler(event: unknown, context: LambdaContext): Promise<RunReport | FleetReport | DoctorReport> {
  ptLogger.addContext(context as unknown as Parameters<PowertoolsLogger['addContext']>[0]);
  const logger = powertoolsLogger(ptLogger);
  const env = process.env;

  let request: ReturnType<typeof parseEvent>;
  let config: Awaited<ReturnType<typeof loadLambdaConfig>>;
  let report: RunReport;
  // Until the event is read, a failure counts against the default command's alarm.
  let command: ReturnType<typeof parseEvent>['command'] = 'run';
  try {
    request = parseEvent(event);
    command = request.command;
    const probe = parseProbe(event);
    config = await loadLambdaConfig({ env });
    const unknown = request.only.filter((id) => !config.certificates.some((c) => c.id === id));
    if (unknown.length) {
      throw new ConfigError([
        { path: 'event.only', message: `no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}` },
      ]);
    }
    if (request.command === 'report') return await lambdaReport(config, request.only, logger, env);
    if (request.command === 'doctor') {
      const { runDoctor } = await import('./doctor.js');
      return await runDoctor(config, { only: request.only, probe }, { context, logger, metrics, env });
    }
    const remaining = context.getRemainingTimeInMillis();
    const signal = remaining > 2 * ABORT_MARGIN_MS ? AbortSignal.timeout(remaining - ABORT_MARGIN_MS) : undefined;
    report = await run(
      config,
      {
        dryRun: request.dryRun,
        force: request.force,
        only: request.only,
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
    );
  } catch (error) {
    // Nothing ran (bad config, SSM unreachable, …): every renewal is stopped, so it counts as a
    // failure for the RenewalFailed alarm, logged as JSON like the rest before the runtime sees it.
    const info = toErrorInfo(error);
    if (command === 'doctor') {
      // A doctor that cannot load its config has found a failure: the DoctorFailures alarm sees it.
      metrics.addMetric('DoctorFailures', MetricUnit.Count, 1);
    } else {
      metrics.singleMetric().addDimension('errorClass', info.class).addMetric('RenewalFailed', MetricUnit.Count, 1);
      metrics.addMetric('RenewalFailed', MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
    if (error instanceof ConfigError) {
      logger.error('invalid configuration', { issues: error.issues });
      throw new InvalidConfigError(
        `certkeeper: invalid configuration: ${error.issues.map((i) => `${i.path || 'config'}: ${i.message}`).join('; ')}`,
        error.issues,
        { cause: error },
      );
    }
    logger.error(`run failed before any certificate: ${info.message}`, { error: info });
    throw error;
  }

  for (const r of report.results) {
    const { hooks, error, ...rest } = r;
    const fields = {
      result: rest,
      ...(hooks ? { hooks } : {}),
      ...(error ? { error } : {}),
    };
    if (r.status === 'failed') logger.error(`${r.id}: ${r.status}`, fields);
    else logger.info(`${r.id}: ${r.status}`, fields);
  }
  logger.info('run finished', { summary: report.summary, durationMs: report.durationMs, nextCheck: report.nextCheck });
  recordRunMetrics(metrics, report);

  if (runFailed(report, 'error')) {
    const failed = report.results.filter((r) => r.status === 'failed');
    throw new RenewalFailedError(
      `certkeeper: ${failed.length} certificate(s) failed: ${failed.map((r) => `${r.id} [${r.error?.class ?? 'unknown'}] ${r.error?.message ?? ''}`).join('; ')}`,
      failed.map((r) => r.id),
    );
  }
  return report;
}

/** `{ "command": "report" }`: read every store, log and return the report, emit DaysLeft (PRODUCT §7). */
async function lambdaReport(
  config: Awaited<ReturnType<typeof loadLambdaConfig>>,
  only: string[],
  logger: ReturnType<typeof powertoolsLogger>,
  env: NodeJS.ProcessEnv,
): Promise<FleetReport> {
  const { buildReport } = await import('../../core/report.js');
  const adapters = createAdapters(config, { clock: systemClock, logger, env, entry: 'lambda' });
  const report = await buildReport(config, { only }, { adapters, clock: systemClock, logger });
  for (const e of report.certificates) {
    const fields = { certificate: e };
    if (e.problem) logger.error(`${e.id}: store unreadable`, fields);
    else if (e.health === 'ok' && !e.failing) logger.info(`${e.id}: ${e.health}`, fields);
    else logger.warn(`${e.id}: ${e.health}${e.failing ? ', failing' : ''}`, fields);
  }
  logger.info('report finished', { summary: report.summary });
  recordReportMetrics(metrics, report);
  return report;
}
