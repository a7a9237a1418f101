import type { Health } from './plan.js';
import type { FleetReport, ReportEntry } from './report.js';

/**
 * `certkeeper report --html FILE` (PRODUCT §7): one self-contained page — inline CSS and SVG, no
 * script, no font, no request of any kind (its Content-Security-Policy forbids them) — so it can be
 * mailed, attached to a ticket or opened from an artifact. A timeline with one row per certificate
 * on a shared time axis: the validity as a bar (elapsed part pale), the renewal window striped over
 * it, the next renewal as a tick, today as a line; colour by health; the last failure's class as a
 * badge. Rows are grouped by health, most urgent first, and large healthy groups start folded, so
 * 5 and 500 certificates both read well. Every value from the config or a store is escaped.
 */

const DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const GROUPS: { health: Health; title: string }[] = [
  { health: 'expired', title: 'Expired' },
  { health: 'critical', title: 'Critical' },
  { health: 'missing', title: 'Missing' },
  { health: 'warning', title: 'Warning' },
  { health: 'ok', title: 'OK' },
];
/** A healthy group this large starts folded; the urgent ones are always open. */
const FOLD_OK_OVER = 40;
/** Past this many rows, one line per certificate (its names are in the row's tooltip). */
const DENSE_OVER = 50;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const esc = escapeHtml;

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const short = (t: number) => {
  const d = new Date(t);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
};

interface Axis {
  start: number;
  end: number;
  pct(t: number): number;
  ticks: { t: number; label: string }[];
}

/**
 * One time axis for every row: from a little before today (or the oldest bar) to the last expiry,
 * clamped so a 5-year certificate cannot squash the 90-day ones into a sliver.
 */
function axisFor(entries: ReportEntry[], now: number): Axis {
  const starts = entries.map((e) => Date.parse(e.notBefore ?? '')).filter(Number.isFinite);
  const ends = entries
    .flatMap((e) => [Date.parse(e.notAfter ?? ''), Date.parse(e.renewalWindow?.end ?? '')])
    .filter(Number.isFinite);
  const start = Math.max(now - 120 * DAY, Math.min(now - 14 * DAY, ...starts));
  const end = Math.min(now + 400 * DAY, Math.max(now + 30 * DAY, ...ends) + 3 * DAY);
  const span = end - start;
  const ticks: { t: number; label: string }[] = [];
  const d = new Date(start);
  if (span <= 75 * DAY) {
    // Mondays.
    let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    while (new Date(t).getUTCDay() !== 1) t += DAY;
    for (; t <= end; t += 7 * DAY) ticks.push({ t, label: short(t) });
  } else {
    const step = span <= 220 * DAY ? 1 : span <= 500 * DAY ? 2 : 3;
    let y = d.getUTCFullYear();
    let m = d.getUTCMonth() + 1;
    for (;;) {
      if (m > 11) {
        y += Math.floor(m / 12);
        m %= 12;
      }
      const t = Date.UTC(y, m, 1);
      if (t > end) break;
      if (m % step === 0) ticks.push({ t, label: m === 0 ? `${MONTHS[0]} ${y}` : (MONTHS[m] as string) });
      m++;
    }
  }
  return { start, end, pct: (t) => Math.max(0, Math.min(100, ((t - start) / span) * 100)), ticks };
}

const f2 = (n: number) => n.toFixed(2);

function track(e: ReportEntry, axis: Axis, now: number): string {
  const parts: string[] = [];
  const grid = axis.ticks.map((t) => `<i class="g" style="left:${f2(axis.pct(t.t))}%"></i>`).join('');
  const nb = Date.parse(e.notBefore ?? '');
  const na = Date.parse(e.notAfter ?? '');
  if (Number.isFinite(nb) && Number.isFinite(na)) {
    const x0 = axis.pct(nb);
    const xNow = axis.pct(Math.min(Math.max(now, nb), na));
    const x1 = axis.pct(na);
    const clipped = na > axis.end ? ' clip' : '';
    parts.push(`<b class="bar past" style="left:${f2(x0)}%;width:${f2(xNow - x0)}%"></b>`);
    parts.push(`<b class="bar left${clipped}" style="left:${f2(xNow)}%;width:${f2(x1 - xNow)}%"></b>`);
    const w = e.renewalWindow;
    // Whatever lies past the axis end is not drawn at its edge, where it would look like a date.
    if (w && Date.parse(w.start) < axis.end) {
      const ws = axis.pct(Date.parse(w.start));
      const we = axis.pct(Date.parse(w.end));
      parts.push(`<b class="win ${w.source}" style="left:${f2(ws)}%;width:${f2(Math.max(0.3, we - ws))}%"></b>`);
    }
    const r = Date.parse(e.renewAt ?? '');
    if (Number.isFinite(r) && r < axis.end) parts.push(`<b class="renew" style="left:${f2(axis.pct(r))}%"></b>`);
    if (clipped) parts.push(`<span class="more">→ ${esc(day(na))}</span>`);
  } else {
    parts.push(
      `<span class="empty">${esc(e.problem ? `store unreadable: ${e.problem}` : 'no certificate stored yet')}</span>`,
    );
  }
  parts.push(`<b class="today" style="left:${f2(axis.pct(now))}%"></b>`);
  return `<div class="track">${grid}${parts.join('')}</div>`;
}

function tooltip(e: ReportEntry): string {
  const lines = [e.id, e.domains.join(', ')];
  if (e.notAfter) lines.push(`valid ${day(Date.parse(e.notBefore ?? ''))} → ${day(Date.parse(e.notAfter))}`);
  if (e.renewAt) lines.push(`next renewal ${e.renewAt.replace('T', ' ').slice(0, 16)} UTC`);
  if (e.renewalWindow) {
    lines.push(
      `renewal window (${e.renewalWindow.source}) ${day(Date.parse(e.renewalWindow.start))} → ${day(Date.parse(e.renewalWindow.end))}`,
    );
  }
  if (e.serialNumber) lines.push(`serial ${e.serialNumber}`);
  if (e.issuer) lines.push(`issuer ${e.issuer}`);
  lines.push(`store ${e.store.type} ${e.store.ref}`);
  lines.push(e.reason);
  if (e.lastFailure) lines.push(`last failure ${e.lastFailure.class}: ${e.lastFailure.message ?? ''}`);
  return esc(lines.join('\n'));
}

function row(e: ReportEntry, axis: Axis, now: number): string {
  const domains =
    e.domains.length > 2 ? `${e.domains.slice(0, 2).join(', ')} +${e.domains.length - 2}` : e.domains.join(', ');
  const days =
    e.daysLeft === undefined ? '–' : e.daysLeft < 0 ? `${Math.ceil(-e.daysLeft)}d ago` : `${Math.floor(e.daysLeft)}d`;
  const f = e.lastFailure;
  const badge = f
    ? `<span class="badge" title="${esc(`${f.attempts} failed attempt(s), last ${f.at}${f.nextAttemptAt ? `, next ${f.nextAttemptAt}` : ''}: ${f.message ?? ''}`)}">${esc(f.class)}${f.attempts > 1 ? ` ×${f.attempts}` : ''}</span>`
    : e.problem
      ? '<span class="badge">store</span>'
      : e.due
        ? '<span class="badge due">due</span>'
        : '';
  return `<div class="row h-${e.health}" data-cert="${esc(e.id)}" title="${tooltip(e)}"><div class="name"><span class="id">${esc(e.id)}</span><span class="dom">${esc(domains)}</span></div><div class="days">${days}</div>${track(e, axis, now)}<div class="fail">${badge}</div></div>`;
}

/** Expiries per week for the next 13 weeks, stacked by health: where the work piles up. */
function weeksChart(entries: ReportEntry[], now: number): string {
  const weeks = 13;
  const counts = Array.from({ length: weeks }, () => ({ expired: 0, critical: 0, warning: 0, ok: 0, missing: 0 }));
  let later = 0;
  for (const e of entries) {
    const na = Date.parse(e.notAfter ?? '');
    if (!Number.isFinite(na)) continue;
    const w = Math.floor((na - now) / (7 * DAY));
    if (w < 0) counts[0]!.expired++;
    else if (w < weeks) counts[w]![e.health]++;
    else later++;
  }
  const max = Math.max(1, ...counts.map((c) => c.expired + c.critical + c.warning + c.ok + c.missing));
  const bw = 28;
  const h = 70;
  const bars = counts
    .map((c, i) => {
      let y = h;
      const segs = (['expired', 'critical', 'warning', 'ok'] as const)
        .map((k) => {
          if (!c[k]) return '';
          const hh = Math.max(2, (c[k] / max) * (h - 4));
          y -= hh;
          return `<rect class="c-${k}" x="${i * (bw + 6)}" y="${f2(y)}" width="${bw}" height="${f2(hh)}" rx="2"></rect>`;
        })
        .join('');
      const total = c.expired + c.critical + c.warning + c.ok;
      const label = total ? `<text x="${i * (bw + 6) + bw / 2}" y="${f2(y - 3)}" class="n">${total}</text>` : '';
      const wk =
        i % 2 === 0
          ? `<text x="${i * (bw + 6) + bw / 2}" y="${h + 13}" class="w">${i === 0 ? 'now' : short(now + i * 7 * DAY)}</text>`
          : '';
      return `<g><title>${total} expiring in week ${i + 1}</title>${segs}${label}${wk}</g>`;
    })
    .join('');
  const width = weeks * (bw + 6);
  return `<figure class="weeks"><figcaption>Expiring per week, next ${weeks} weeks${later ? ` <span class="muted">(${later} later)</span>` : ''}</figcaption><svg viewBox="0 -12 ${width} ${h + 28}" width="${width}" height="${h + 28}" role="img" aria-label="expiries per week">${bars}</svg></figure>`;
}

const STYLE = `
:root{--ok:#2da44e;--warning:#d4a72c;--critical:#e16f24;--expired:#cf222e;--missing:#8c959f;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--ari:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{padding:20px 28px 8px;display:flex;flex-wrap:wrap;gap:18px 40px;align-items:flex-end;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:20px;margin:0 0 2px}
.sub,.muted{color:var(--muted);font-weight:normal}
.chips{display:flex;gap:8px;flex-wrap:wrap;margin:10px 0 12px}
.chip{border:1px solid var(--line);border-radius:999px;padding:3px 12px 3px 9px;background:#fff;white-space:nowrap}
.chip b{font-size:16px;margin-right:4px}
.chip::before{content:"";display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;background:var(--c,#999)}
.chip.zero{opacity:.45}
.weeks{margin:0 0 8px}.weeks figcaption{font-size:12px;color:var(--muted);margin-bottom:2px}
.weeks text{font-size:10px;text-anchor:middle;fill:var(--muted)}.weeks text.n{fill:var(--ink);font-weight:600}
.c-ok{fill:var(--ok)}.c-warning{fill:var(--warning)}.c-critical{fill:var(--critical)}.c-expired{fill:var(--expired)}
.legend{display:flex;gap:18px;flex-wrap:wrap;padding:10px 28px;color:var(--muted);font-size:12px;align-items:center}
.legend svg{vertical-align:middle;margin-right:5px}
main{padding:0 28px 28px}
.grid{--name:minmax(170px,260px);--days:64px;--fail:120px}
.row,.axis{display:grid;grid-template-columns:var(--name) var(--days) 1fr var(--fail);gap:0 12px;align-items:center}
.row{min-height:30px;border-bottom:1px solid #eaeef2;padding:3px 0}
.row:hover{background:#f6f8fa}
.dense .row{min-height:22px;padding:1px 0}.dense .dom{display:none}.dense .id{font-size:12px}
.axis{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);height:30px;font-size:11px;color:var(--muted)}
.axis .ticks{position:relative;height:100%}
.axis .ticks span{position:absolute;bottom:6px;transform:translateX(-50%);white-space:nowrap}
.axis .ticks span.now{color:var(--ink);font-weight:700;bottom:auto;top:2px}
.name{min-width:0;overflow:hidden}
.id{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.dom{display:block;color:var(--muted);font-size:11.5px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.days{text-align:right;font-variant-numeric:tabular-nums;font-weight:600;color:var(--c)}
.track{position:relative;height:18px}
.track .g{position:absolute;top:-4px;bottom:-4px;width:1px;background:#eef1f4}
.track b{position:absolute;display:block}
.bar{top:4px;height:10px}
.bar.past{background:var(--c);opacity:.22;border-radius:5px 0 0 5px}
.bar.left{background:var(--c);border-radius:0 5px 5px 0}
.bar.clip{border-radius:0;-webkit-mask-image:linear-gradient(90deg,#000 85%,transparent);mask-image:linear-gradient(90deg,#000 85%,transparent)}
.win{top:2px;height:14px;border-radius:3px;background:repeating-linear-gradient(135deg,rgba(255,255,255,.75) 0 3px,transparent 3px 7px);outline:1px solid rgba(31,35,40,.35)}
.win.ari{outline:2px solid var(--ari)}
.renew{top:-3px;height:24px;width:2px;margin-left:-1px;background:var(--ink)}
.today{top:-6px;bottom:-6px;width:2px;margin-left:-1px;background:var(--ari);opacity:.8}
.more{position:absolute;right:0;top:-1px;font-size:10px;color:var(--muted);background:#fff;padding:0 2px}
.empty{position:absolute;left:0;top:0;font-size:11.5px;color:var(--muted);font-style:italic;white-space:nowrap;overflow:hidden;max-width:100%}
.h-ok{--c:var(--ok)}.h-warning{--c:var(--warning)}.h-critical{--c:var(--critical)}.h-expired{--c:var(--expired)}.h-missing{--c:var(--missing)}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:999px;background:#ffebe9;color:#a40e26;border:1px solid #ffcecb;white-space:nowrap}
.badge.due{background:#fff8c5;color:#7d4e00;border-color:#eac54f}
details{margin-top:14px}
summary{cursor:pointer;font-weight:600;padding:6px 0;border-bottom:2px solid var(--c);list-style-position:inside}
summary .muted{margin-left:6px}
.total{display:grid;grid-template-columns:var(--name) var(--days) 1fr var(--fail);gap:0 12px;margin-top:16px;padding:10px 0;border-top:2px solid var(--ink);font-weight:600}
.total .counts span{margin-right:16px;white-space:nowrap}
.total .counts i{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;background:var(--c)}
footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
@media print{.axis{position:static}details{break-inside:auto}}
`;

export function renderReportHtml(report: FleetReport, opts: { title?: string } = {}): string {
  const now = Date.parse(report.generatedAt);
  const entries = report.certificates;
  const axis = axisFor(entries, now);
  const s = report.summary;
  const title = opts.title ?? 'certkeeper — fleet report';
  const chip = (cls: string, n: number, label: string) =>
    `<span class="chip h-${cls}${n ? '' : ' zero'}" style="--c:var(--${cls})"><b>${n}</b>${label}</span>`;
  const chips = [
    chip('ok', s.ok, 'ok'),
    chip('warning', s.warning, 'warning'),
    chip('critical', s.critical, 'critical'),
    chip('expired', s.expired, 'expired'),
    chip('missing', s.missing, 'missing'),
    `<span class="chip${s.failing ? '' : ' zero'}" style="--c:#a40e26"><b>${s.failing}</b>failing</span>`,
  ].join('');
  const xNow = axis.pct(now);
  const ticks = [
    ...axis.ticks
      // Labels stay clear of "today" and of the column to the right.
      .filter((t) => Math.abs(axis.pct(t.t) - xNow) > 6 && axis.pct(t.t) < 95)
      .map((t) => `<span style="left:${f2(axis.pct(t.t))}%">${esc(t.label)}</span>`),
    `<span class="now" style="left:${f2(xNow)}%">today</span>`,
  ].join('');
  const groups = GROUPS.map(({ health, title: groupTitle }) => {
    const rows = entries.filter((e) => e.health === health);
    if (rows.length === 0) return '';
    const failing = rows.filter((r) => r.failing).length;
    const open = health !== 'ok' || rows.length <= FOLD_OK_OVER ? ' open' : '';
    return `<details class="h-${health}" data-group="${health}"${open}><summary>${groupTitle} <span class="muted">${rows.length} certificate${rows.length === 1 ? '' : 's'}${failing ? `, ${failing} failing` : ''}</span></summary>${rows.map((e) => row(e, axis, now)).join('')}</details>`;
  }).join('');
  const counts = (['ok', 'warning', 'critical', 'expired', 'missing'] as const)
    .map((h) => `<span class="h-${h}"><i></i>${s[h]} ${h}</span>`)
    .join('');
  const legend = [
    `<span><svg width="34" height="12"><rect x="0" y="2" width="14" height="8" rx="3" fill="#2da44e" opacity=".22"></rect><rect x="14" y="2" width="20" height="8" rx="3" fill="#2da44e"></rect></svg>valid (pale: elapsed, solid: left)</span>`,
    `<span><svg width="26" height="14"><defs><pattern id="lg-h" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#fff" opacity=".8"></rect></pattern></defs><rect x="1" y="1" width="24" height="12" rx="3" fill="#2da44e"></rect><rect x="1" y="1" width="24" height="12" rx="3" fill="url(#lg-h)" stroke="#1f2328" stroke-opacity=".4"></rect></svg>renewal window (blue edge: the CA's, ARI)</span>`,
    `<span><svg width="6" height="16"><rect x="2" y="0" width="2" height="16" fill="#1f2328"></rect></svg>next renewal</span>`,
    `<span><svg width="6" height="16"><rect x="2" y="0" width="2" height="16" fill="#0969da"></rect></svg>today</span>`,
    `<span><span class="badge">dns-provider ×2</span> last failure</span>`,
  ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style></head>
<body>
<header><div><h1>${esc(title)}</h1><div class="sub">${s.total} certificate${s.total === 1 ? '' : 's'} · generated ${esc(report.generatedAt.replace('T', ' ').slice(0, 16))} UTC${s.unreadable ? ` · <b>${s.unreadable} store(s) unreadable</b>` : ''}</div><div class="chips">${chips}</div></div>${weeksChart(entries, now)}</header>
<div class="legend">${legend}</div>
<main class="grid${entries.length > DENSE_OVER ? ' dense' : ''}">
<div class="axis"><div>certificate</div><div style="text-align:right">left</div><div class="ticks">${ticks}</div><div>failure · due</div></div>
${groups}
<div class="total"><div>${s.total} certificates</div><div></div><div class="counts">${counts}<span>${s.failing} failing</span></div><div></div></div>
</main>
<footer>Read from the stores only: no CA, no DNS. Hover a row for its details. certkeeper report --html</footer>
</body></html>
`;
}
