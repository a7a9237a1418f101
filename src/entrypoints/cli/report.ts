import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { consoleLogger } from '../../adapters/logging/console.js';
import { createAdapters } from '../../adapters/registry.js';
import { buildReport, type FleetReport, reportFailed } from '../../core/report.js';
import { renderReportHtml } from '../../core/report-html.js';
import { systemClock } from '../../ports/clock.js';
import { type CliIo, load } from './main.js';

export const REPORT_USAGE = `usage: certkeeper report [options]

Every configured certificate as its store holds it: health, expiry, days left, next renewal
time (threshold or the CA's ARI window), renewal window, last failure. Reads the stores only:
no CA, no DNS.

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --only <ids>      only these certificate ids (comma separated, repeatable)
      --json            print one JSON object { generatedAt, certificates: [...], summary } on stdout
      --html <file>     also write a self-contained HTML page with a timeline of every certificate
      --fail-on <when>  error (default: a store could not be read) | warning (also any certificate
                        not ok, or failing) | never
  -v, --verbose         debug log lines

exit status: 0 as asked by --fail-on, 1 otherwise, 2 config or usage error`;

/** `certkeeper report` (PRODUCT §7). */
export async function reportCommand(argv: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    const parsed = parse(argv);
    if (parsed.positionals.length) throw new Error(`unexpected argument "${parsed.positionals[0]}"`);
    values = parsed.values;
  } catch (error) {
    io.stderr(`certkeeper report: ${(error as Error).message}\n\n${REPORT_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${REPORT_USAGE}\n`);
    return 0;
  }
  const failOn = values['fail-on'] ?? 'error';
  if (!['error', 'warning', 'never'].includes(failOn)) {
    io.stderr('certkeeper report: --fail-on must be error, warning or never\n');
    return 2;
  }
  const config = await load(values.config, io);
  if (!config) return 2;
  const only = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((id) => !config.certificates.some((c) => c.id === id));
  if (unknown.length) {
    io.stderr(`certkeeper report: --only: no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}\n`);
    return 2;
  }
  const logger = consoleLogger({ verbose: Boolean(values.verbose), write: (l) => io.stderr(`${l}\n`) });
  const adapters = createAdapters(config, { clock: systemClock, logger, env: io.env, entry: 'cli' });
  const report = await buildReport(config, { only }, { adapters, clock: systemClock, logger });
  if (values.html) {
    await writeFile(values.html, renderReportHtml(report));
    io.stderr(`wrote ${values.html} (${report.certificates.length} certificates)\n`);
  }
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReportTable(report)}\n`);
  return reportFailed(report, failOn as 'error' | 'warning' | 'never') ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'certkeeper.yml' },
      only: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      html: { type: 'string' },
      'fail-on': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const minute = (iso?: string) => (iso ? iso.replace('T', ' ').slice(0, 16) : '-');

export function formatReportTable(report: FleetReport): string {
  const header = ['HEALTH', 'CERTIFICATE', 'DOMAINS', 'EXPIRES', 'DAYS', 'NEXT RENEWAL', 'WINDOW', 'LAST FAILURE'];
  const rows = report.certificates.map((e) => [
    e.failing ? `${e.health}!` : e.health,
    e.id,
    e.domains.join(','),
    e.notAfter ? e.notAfter.slice(0, 10) : '-',
    e.daysLeft !== undefined ? String(Math.floor(e.daysLeft)) : '-',
    e.due ? 'due now' : minute(e.renewAt),
    e.renewalWindow
      ? `${e.renewalWindow.start.slice(0, 10)}..${e.renewalWindow.end.slice(0, 10)} ${e.renewalWindow.source}`
      : '-',
    e.lastFailure
      ? `[${e.lastFailure.class}] ×${e.lastFailure.attempts} ${e.lastFailure.message ?? ''}`
      : (e.problem ?? ''),
  ]);
  const widths = header.map((h, i) =>
    Math.min(40, Math.max(h.length, ...rows.map((row) => (row[i] as string).length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : clip(c, widths[i] as number).padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const s = report.summary;
  return [
    line(header),
    ...rows.map(line),
    `${s.total} certificate(s): ${s.ok} ok, ${s.warning} warning, ${s.critical} critical, ${s.expired} expired, ${s.missing} missing; ${s.failing} failing${s.unreadable ? `; ${s.unreadable} store(s) unreadable` : ''}`,
  ].join('\n');
}
