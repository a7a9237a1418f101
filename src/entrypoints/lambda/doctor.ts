import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { cas, createAdapters } from '../../adapters/registry.js';
import { doctor } from '../../core/doctor/doctor.js';
import type { DoctorReport } from '../../core/doctor/report.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import type { Logger } from '../../ports/logger.js';
import type { LambdaContext } from './main.js';

/** Work in flight is aborted this long before the invocation's hard timeout (a probe's cleanup still runs). */
const ABORT_MARGIN_MS = 20_000;

/**
 * The event `{ "command": "doctor" }` (PRODUCT §4, §5): one JSON log line per check, the EMF metric
 * `DoctorFailures` (failed checks, 0 too, so an alarm on it always has data), and the report as the
 * result. It does not throw for failed checks: the alarm is on the metric, and a thrown error
 * would make EventBridge Scheduler retry a doctor whose findings stay the same.
 */
export async function runDoctor(
  config: Config,
  request: { only: string[]; probe: boolean },
  deps: { context: LambdaContext; logger: Logger; metrics: Metrics; env: Record<string, string | undefined> },
): Promise<DoctorReport> {
  const { context, logger, metrics } = deps;
  const remaining = context.getRemainingTimeInMillis();
  const signal = remaining > 2 * ABORT_MARGIN_MS ? AbortSignal.timeout(remaining - ABORT_MARGIN_MS) : undefined;
  const report = await doctor(
    config,
    {
      only: request.only,
      probe: request.probe,
      configSource: 'the config',
      owner: `doctor:lambda:${context.awsRequestId}`,
      ...(signal ? { signal } : {}),
    },
    {
      adapters: createAdapters(config, { clock: systemClock, logger, env: deps.env, entry: 'lambda' }),
      clock: systemClock,
      logger,
      cas,
    },
  );
  for (const c of report.checks) {
    const fields = { check: c, ...(c.certificate ? { certificate: c.certificate } : {}) };
    const line = `doctor: ${c.certificate ?? 'config'} ${c.check}: ${c.status}`;
    if (c.status === 'fail') logger.error(line, fields);
    else if (c.status === 'warn') logger.warn(line, fields);
    else logger.info(line, fields);
  }
  logger.info('doctor finished', { summary: report.summary, durationMs: report.durationMs });
  metrics.addMetric('DoctorFailures', MetricUnit.Count, report.summary.fail);
  metrics.publishStoredMetrics();
  return report;
}
