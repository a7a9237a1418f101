import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as YAML from 'yaml';
import { IMPORT_READERS, importReader } from '../../adapters/import/readers.js';
import { consoleLogger } from '../../adapters/logging/console.js';
import { cas, createAdapters } from '../../adapters/registry.js';
import { type ImportReport, importCertificates } from '../../core/import.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import { CertkeeperError } from '../../ports/errors.js';
import { abortOnSignals } from '../shutdown.js';
import { type CliIo, load } from './main.js';

export const IMPORT_USAGE = `usage: certkeeper import --from <tool> <path> [options]
       certkeeper import --from pem --cert FILE --key FILE [--chain FILE] [options]

Adopts certificates another ACME client issued: checks key, chain, names and expiry, matches
each to a configured certificate (by id, or by the same set of names) and writes it into that
certificate's store as a new version. The CA is not contacted; the next run renews it when due.

tools:
${IMPORT_READERS.map((r) => `  ${r.tool.padEnd(9)}${r.doc}`).join('\n')}

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --only <ids>      only these configured certificate ids (comma separated, repeatable)
      --dry-run         check and match, write nothing
      --print-config    write nothing; print YAML config entries for what matches nothing
                        (a whole starting config when the config file does not exist)
      --allow-expired   import expired certificates too (the next run renews them at once)
      --hooks           run the certificates' hooks after importing (default: exports only)
      --json            print one JSON object { results: [...], summary } on stdout
  -v, --verbose         debug log lines

exit status: 0 imported or nothing to do, 1 something was refused or failed, 2 usage or config error`;

const exists = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;

/** `certkeeper import` (PRODUCT §6). */
export async function importCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`certkeeper import: ${(error as Error).message}\n\n${IMPORT_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${IMPORT_USAGE}\n`);
    return 0;
  }
  const usage = (message: string) => {
    io.stderr(`certkeeper import: ${message}\n\n${IMPORT_USAGE}\n`);
    return 2;
  };
  const tool = values.from;
  if (!tool) return usage('--from is required');
  const descriptor = importReader(tool);
  if (!descriptor)
    return usage(`--from: unknown tool "${tool}"; one of ${IMPORT_READERS.map((r) => r.tool).join(', ')}`);
  if (values.json && values['print-config'])
    return usage('--json and --print-config print different things: choose one');
  let input: Parameters<typeof descriptor.open>[0];
  if (tool === 'pem') {
    if (!values.cert || !values.key) return usage('--from pem needs --cert FILE and --key FILE');
    if (positionals.length) return usage(`--from pem takes no path ("${positionals[0]}"); use --cert and --key`);
    input = { cert: values.cert, key: values.key, ...(values.chain ? { chain: values.chain } : {}) };
  } else {
    if (values.cert || values.key || values.chain) return usage('--cert, --key and --chain are for --from pem');
    if (positionals.length !== 1) return usage(`--from ${tool} needs one path: ${descriptor.doc}`);
    input = { path: positionals[0] as string };
  }
  const only = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const printConfig = Boolean(values['print-config']);

  // Without a config there is nothing to match, but --print-config is how one starts.
  let config: Config | undefined;
  if (printConfig && !(await exists(values.config))) {
    config = undefined;
  } else {
    config = await load(values.config, io);
    if (!config) {
      if (!(await exists(values.config))) {
        io.stderr(
          `certkeeper import: add --print-config to print a starting config for what ${tool} has: certkeeper import --from ${tool} … --print-config > ${values.config}\n`,
        );
      }
      return 2;
    }
    const unknown = only.filter((id) => !config?.certificates.some((c) => c.id === id));
    if (unknown.length) return usage(`--only: no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}`);
  }

  const logger = consoleLogger({ verbose: Boolean(values.verbose), write: (l) => io.stderr(`${l}\n`) });
  const interrupt = abortOnSignals(logger);
  let report: ImportReport;
  try {
    const reader = await descriptor.open(input);
    // With no config nothing matches, so no store is ever asked for.
    const none = async (): Promise<never> => {
      throw new Error('import: no config, so no store');
    };
    const adapters = config
      ? createAdapters(config, { clock: systemClock, logger, env: io.env, entry: 'cli' })
      : { store: none, exporters: none, hooks: none };
    report = await importCertificates(
      config,
      reader,
      {
        dryRun: Boolean(values['dry-run']) || printConfig,
        allowExpired: Boolean(values['allow-expired']),
        hooks: Boolean(values.hooks),
        only,
        signal: interrupt.signal,
      },
      { adapters, clock: systemClock, logger },
    );
  } catch (error) {
    if (error instanceof CertkeeperError && error.errorClass === 'config') {
      io.stderr(`certkeeper import: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}\n`);
      return 2;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }

  if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (printConfig) {
    io.stderr(`${formatImportTable(report)}\n`);
    io.stdout(suggestedConfig(report, { wholeFile: config === undefined }));
  } else io.stdout(`${formatImportTable(report)}\n`);
  const bad = report.summary.refused + report.summary.failed + report.summary.locked;
  return bad > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      chain: { type: 'string' },
      config: { type: 'string', short: 'c', default: 'certkeeper.yml' },
      only: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      'print-config': { type: 'boolean' },
      'allow-expired': { type: 'boolean' },
      hooks: { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function formatImportTable(report: ImportReport): string {
  const header = ['FOUND', 'STATUS', 'CERTIFICATE', 'DOMAINS', 'EXPIRES', 'DAYS', 'REASON'];
  const rows = report.results.map((r) => [
    r.name,
    r.status,
    r.id ?? '-',
    r.domains.join(',') || '-',
    r.notAfter ? r.notAfter.slice(0, 10) : '-',
    r.daysLeft !== undefined ? String(Math.floor(r.daysLeft)) : '-',
    r.error ? `[${r.error.class}] ${r.error.message}` : r.reason,
  ]);
  const widths = header.map((h, i) =>
    Math.min(40, Math.max(h.length, ...rows.map((row) => (row[i] as string).length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : clip(c, widths[i] as number).padEnd(widths[i] as number)))
      .join('  ');
  const out = [line(header), ...rows.map(line)];
  for (const r of report.results) {
    const hint = r.error?.hint ?? r.hint;
    if (hint) out.push(`  ${r.name}: hint: ${hint}`);
    for (const w of r.warnings ?? []) out.push(`  ${r.name}: warning: ${w}`);
    for (const h of r.hooks ?? [])
      if (h.status !== 'ok') out.push(`  ${r.name}: hook ${h.type} ${h.status}: ${h.message ?? ''}`);
  }
  const s = report.summary;
  const counts = Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  out.push(
    `${report.results.length} certificate(s) found by ${report.tool} in ${report.origin}${counts.length ? `: ${counts.join(', ')}` : ''}${report.dryRun ? ' (nothing written)' : ''}`,
  );
  if (s.unmatched > 0) out.push('  --print-config prints the config entries for the unmatched ones');
  return out.join('\n');
}

/** The config's name for an ACME directory URL (`letsencrypt`, …), or the URL itself. */
function directoryName(url: string): string {
  return cas.find((c) => c.directoryUrl === url)?.name ?? url;
}

/**
 * YAML for `--print-config`: the entries to add for certificates that match nothing. Without a
 * config file, a whole starting config: the directory the tool used, and defaults to edit.
 */
export function suggestedConfig(report: ImportReport, opts: { wholeFile: boolean }): string {
  const entries = report.results.flatMap((r) => (r.suggestion ? [r.suggestion] : []));
  const header = `# certificates found by \`certkeeper import --from ${report.tool} ${report.origin}\` that match no configured certificate\n`;
  if (entries.length === 0) return `${header}# (none: every certificate found matches the config)\n`;
  const list = YAML.stringify({ certificates: entries.map((e) => ({ ...e })) });
  if (!opts.wholeFile) {
    // Entries only, indented to go under the config's own `certificates:`.
    const items = list.replace(/^certificates:\n/, '');
    return `${header}# add these under \`certificates:\` in the config, each with its dns (and store) if the defaults do not fit\n${items}`;
  }
  const servers = [...new Set(report.results.map((r) => r.metadata?.server).filter((s): s is string => Boolean(s)))];
  const directory = servers.length === 1 ? directoryName(servers[0] as string) : 'letsencrypt';
  const top = YAML.stringify({
    version: 1,
    acme: { directory },
    defaults: { dns: { provider: 'route53' }, store: { type: 'file', dir: '.certkeeper' } },
  });
  return `${header}# a starting certkeeper.yml: set defaults.dns and defaults.store to yours\n${top}${list}`;
}
