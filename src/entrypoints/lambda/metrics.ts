import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FleetReport } from '../../core/report.js';
import type { RunReport } from '../../core/results.js';

/**
 * EMF metrics of one run (PRODUCT §4), under the `service` default dimension:
 * - `DaysLeft` per certificate (dimension `certificate`), the health graph and expiry alarm;
 * - `RenewalSucceeded`, and `RenewalFailed` in total: the alarm metric, always emitted (0 too) so
 *   an alarm on it sees data rather than INSUFFICIENT_DATA on a quiet run;
 * - `RenewalFailed` per error class (dimension `errorClass`), to see what kind of failure it was;
 * - `RenewalDeferred`: due but not attempted (failure backoff, the order budget, a CA rate limit,
 *   the invocation's deadline), always emitted too: a count that stays up means renewals wait.
 * A metric with extra dimensions goes out as its own EMF line: an EMF object's dimension sets
 * apply to all its metrics, and DaysLeft must not be summed across certificates.
 */
export function recordRunMetrics(metrics: Metrics, report: Pick<RunReport, 'results' | 'summary'>): void {
  recordDaysLeft(metrics, report.results);
  const byClass = new Map<string, number>();
  for (const r of report.results) {
    if (r.status !== 'failed') continue;
    const errorClass = r.error?.class ?? 'unknown';
    byClass.set(errorClass, (byClass.get(errorClass) ?? 0) + 1);
  }
  for (const [errorClass, count] of byClass) {
    metrics.singleMetric().addDimension('errorClass', errorClass).addMetric('RenewalFailed', MetricUnit.Count, count);
  }
  metrics.addMetric('RenewalSucceeded', MetricUnit.Count, report.summary.renewed);
  metrics.addMetric('RenewalFailed', MetricUnit.Count, report.summary.failed);
  metrics.addMetric('RenewalDeferred', MetricUnit.Count, report.summary.deferred);
  metrics.publishStoredMetrics();
}

/** `DaysLeft` alone: the fleet's plan reads every store, so it reports the whole fleet's health. */
export function recordDaysLeft(metrics: Metrics, results: RunReport['results']): void {
  for (const r of results) {
    if (r.daysLeft === undefined) continue;
    metrics
      .singleMetric()
      .addDimension('certificate', r.id)
      .addMetric('DaysLeft', MetricUnit.NoUnit, Math.round(r.daysLeft * 100) / 100);
  }
}

/** A `report` invocation: `DaysLeft` per certificate only, so the dashboard keeps its data between runs. */
export function recordReportMetrics(metrics: Metrics, report: FleetReport): void {
  for (const e of report.certificates) {
    if (e.daysLeft === undefined) continue;
    metrics
      .singleMetric()
      .addDimension('certificate', e.id)
      .addMetric('DaysLeft', MetricUnit.NoUnit, Math.round(e.daysLeft * 100) / 100);
  }
  metrics.publishStoredMetrics();
}
