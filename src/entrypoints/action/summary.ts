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

/** An http(s) URL as a link (escaped), or nothing: the summary renders it as HTML. */
function link(url: string | undefined, text: string): string {
  if (!url || !/^https?:\/\//.test(url)) return '';
  return `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;
}

/**
 * When it renews next: the time drawn in the CA's renewal window (ARI) with the window and the
 * CA's explanation, or the threshold's time; deferred ones, when they may be tried again.
 */
function nextRenewal(r: CertificateResult): string {
  const w = r.renewalWindow;
  if (w && r.status !== 'renewed') {
    const explanation = link(w.explanationURL, 'explanation');
    return `${w.selected.slice(0, 16).replace('T', ' ')}<br>CA window ${w.start.slice(0, 10)} – ${w.end.slice(0, 10)}${explanation ? `<br>${explanation}` : ''}`;
  }
  return r.renewAt ? r.renewAt.slice(0, 16).replace('T', ' ') : '–';
}

/** The results table: status, certificate (and profile), domains, expiry date, days left with a bar, next renewal, reason. */
export function summaryTable(report: RunReport): SummaryRow[] {
  const header = ['Status', 'Certificate', 'Domains', 'Expires', 'Days left', 'Next renewal', 'Reason'].map((data) => ({
    data,
    header: true as const,
  }));
  const rows = report.results.map((r) => [
    `${STATUS_ICON[r.status]} ${r.status}`,
    `<code>${escapeHtml(r.id)}</code>${r.profile ? `<br>profile <code>${escapeHtml(r.profile)}</code>` : ''}`,
    r.domains.map(escapeHtml).join('<br>'),
    r.notAfter ? r.notAfter.slice(0, 10) : '–',
    r.daysLeft === undefined
      ? `${HEALTH_ICON[r.health] ?? ''} ${r.health}`
      : `${HEALTH_ICON[r.health] ?? ''} ${Math.floor(r.daysLeft)} <code>${daysBar(r.daysLeft)}</code>`,
    nextRenewal(r),
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
 * fail on (hooks that did not succeed, deferred certificates, certificates running out of time).
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
    // fail-on: warning fails on it: say why, so the failure message does.
    if (r.status === 'deferred') out.push({ level: 'warning', title, message: `deferred: ${r.reason}` });
    else if (!r.error && (r.health === 'warning' || r.health === 'critical' || r.health === 'expired')) {
      const left = r.daysLeft === undefined ? '' : ` (${Math.floor(r.daysLeft)} days left)`;
      out.push({ level: 'warning', title, message: `certificate health is ${r.health}${left}: ${r.reason}` });
    }
  }
  return out;
}
