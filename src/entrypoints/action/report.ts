import * as core from '@actions/core';
import { buildReport, type FleetReport, reportFailed } from '../../core/report.js';
import type { FailOn } from '../../core/results.js';
import type { AdapterFactory } from '../../ports/adapter.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import type { Logger } from '../../ports/logger.js';
import { fleetPicture, rowsFromReport } from './picture.js';
import { daysBar, escapeHtml, type SummaryRow } from './summary.js';

const HEALTH_ICON: Record<string, string> = { ok: '🟢', warning: '🟡', critical: '🟠', expired: '🔴', missing: '⚪' };

/** The Action's `command: report` (PRODUCT §7): outputs, job summary with the fleet picture, exit status. */
export async function reportAction(
  config: Config,
  opts: { only: string[]; failOn: FailOn; env: Record<string, string | undefined> },
  deps: { adapters: Pick<AdapterFactory, 'store'>; logger: Logger },
): Promise<void> {
  const report = await buildReport(config, { only: opts.only }, { ...deps, clock: systemClock });
  const renewAts = report.certificates.flatMap((e) => (e.renewAt ? [e.renewAt] : [])).sort();
  core.setOutput('results', JSON.stringify(report));
  core.setOutput('renewed', '[]');
  core.setOutput('failed', JSON.stringify(report.certificates.filter((e) => e.failing).map((e) => e.id)));
  core.setOutput('next-check', renewAts[0] ?? '');
  for (const e of report.certificates) {
    if (e.problem) core.error(`store unreadable: ${e.problem}`, { title: `certkeeper: ${e.id}` });
    else if (e.health !== 'ok' || e.failing) {
      const f = e.lastFailure ? `; last failure [${e.lastFailure.class}] ${e.lastFailure.message ?? ''}` : '';
      core.warning(
        `health ${e.health}${e.daysLeft !== undefined ? ` (${Math.floor(e.daysLeft)} days left)` : ''}: ${e.reason}${f}`,
        {
          title: `certkeeper: ${e.id}`,
        },
      );
    }
  }
  if (opts.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addHeading('certkeeper report', 2)
      .addRaw(fleetPicture(rowsFromReport(report), new Date(report.generatedAt)), true)
      .addTable(reportTable(report))
      .addRaw(reportLine(report), true)
      .write();
  }
  if (reportFailed(report, opts.failOn)) {
    const s = report.summary;
    core.setFailed(
      `certkeeper: report: ${s.unreadable} store(s) unreadable, ${s.total - s.ok} certificate(s) not ok, ${s.failing} failing`,
    );
  }
}

const minute = (iso?: string) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–');

export function reportTable(report: FleetReport): SummaryRow[] {
  const header = ['Health', 'Certificate', 'Domains', 'Expires', 'Days left', 'Next renewal', 'Last failure'].map(
    (data) => ({ data, header: true as const }),
  );
  const rows = report.certificates.map((e) => [
    `${HEALTH_ICON[e.health] ?? ''} ${e.health}`,
    `<code>${escapeHtml(e.id)}</code>`,
    e.domains.map(escapeHtml).join('<br>'),
    e.notAfter ? e.notAfter.slice(0, 10) : '–',
    e.daysLeft === undefined ? '–' : `${Math.floor(e.daysLeft)} <code>${daysBar(e.daysLeft)}</code>`,
    e.due ? 'due now' : `${minute(e.renewAt)}${e.renewalWindow?.source === 'ari' ? ' (ARI)' : ''}`,
    e.lastFailure
      ? `<b>${escapeHtml(e.lastFailure.class)}</b> ×${e.lastFailure.attempts}: ${escapeHtml(e.lastFailure.message ?? '')}`
      : e.problem
        ? escapeHtml(e.problem)
        : '',
  ]);
  return [header, ...rows];
}

function reportLine(report: FleetReport): string {
  const s = report.summary;
  return `${s.total} certificate(s): ${s.ok} ok, ${s.warning} warning, ${s.critical} critical, ${s.expired} expired, ${s.missing} missing; ${s.failing} failing${s.unreadable ? `; ${s.unreadable} store(s) unreadable` : ''}. Read from the stores only.`;
}
