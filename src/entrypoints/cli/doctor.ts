import { hostname } from 'node:os';
import { consoleLogger } from '../../adapters/logging/console.js';
import { cas, createAdapters } from '../../adapters/registry.js';
import { doctor } from '../../core/doctor/doctor.js';
import {
  type CheckResult,
  configFailure,
  type DoctorReport,
  doctorFailed,
  forDisplay,
} from '../../core/doctor/report.js';
import type { FailOn } from '../../core/results.js';
import { inShard, type Shard } from '../../core/shard.js';
import { systemClock } from '../../ports/clock.js';
import { ConfigError } from '../../ports/errors.js';
import { loadConfigFile } from '../config.js';
import { abortOnSignals } from '../shutdown.js';
import type { CliIo } from './main.js';

/** `certkeeper doctor` (PRODUCT §5): exit 0 nothing fails, 1 a check fails, 2 the config does not load. */
export async function doctorCommand(opts: {
  io: CliIo;
  configPath: string;
  only: string[];
  /** Only the certificates of this shard; the checks of the whole config still run. */
  shard?: Shard;
  probe: boolean;
  json: boolean;
  verbose: boolean;
  failOn: FailOn;
}): Promise<number> {
  const { io } = opts;
  const print = (report: DoctorReport) =>
    io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatChecks(report)}\n`);
  let config: Awaited<ReturnType<typeof loadConfigFile>>;
  try {
    config = await loadConfigFile(opts.configPath, { env: io.env, entry: 'cli' });
    const unknown = opts.only.filter((id) => !config.certificates.some((c) => c.id === id));
    if (unknown.length) {
      throw new ConfigError([
        { path: '--only', message: `no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}` },
      ]);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    print(configFailure(error, opts.configPath));
    return 2;
  }
  const logger = consoleLogger({ verbose: opts.verbose, write: (l) => io.stderr(`${l}\n`) });
  // As for run: the adapters see the whole config (the account lives in the first certificate's store).
  const adapters = createAdapters(config, { clock: systemClock, logger, env: io.env, entry: 'cli' });
  const { shard } = opts;
  const checked = shard ? { ...config, certificates: config.certificates.filter((c) => inShard(c.id, shard)) } : config;
  const interrupt = abortOnSignals(logger);
  let report: DoctorReport;
  try {
    report = await doctor(
      checked,
      {
        only: opts.only,
        probe: opts.probe,
        configSource: opts.configPath,
        owner: `doctor:${hostname()}:${process.pid}`,
        signal: interrupt.signal,
      },
      { adapters, clock: systemClock, logger, cas },
    );
  } finally {
    interrupt.dispose();
  }
  print(report);
  return doctorFailed(report, opts.failOn) ? 1 : 0;
}

const LABEL: Record<CheckResult['status'], string> = { fail: 'FAIL', warn: 'WARN', pass: 'pass', skip: 'skip' };

/** Failures first, each with its hint under it; then warnings, passes and skips. */
export function formatChecks(report: DoctorReport): string {
  const rows = forDisplay(report.checks);
  const certWidth = Math.min(32, Math.max(11, ...rows.map((r) => (r.certificate ?? '-').length)));
  const checkWidth = Math.max(5, ...rows.map((r) => r.check.length));
  const cell = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  const out = [`STATUS  ${cell('CERTIFICATE', certWidth)}  ${cell('CHECK', checkWidth)}  MESSAGE`];
  for (const r of rows) {
    out.push(
      `${LABEL[r.status].padEnd(6)}  ${cell(r.certificate ?? '-', certWidth)}  ${cell(r.check, checkWidth)}  ${r.message}`,
    );
    if (r.hint && (r.status === 'fail' || r.status === 'warn')) out.push(`${' '.repeat(8)}hint: ${r.hint}`);
  }
  const s = report.summary;
  out.push(
    `${report.checks.length} checks: ${s.fail} failed, ${s.warn} warning(s), ${s.pass} passed, ${s.skip} skipped (${report.durationMs} ms)`,
  );
  return out.join('\n');
}
