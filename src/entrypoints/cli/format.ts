import type { RunReport } from '../../core/results.js';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The results table printed by `run`, `plan` and `demo`. */
export function formatTable(report: RunReport): string {
  // The profile column only when some certificate has one: most configs set none.
  const profiles = report.results.some((r) => r.profile);
  const rows = report.results.map((r) => [
    r.id,
    r.status,
    r.domains.join(','),
    ...(profiles ? [r.profile ?? '-'] : []),
    r.notAfter ? r.notAfter.slice(0, 10) : '-',
    r.daysLeft !== undefined ? String(Math.floor(r.daysLeft)) : '-',
    r.health,
    r.error ? `[${r.error.class}] ${r.error.message}` : r.reason,
  ]);
  const header = [
    'CERTIFICATE',
    'STATUS',
    'DOMAINS',
    ...(profiles ? ['PROFILE'] : []),
    'EXPIRES',
    'DAYS',
    'HEALTH',
    'REASON',
  ];
  const widths = header.map((h, i) =>
    Math.min(48, Math.max(h.length, ...rows.map((row) => (row[i] as string).length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1
          ? c
          : pad(
              c.length > (widths[i] as number) ? `${c.slice(0, (widths[i] as number) - 1)}…` : c,
              widths[i] as number,
            ),
      )
      .join('  ');
  const out = [line(header), ...rows.map(line)];
  for (const r of report.results) {
    const w = r.renewalWindow;
    if (w) {
      out.push(
        `  ${r.id}: CA renewal window ${w.start} – ${w.end}, renews at ${w.selected}${w.explanationURL ? ` (${w.explanationURL})` : ''}`,
      );
    }
    if (r.error?.hint) out.push(`  ${r.id}: hint: ${r.error.hint}`);
    for (const h of r.hooks ?? [])
      if (h.status !== 'ok') out.push(`  ${r.id}: hook ${h.type} ${h.status}: ${h.message ?? ''}`);
  }
  const s = report.summary;
  out.push(
    `${report.results.length} certificate(s): ${s.renewed} renewed, ${s.skipped} skipped, ${s['would-renew']} would renew, ${s.deferred} deferred, ${s.failed} failed, ${s.locked} locked (${report.durationMs} ms)`,
  );
  return out.join('\n');
}
