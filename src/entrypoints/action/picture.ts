import type { Health } from '../../core/plan.js';
import type { FleetReport } from '../../core/report.js';
import type { RunReport } from '../../core/results.js';

/**
 * The fleet picture at the top of the Action's job summary (PRODUCT §7), as a Mermaid `gantt`
 * block. GitHub renders Mermaid in job summaries as in any GitHub Markdown (Kesin11/actions-timeline
 * draws its timeline the same way), while it strips inline SVG and `data:` images from them
 * (github/markup#270, #1840). One bar per certificate from its next renewal to its expiry, so the
 * today marker Mermaid draws shows what is inside its window; `crit` (red) for expired, critical
 * and failing, `active` for warning. Bounded: the most urgent `limit` certificates, the rest counted
 * under it, so 500 certificates cost the same few lines as 20 (Mermaid also refuses long texts).
 */

export interface PictureRow {
  id: string;
  health: Health;
  failing: boolean;
  errorClass?: string;
  notAfter?: string;
  renewAt?: string;
  daysLeft?: number;
}

export const PICTURE_LIMIT = 20;
const DAY = 86_400_000;
const SECTIONS: Health[] = ['expired', 'critical', 'missing', 'warning', 'ok'];
const RANK: Record<Health, number> = { expired: 0, critical: 1, missing: 2, warning: 3, ok: 4 };

/** Mermaid gantt task names end at `:` and statements at `;` or `#`: keep to plain characters. */
const label = (s: string) => s.replace(/[^A-Za-z0-9 ._·×-]+/g, '-');
/** `YYYY-MM-DD HH:mm` (UTC), the picture's `dateFormat`. */
const at = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

export function fleetPicture(rows: PictureRow[], now: Date, limit = PICTURE_LIMIT): string {
  if (rows.length === 0) return '';
  const sorted = [...rows].sort(
    (a, b) =>
      RANK[a.health] - RANK[b.health] ||
      Number(b.failing) - Number(a.failing) ||
      Date.parse(a.renewAt ?? a.notAfter ?? '') - Date.parse(b.renewAt ?? b.notAfter ?? '') ||
      a.id.localeCompare(b.id),
  );
  const shown = sorted.slice(0, limit);
  const t0 = now.getTime();
  const lines = [
    '```mermaid',
    'gantt',
    `  title ${shown.length < rows.length ? `${shown.length} most urgent of ${rows.length} certificates` : `${rows.length} certificate${rows.length === 1 ? '' : 's'}`} - bar from next renewal to expiry`,
    '  dateFormat YYYY-MM-DD HH:mm',
    '  axisFormat %b %d',
  ];
  for (const section of SECTIONS) {
    const inSection = shown.filter((r) => r.health === section);
    if (inSection.length === 0) continue;
    const total = rows.filter((r) => r.health === section).length;
    lines.push(`  section ${section} (${total})`);
    for (const r of inSection) {
      const fail = r.failing ? ` · ${r.errorClass ?? 'failed'}` : '';
      const end = Date.parse(r.notAfter ?? '');
      if (!Number.isFinite(end)) {
        lines.push(`  ${label(`${r.id} · no certificate${fail}`)} :milestone, crit, ${at(t0)}, 0d`);
        continue;
      }
      const renew = Date.parse(r.renewAt ?? '');
      let start = Number.isFinite(renew) ? Math.min(renew, end) : Math.min(t0, end);
      if (end - start < DAY) start = end - DAY;
      const left =
        r.daysLeft === undefined
          ? ''
          : r.daysLeft < 0
            ? ` · expired ${Math.ceil(-r.daysLeft)}d ago`
            : ` · ${Math.floor(r.daysLeft)}d`;
      const tag =
        r.health === 'expired' || r.health === 'critical' || r.failing
          ? 'crit, '
          : r.health === 'warning'
            ? 'active, '
            : '';
      lines.push(`  ${label(`${r.id}${left}${fail}`)} :${tag}${at(start)}, ${at(end)}`);
    }
  }
  lines.push('```');
  if (shown.length < rows.length) {
    lines.push(
      '',
      `<sub>${rows.length - shown.length} more, all healthier or later than these: every certificate is in the table below.</sub>`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function rowsFromRun(report: RunReport): PictureRow[] {
  return report.results.map((r) => ({
    id: r.id,
    health: r.health,
    failing: r.status === 'failed',
    ...(r.error ? { errorClass: r.error.class } : {}),
    ...(r.notAfter ? { notAfter: r.notAfter } : {}),
    ...(r.renewAt ? { renewAt: r.renewAt } : {}),
    ...(r.daysLeft !== undefined ? { daysLeft: r.daysLeft } : {}),
  }));
}

export function rowsFromReport(report: FleetReport): PictureRow[] {
  return report.certificates.map((e) => ({
    id: e.id,
    health: e.health,
    failing: e.failing,
    ...(e.lastFailure ? { errorClass: e.lastFailure.class } : {}),
    ...(e.notAfter ? { notAfter: e.notAfter } : {}),
    ...(e.renewAt ? { renewAt: e.renewAt } : {}),
    ...(e.daysLeft !== undefined ? { daysLeft: e.daysLeft } : {}),
  }));
}
