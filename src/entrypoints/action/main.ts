import { stat } from 'node:fs/promises';
import * as core from '@actions/core';
import { actionsLogger } from '../../adapters/logging/actions.js';
import { createAdapters } from '../../adapters/registry.js';
import { type RunReport, runFailed } from '../../core/results.js';
import { run as runCertificates } from '../../core/runner.js';
import { inShard } from '../../core/shard.js';
import { systemClock } from '../../ports/clock.js';
import type { Config } from '../../ports/config.js';
import { ConfigError } from '../../ports/errors.js';
import type { IssuedBy } from '../../ports/store.js';
import { loadConfigFile, parseConfig } from '../config.js';
import { abortOnSignals } from '../shutdown.js';
import { type ActionInputs, readInputs, SHORTCUT_ONLY_INPUTS, shortcutConfig, shortcutIssues } from './inputs.js';
import { configSecrets, lineMasker, maskingAdapters } from './masking.js';
import { fleetPicture, rowsFromRun } from './picture.js';
import { annotations, failureItems, summaryLine, summaryTable } from './summary.js';

/** Exit status for config and usage errors (PRODUCT §3); setFailed alone would give 1. */
const EXIT_CONFIG = 2;

/**
 * The GitHub Action: inputs → config → one run → outputs, job summary, annotations, exit status.
 * The only catch of the Action is here and ends in setFailed (STYLE §4).
 */
export async function run(env: Record<string, string | undefined> = process.env): Promise<void> {
  const mask = lineMasker(core.setSecret);
  try {
    const inputs = readInputs((name) => core.getInput(name));
    const loaded = await loadConfig(inputs, env);
    for (const secret of configSecrets(loaded, env)) mask(secret);

    const unknown = inputs.only.filter((id) => !loaded.certificates.some((c) => c.id === id));
    if (unknown.length) {
      throw new ConfigError([
        { path: 'input only', message: `no certificate with id ${unknown.map((u) => `"${u}"`).join(', ')}` },
      ]);
    }

    // A shard is a smaller config: the other shards' certificates are not even read. The adapters
    // see the whole one: the ACME account lives in the first certificate's store kind.
    const { shard } = inputs;
    const config = shard
      ? { ...loaded, certificates: loaded.certificates.filter((c) => inShard(c.id, shard)) }
      : loaded;
    const logger = actionsLogger();
    const adapters = maskingAdapters(
      createAdapters(loaded, { clock: systemClock, logger, env, entry: 'github-action' }),
      mask,
    );
    if (inputs.command === 'report') {
      const { reportAction } = await import('./report.js');
      await reportAction(config, { only: inputs.only, failOn: inputs.failOn, env }, { adapters, logger });
      return;
    }
    if (inputs.command === 'doctor') {
      const { runDoctor } = await import('./doctor.js');
      await runDoctor(config, inputs, { adapters, logger, env });
      return;
    }
    const issuedBy: IssuedBy = {
      via: 'github-action',
      runId: env.GITHUB_RUN_ID || 'local',
      ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
    };
    const interrupt = abortOnSignals(logger);
    const report = await runCertificates(
      config,
      { dryRun: inputs.dryRun, force: inputs.force, only: inputs.only, issuedBy, signal: interrupt.signal },
      { adapters, clock: systemClock, logger },
    ).finally(interrupt.dispose);

    setOutputs(report);
    for (const a of annotations(report)) {
      (a.level === 'error' ? core.error : core.warning)(a.message, { title: a.title });
    }
    await writeSummary(report, env);
    if (runFailed(report, inputs.failOn)) core.setFailed(failureMessage(report, inputs));
  } catch (error) {
    if (error instanceof ConfigError) {
      if (core.getInput('command') === 'doctor') {
        const { configFailure } = await import('../../core/doctor/report.js');
        core.setOutput('checks', JSON.stringify(configFailure(error, core.getInput('config') || 'certkeeper.yml')));
      }
      core.setFailed(
        `certkeeper: invalid configuration:\n${error.issues.map((i) => `  ${i.path || 'config'}: ${i.message}`).join('\n')}`,
      );
      process.exitCode = EXIT_CONFIG;
      return;
    }
    core.setFailed(`certkeeper: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error && error.stack) core.debug(error.stack);
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The config file when it exists, else the one-certificate inputs (PRODUCT §4). */
async function loadConfig(inputs: ActionInputs, env: Record<string, string | undefined>): Promise<Config> {
  if (await fileExists(inputs.config)) {
    const ignored = SHORTCUT_ONLY_INPUTS.filter((name) => core.getInput(name) !== '');
    if (ignored.length) {
      core.warning(`${inputs.config} exists, so the inputs ${ignored.join(', ')} are ignored`, {
        title: 'certkeeper: one-certificate inputs ignored',
      });
    }
    return loadConfigFile(inputs.config, { env, entry: 'github-action' });
  }
  if (inputs.shortcut.domains.length === 0) {
    throw new ConfigError([
      {
        path: inputs.config,
        message: 'config file not found; add it, or set the `domains` input for a one-certificate config',
      },
    ]);
  }
  try {
    return parseConfig(shortcutConfig(inputs.shortcut), { env, entry: 'github-action' });
  } catch (error) {
    throw error instanceof ConfigError ? shortcutIssues(error) : error;
  }
}

function setOutputs(report: RunReport): void {
  const ids = (status: string) => report.results.filter((r) => r.status === status).map((r) => r.id);
  core.setOutput('results', JSON.stringify(report));
  core.setOutput('renewed', JSON.stringify(ids('renewed')));
  core.setOutput('failed', JSON.stringify(ids('failed')));
  core.setOutput('deferred', JSON.stringify(ids('deferred')));
  core.setOutput('next-check', report.nextCheck ?? '');
}

async function writeSummary(report: RunReport, env: Record<string, string | undefined>): Promise<void> {
  // Outside a runner (a local `node dist/action/index.js`) there is no summary file to write to.
  if (!env.GITHUB_STEP_SUMMARY) return;
  const summary = core.summary
    .addHeading(report.dryRun ? 'certkeeper (dry run)' : 'certkeeper', 2)
    .addRaw(fleetPicture(rowsFromRun(report), new Date(report.finishedAt)), true)
    .addTable(summaryTable(report))
    .addRaw(summaryLine(report), true);
  const failures = failureItems(report);
  if (failures.length) summary.addHeading('Failures', 3).addList(failures);
  await summary.write();
}

function failureMessage(report: RunReport, inputs: ActionInputs): string {
  const failed = report.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    return `certkeeper: ${failed.length} certificate(s) failed: ${failed.map((r) => `${r.id} [${r.error?.class ?? 'unknown'}]`).join(', ')}`;
  }
  return `certkeeper: warnings, and fail-on is ${inputs.failOn}: ${annotations(report)
    .map((a) => `${a.title.replace(/^certkeeper: /, '')}: ${a.message}`)
    .join('; ')}`;
}
