#!/usr/bin/env node
// `npm run bench`: certkeeper's benchmarks, each a section; all of them by default.
//
//   node bench/run.mjs [single] [entrypoints] [fleet] [report] [doctor] [providers]   (or BENCH_SECTIONS=single,fleet)
//
//   single       certkeeper vs lego, one apex + wildcard certificate per run (bench/single.mjs)
//   entrypoints  bundle sizes, cold import times, a no-op run over 50 stored certificates as the
//                CLI, the Action and the Lambda (bench/entrypoints.mjs)
//   fleet        50 certificates with Route 53's change latency, certkeeper vs lego (bench/fleet.mjs)
//   report       `certkeeper report` over 500 stored certificates, file store and Secrets Manager
//                on moto, whole process (bench/report.mjs)
//   doctor       certkeeper doctor over 50 certificates on the local stack, whole process (bench/doctor.mjs)
//   providers    one apex + wildcard certificate through each DNS provider (real servers or the
//                vendor fakes), whole process on Node 24, API calls counted at the server; lego
//                where it can reach the local server (bench/providers.mjs)
//
// Prints each section's table, then a summary of every target; writes every number to
// bench/out/latest.json. Exit status: 0 done, 1 a section failed (the others still run),
// 2 usage, 3 only with BENCH_ENFORCE=1 and a missed target. See bench/README.md for the env knobs.

import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import {
  certkeeperCommand,
  ensureLambdaBundle,
  ensureLego,
  fail,
  node24,
  OUT,
  ROOT,
  rssMethod,
  Scope,
  say,
  ToolError,
  tail,
} from './lib.mjs';

const SECTIONS = ['single', 'entrypoints', 'fleet', 'report', 'doctor', 'providers'];
const asked = [
  ...process.argv.slice(2),
  ...(process.env.BENCH_SECTIONS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
for (const a of asked) {
  if (a === '-h' || a === '--help') {
    process.stdout.write(`usage: node bench/run.mjs [${SECTIONS.join('] [')}]   (default: all)\n`);
    process.exit(0);
  }
  if (!SECTIONS.includes(a)) fail(`unknown section "${a}"; known: ${SECTIONS.join(', ')}`, 2);
}
let currentTmp; // the running section's temp dir, removed on SIGINT/SIGTERM too
const selected = asked.length ? SECTIONS.filter((s) => asked.includes(s)) : SECTIONS;

async function main() {
  // Every tool is resolved (and the CLI built) before any server starts: spawnSync would stop
  // this process from reading the servers' output, and Pebble blocks when nobody reads its logs.
  const tools = {
    lego: selected.some((s) => s === 'single' || s === 'fleet' || s === 'providers') ? ensureLego() : undefined,
    rss: rssMethod(),
    ck: certkeeperCommand(),
    node24: selected.some((s) => s === 'entrypoints' || s === 'fleet' || s === 'providers') ? node24() : undefined,
    load: (rel) => tsImport(rel, import.meta.url),
  };
  if (selected.includes('fleet')) ensureLambdaBundle();
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const revision = {
    commit: git('rev-parse', '--short', 'HEAD'),
    // Uncommitted changes under src/ or dist/ (other work in progress): the numbers are for those.
    changed: git('status', '--porcelain', '--', 'src', 'dist').split('\n').filter(Boolean).length,
  };
  tools.devstack = await tools.load('../src/devstack/index.ts');
  await tools.devstack.ensurePebbleInstalled(say);

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      say(`${sig}: stopping everything`);
      Scope.closeAll()
        .then(() => currentTmp && rm(currentTmp, { recursive: true, force: true }))
        .finally(() => process.exit(130));
    });
  }

  const started = new Date();
  const done = {};
  const failed = [];
  const targets = [];
  for (const name of selected) {
    const tmp = await mkdtemp(join(tmpdir(), `certkeeper-bench-${name}-`));
    currentTmp = tmp;
    say(`== section ${name}`);
    try {
      const mod = await import(`./${name}.mjs`);
      const run = {
        single: mod.runSingle,
        entrypoints: mod.runEntrypoints,
        fleet: mod.runFleet,
        report: mod.runReport,
        doctor: mod.runDoctor,
        providers: mod.runProviders,
      }[name];
      const result = await run({ ...tools, tmp });
      done[name] = result;
      targets.push(...result.targets);
      process.stdout.write(`\n${result.text}\n`);
    } catch (error) {
      failed.push(name);
      process.stderr.write(`bench: section ${name} FAILED: ${error.message}\n`);
      if (error.output) process.stderr.write(`--- last output of the failed process ---\n${tail(error.output)}\n`);
      if (error.stackLogs && !(error instanceof ToolError))
        process.stderr.write(`--- stack logs ---\n${tail(error.stackLogs, 30)}\n`);
      if (!(error instanceof ToolError) && error.stack) process.stderr.write(`${error.stack}\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  const summary = [
    '',
    '== summary',
    `revision: ${revision.commit}${revision.changed ? ` + ${revision.changed} uncommitted file(s) under src/ and dist/` : ''}`,
    `machine: ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}${tools.node24 ? `, bundles on node ${tools.node24.version}` : ''}${tools.lego ? `, lego ${tools.lego.version}` : ''}; load average at the end ${load.join(' ')}`,
    ...targets.map(
      (t) =>
        `  ${t.met === null || t.met === undefined ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${t.value}`,
    ),
    ...failed.map((s) => `  FAILED  section ${s} (see above)`),
    '',
  ].join('\n');
  process.stdout.write(summary);

  const latest = {
    date: started.toISOString(),
    sections: selected,
    revision,
    machine: { cpus: cpus().length, memoryBytes: totalmem(), node: process.version, loadavgAtEnd: load },
    ...(tools.node24 ? { node24: tools.node24 } : {}),
    ...Object.fromEntries(Object.entries(done).map(([k, v]) => [k, v.json])),
    targets,
    failed,
  };
  await mkdir(OUT, { recursive: true });
  await writeFile(join(OUT, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
  say(`wrote ${join('bench', 'out', 'latest.json')}`);
  if (failed.length) process.exitCode = 1;
  else if (process.env.BENCH_ENFORCE === '1' && targets.some((t) => t.met === false)) process.exitCode = 3;
}

try {
  await main();
} finally {
  await Scope.closeAll();
}
