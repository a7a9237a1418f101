import * as core from '@actions/core';
import { cas } from '../../adapters/registry.js';
import { doctor } from '../../core/doctor/doctor.js';
import { type CheckResult, type DoctorReport, doctorFailed, forDisplay } from '../../core/doctor/report.js';
import type { AdapterFactory } from '../../ports/adapter.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import type { Logger } from '../../ports/logger.js';
import { abortOnSignals } from '../shutdown.js';
import type { ActionInputs } from './inputs.js';
import { escapeHtml, type SummaryRow } from './summary.js';

/**
 * `command: doctor` (PRODUCT §4, §5): the checks as the `checks` output, a job summary table with
 * failures first and their hints, an annotation per failure and warning; `fail-on` decides whether
 * the step fails (error: a failed check; warning: also a warning).
 */
export async function runDoctor(
  config: Config,
  inputs: ActionInputs,
  deps: { adapters: AdapterFactory; logger: Logger; env: Record<string, string | undefined> },
): Promise<void> {
  const interrupt = abortOnSignals(deps.logger);
  const report = await doctor(
    config,
    {
      only: inputs.only,
      configSource: inputs.config,
      owner: `doctor:github-action:${deps.env.GITHUB_RUN_ID || 'local'}`,
      signal: interrupt.signal,
    },
    { adapters: deps.adapters, clock: systemClock, logger: deps.logger, cas },
  ).finally(interrupt.dispose);

  core.setOutput('checks', JSON.stringify(report));
  for (const c of report.checks) {
    if (c.status !== 'fail' && c.status !== 'warn') continue;
    (c.status === 'fail' ? core.error : core.warning)(`${c.message}${c.hint ? ` (hint: ${c.hint})` : ''}`, {
      title: `certkeeper doctor: ${c.certificate ?? 'config'} ${c.check}`,
    });
  }
  if (deps.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addHeading('certkeeper doctor', 2)
      .addTable(doctorTable(report))
      .addRaw(doctorLine(report), true)
      .write();
  }
  if (doctorFailed(report, inputs.failOn)) {
    const bad = report.checks.filter(
      (c) => c.status === 'fail' || (inputs.failOn === 'warning' && c.status === 'warn'),
    );
    core.setFailed(
      `certkeeper doctor: ${bad.length} check(s) ${inputs.failOn === 'warning' ? 'failed or warned' : 'failed'}: ${bad
        .map((c) => `${c.certificate ?? 'config'} ${c.check}`)
        .join(', ')}`,
    );
  }
}

const ICON: Record<CheckResult['status'], string> = { fail: '❌', warn: '⚠️', pass: '✅', skip: '⏭️' };

/** Failures first; the hint under the message, in the same cell. */
export function doctorTable(report: DoctorReport): SummaryRow[] {
  const header = ['Status', 'Certificate', 'Check', 'Finding'].map((data) => ({ data, header: true as const }));
  const rows = forDisplay(report.checks).map((c) => [
    `${ICON[c.status]} ${c.status}`,
    c.certificate ? `<code>${escapeHtml(c.certificate)}</code>` : '–',
    `<code>${c.check}</code>`,
    `${escapeHtml(c.message)}${c.hint && c.status !== 'pass' ? `<br><b>Hint:</b> ${escapeHtml(c.hint)}` : ''}`,
  ]);
  return [header, ...rows];
}

export function doctorLine(report: DoctorReport): string {
  const s = report.summary;
  return `${report.checks.length} checks: ${s.fail} failed, ${s.warn} warning(s), ${s.pass} passed, ${s.skip} skipped in ${(report.durationMs / 1000).toFixed(1)} s.`;
}
