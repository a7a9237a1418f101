import type { CertificateResult, ResultStatus, RunReport } from '../../core/results.js';

const STATUS_ICON: Record<ResultStatus, string> = {
  renewed: '✅',
  skipped: '⏭️',
  'would-renew': '📝',
  deferred: '⏸️',
  failed: '❌',
  locked: '🔒',
};

const HEALTH_ICON: Record<string, string> = {
  ok: '🟢',
  warning: '🟡',
  critical: '🟠',
  expired: '🔴',
  missing: '⚪',
};

/** Summary cells are HTML; ids, domains and CA messages are escaped so they cannot add markup. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A glance at the time left, on a 90-day scale (the classic Let's Encrypt lifetime): ten blocks
 * is a fresh certificate, none is expired. The exact number of days stands next to it.
 */
export function daysBar(daysLeft: number | undefined): string {
  if (daysLeft === undefined) return '';
  const filled = Math.max(0, Math.min(10, Math.round((Math.max(0, daysLeft) / 90) * 10)));
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)}`;
}

export type SummaryRow = (string | { data: string; header: true })[];

/** The results table: status, certificate, domains, expiry date, days left with a bar, reason. */
export function summaryTable(report: RunReport): SummaryRow[] {
  const header = ['Status', 'Certificate', 'Domains', 'Expires', 'Days left', 'Reason'].map((data) => ({
    data,
    header: true as const,
  }));
  const rows = report.results.map((r) => [
    `${STATUS_ICON[r.status]} ${r.status}`,
    `<code>${escapeHtml(r.id)}</code>`,
    r.domains.map(escapeHtml).join('<br>'),
    r.notAfter ? r.notAfter.slice(0, 10) : '–',
    r.daysLeft === undefined
      ? `${HEALTH_ICON[r.health] ?? ''} ${r.health}`
      : `${HEALTH_ICON[r.health] ?? ''} ${Math.floor(r.daysLeft)} <code>${daysBar(r.daysLeft)}</code>`,
    escapeHtml(r.error ? `[${r.error.class}] ${r.error.message}` : r.reason),
  ]);
  return [header, ...rows];
}

/** One line per run: counts and duration, under the table. */
export function summaryLine(report: RunReport): string {
  const s = report.summary;
  const parts = [
    `${report.results.length} certificate(s)`,
    `${s.renewed} renewed`,
    `${s.skipped} skipped`,
    ...(s['would-renew'] ? [`${s['would-renew']} would renew`] : []),
    ...(s.deferred ? [`${s.deferred} deferred`] : []),
    `${s.failed} failed`,
    ...(s.locked ? [`${s.locked} locked`] : []),
  ];
  const next = report.nextCheck ? `; next renewal due ${report.nextCheck}` : '';
  return `${parts.join(', ')} in ${(report.durationMs / 1000).toFixed(1)} s${report.dryRun ? ' (dry run)' : ''}${next}.`;
}

/** Failures with their class and what to do about it, as Markdown list items. */
export function failureItems(report: RunReport): string[] {
  return report.results
    .filter((r): r is CertificateResult & { error: NonNullable<CertificateResult['error']> } => Boolean(r.error))
    .map((r) => {
      const e = r.error;
      const retry = e.retryAfter ? ` Retry after ${escapeHtml(e.retryAfter)}.` : '';
      const hint = e.hint ? `<br>Hint: ${escapeHtml(e.hint)}` : '';
      return `<code>${escapeHtml(r.id)}</code> <b>${e.class}</b>: ${escapeHtml(e.message)}${retry}${hint}`;
    });
}

export interface Annotation {
  level: 'warning' | 'error';
  title: string;
  message: string;
}

/**
 * What deserves an annotation on the run page: failures, and everything fail-on: warning would
 * fail on (hooks that did not succeed, certificates running out of time).
 */
export function annotations(report: RunReport): Annotation[] {
  const out: Annotation[] = [];
  for (const r of report.results) {
    const title = `certkeeper: ${r.id}`;
    if (r.error) {
      out.push({
        level: 'error',
        title,
        message: `[${r.error.class}] ${r.error.message}${r.error.hint ? ` (hint: ${r.error.hint})` : ''}`,
      });
    }
    for (const h of r.hooks ?? []) {
      if (h.status !== 'ok') {
        out.push({
          level: 'warning',
          title,
          message: `hook ${h.type} ${h.status}${h.message ? `: ${h.message}` : ''}`,
        });
      }
    }
    if (!r.error && (r.health === 'warning' || r.health === 'critical' || r.health === 'expired')) {
      const left = r.daysLeft === undefined ? '' : ` (${Math.floor(r.daysLeft)} days left)`;
      out.push({ level: 'warning', title, message: `certificate health is ${r.health}${left}: ${r.reason}` });
    }
  }
  return out;
}
