import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { consoleLogger } from '../../adapters/logging/console.js';
import { createAdapters } from '../../adapters/registry.js';
import { type FailOn, runFailed } from '../../core/results.js';
import { run } from '../../core/runner.js';
import { inShard, parseShard, parseShardCount, type Shard, shardsOf } from '../../core/shard.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import { ConfigError } from '../../ports/errors.js';
import { configJsonSchema, loadConfigFile } from '../config.js';
import { abortOnSignals } from '../shutdown.js';
import { formatTable } from './format.js';

const USAGE = `usage: certkeeper <command> [options]

commands:
  run            renew every due certificate (default)
  plan           show what run would do (same as run --dry-run)
  check-config   validate the config file; no network call
  doctor         check everything a renewal needs (CAA, zones, delegation, store, account, …)
                 without ordering or changing anything; --probe also times one TXT write
  schema         print the config's JSON Schema
  demo           issue a real certificate from a local Pebble CA into .certkeeper/
  import         adopt certificates from certbot, lego, acme.sh or PEM files (import --help)
  report         every stored certificate's health and renewal times; --html FILE (report --help)
  iam-policy     the least-privilege IAM policy for this config (iam-policy --help)

options:
  -c, --config <file>   config file (default: certkeeper.yml)
      --dry-run         decide and report, change nothing
      --force           renew even when not due
      --only <ids>      only these certificate ids (comma separated, repeatable)
      --shard <i/N>     only the certificates whose id hashes into shard i of N (1-based, N ≤ 256)
      --shards <N>      plan: also list the shards (of N) that hold due certificates (a GitHub matrix)
      --fail-on <when>  error (default) | warning | never
      --probe           doctor: write one probe TXT value per zone, time its propagation, remove it
      --json            print one JSON object on stdout ({ results: [...] }; doctor: { checks: [...] })
  -v, --verbose         debug log lines
  -h, --help            this help

exit status: 0 all good, 1 some certificate (doctor: some check) failed, 2 config or usage error`;

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
  if (argv[0] === 'iam-policy') return (await import('./iam-policy.js')).iamPolicyCommand(argv.slice(1), io);
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
  if (values.probe && command !== 'doctor') {
    io.stderr(`certkeeper: --probe is an option of doctor only\n`);
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
    case 'doctor': {
      let shard: Shard | undefined;
      try {
        if (values.shard !== undefined) shard = parseShard(values.shard);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        io.stderr(`certkeeper: ${error.message}\n`);
        return 2;
      }
      const { doctorCommand } = await import('./doctor.js');
      return doctorCommand({
        io,
        configPath: values.config,
        only,
        ...(shard ? { shard } : {}),
        probe: Boolean(values.probe),
        json: Boolean(values.json),
        verbose: Boolean(values.verbose),
        failOn,
      });
    }
    case 'demo': {
      const { demo } = await import('./demo.js');
      return demo({ io, json: Boolean(values.json), verbose: Boolean(values.verbose) });
    }
    case 'run':
    case 'plan': {
      const dryRun = command === 'plan' || Boolean(values['dry-run']);
      let shard: ReturnType<typeof parseShard> | undefined;
      let shards: number | undefined;
      try {
        if (values.shard !== undefined) shard = parseShard(values.shard);
        if (values.shards !== undefined) {
          if (!dryRun) throw new ConfigError([{ path: '--shards', message: 'only with plan (or --dry-run)' }]);
          shards = parseShardCount(values.shards);
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        io.stderr(`certkeeper: ${error.message}\n`);
        return 2;
      }
      const loaded = await load(values.config, io);
      if (!loaded) return 2;
      const unknown = only.filter((id) => !loaded.certificates.some((c) => c.id === id));
      if (unknown.length) {
        io.stderr(`certkeeper: --only: no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}\n`);
        return 2;
      }
      return runAndReport(loaded, {
        io,
        dryRun,
        force: Boolean(values.force),
        only,
        ...(shard ? { shard } : {}),
        ...(shards ? { shards } : {}),
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
      shard: { type: 'string' },
      shards: { type: 'string' },
      'fail-on': { type: 'string' },
      probe: { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export async function load(path: string, io: CliIo): Promise<Config | undefined> {
  try {
    return await loadConfigFile(path, { env: io.env, entry: 'cli' });
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
  opts: {
    io: CliIo;
    dryRun: boolean;
    force: boolean;
    only: string[];
    json: boolean;
    verbose: boolean;
    failOn: FailOn;
    shard?: Shard;
    shards?: number;
  },
): Promise<number> {
  const logger = consoleLogger({ verbose: opts.verbose, write: (l) => opts.io.stderr(`${l}\n`) });
  // The adapters see the whole config: the ACME account lives in the first certificate's store
  // kind, whichever shard runs. A shard is a smaller config: the others' stores are not even read.
  const adapters = createAdapters(config, { clock: systemClock, logger, env: opts.io.env, entry: 'cli' });
  const { shard } = opts;
  const runConfig = shard
    ? { ...config, certificates: config.certificates.filter((c) => inShard(c.id, shard)) }
    : config;
  let report: Awaited<ReturnType<typeof run>>;
  const interrupt = abortOnSignals(logger);
  try {
    report = await run(
      runConfig,
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
  // The shards that would have work: a GitHub matrix of only those (workflows-examples/fleet/).
  const due = report.results.filter((r) => r.status === 'would-renew' || r.status === 'failed').map((r) => r.id);
  const shards = opts.shards ? shardsOf(due, opts.shards) : undefined;
  if (opts.json) opts.io.stdout(`${JSON.stringify(shards ? { ...report, shards } : report, null, 2)}\n`);
  else {
    opts.io.stdout(`${formatTable(report)}\n`);
    if (shards) {
      const list = shards.map((s) => `${s.shard} (${s.ids.length})`).join(', ') || 'none';
      opts.io.stdout(`shards with due certificates: ${list}\n`);
    }
  }
  return runFailed(report, opts.failOn) ? 1 : 0;
}
