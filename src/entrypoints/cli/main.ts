import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { consoleLogger } from '../../adapters/console-logger.js';
import { createAdapters } from '../../adapters/registry.js';
import { type Config, configJsonSchema, loadConfigFile } from '../../core/config.js';
import { type FailOn, runFailed } from '../../core/results.js';
import { run } from '../../core/runner.js';
import { systemClock } from '../../ports/clock.js';
import { ConfigError } from '../../ports/errors.js';
import { abortOnSignals } from '../shutdown.js';
import { formatTable } from './format.js';

const USAGE = `usage: certkeeper <command> [options]

commands:
  run            renew every due certificate (default)
  plan           show what run would do (same as run --dry-run)
  check-config   validate the config file; no network call
  schema         print the config's JSON Schema
  demo           issue a real certificate from a local Pebble CA into .certkeeper/
  import         adopt certificates from certbot, lego, acme.sh or PEM files (import --help)
  report         every stored certificate's health and renewal times; --html FILE (report --help)

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --dry-run         decide and report, change nothing
      --force           renew even when not due
      --only <ids>      only these certificate ids (comma separated, repeatable)
      --fail-on <when>  error (default) | warning | never
      --json            print one JSON object { results: [...] } on stdout
  -v, --verbose         debug log lines
  -h, --help            this help

exit status: 0 all good, 1 some certificate failed, 2 config or usage error`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
};

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  // Commands with options of their own parse them themselves.
  if (argv[0] === 'import') return (await import('./import.js')).importCommand(argv.slice(1), io);
  if (argv[0] === 'report') return (await import('./report.js')).reportCommand(argv.slice(1), io);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`certkeeper: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'run';
  if (positionals.length > 1) {
    io.stderr(`certkeeper: unexpected argument "${positionals[1]}"\n`);
    return 2;
  }
  const failOn = (values['fail-on'] ?? 'error') as FailOn;
  if (!['error', 'warning', 'never'].includes(failOn)) {
    io.stderr(`certkeeper: --fail-on must be error, warning or never\n`);
    return 2;
  }
  const only = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

  switch (command) {
    case 'schema':
      io.stdout(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    case 'check-config': {
      const config = await load(values.config, io);
      if (!config) return 2;
      io.stdout(
        `${values.config}: ok, ${config.certificates.length} certificate(s): ${config.certificates.map((c) => c.id).join(', ')}\n`,
      );
      return 0;
    }
    case 'demo': {
      const { demo } = await import('./demo.js');
      return demo({ io, json: Boolean(values.json), verbose: Boolean(values.verbose) });
    }
    case 'run':
    case 'plan': {
      const config = await load(values.config, io);
      if (!config) return 2;
      const unknown = only.filter((id) => !config.certificates.some((c) => c.id === id));
      if (unknown.length) {
        io.stderr(`certkeeper: --only: no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}\n`);
        return 2;
      }
      return runAndReport(config, {
        io,
        dryRun: command === 'plan' || Boolean(values['dry-run']),
        force: Boolean(values.force),
        only,
        json: Boolean(values.json),
        verbose: Boolean(values.verbose),
        failOn,
      });
    }
    default:
      io.stderr(`certkeeper: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'certkeeper.yml' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      'fail-on': { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export async function load(path: string, io: CliIo): Promise<Config | undefined> {
  try {
    return await loadConfigFile(path, { env: io.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(
        `certkeeper: invalid config ${path}:\n${error.issues.map((i) => `  ${i.path || path}: ${i.message}`).join('\n')}\n`,
      );
      return undefined;
    }
    throw error;
  }
}

export async function runAndReport(
  config: Config,
  opts: { io: CliIo; dryRun: boolean; force: boolean; only: string[]; json: boolean; verbose: boolean; failOn: FailOn },
): Promise<number> {
  const logger = consoleLogger({ verbose: opts.verbose, write: (l) => opts.io.stderr(`${l}\n`) });
  const adapters = createAdapters(config, { clock: systemClock, logger, env: opts.io.env, entry: 'cli' });
  let report: Awaited<ReturnType<typeof run>>;
  const interrupt = abortOnSignals(logger);
  try {
    report = await run(
      config,
      {
        dryRun: opts.dryRun,
        force: opts.force,
        only: opts.only,
        issuedBy: { via: 'cli', runId: `${hostname()}:${process.pid}` },
        signal: interrupt.signal,
      },
      { adapters, clock: systemClock, logger },
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      opts.io.stderr(`certkeeper: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
  if (opts.json) opts.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else opts.io.stdout(`${formatTable(report)}\n`);
  return runFailed(report, opts.failOn) ? 1 : 0;
}
