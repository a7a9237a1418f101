// Section `single`: certkeeper vs lego, one apex + wildcard certificate per run from a local
// Pebble (PEBBLE_VA_NOSLEEP=1) with DNS-01 through challtestsrv. Each timed run is a whole process,
// timed from spawn to exit, with its peak RSS. Both tools register their ACME account in an
// untimed warm-up run, so the timed runs measure issuance only. See bench/README.md.

import { chmod, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  hashDir,
  intEnv,
  leafOf,
  legoFlags,
  legoIssue,
  measure,
  mib,
  ROOT,
  Scope,
  say,
  sec,
  stats,
  ToolError,
} from './lib.mjs';

const TARGET = { certkeeperMedianMs: 1000, ratio: 5 };
const PEBBLE_ENV = { PEBBLE_VA_NOSLEEP: '1' }; // also startPebbleStack's default; explicit on purpose
const LEGO_EXEC = join(ROOT, 'bench', 'lego-exec.sh');

function certkeeperRunner(stack, ck, tmp, rss) {
  const storeDir = join(tmp, 'certkeeper-store');
  const accountDir = join(storeDir, '_account');
  const config = (domain) => ({
    version: 1,
    acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, email: 'bench@example.com' },
    certificates: [
      {
        id: 'bench',
        domains: [domain, `*.${domain}`],
        keyType: 'ec-p256',
        dns: {
          provider: 'challtestsrv',
          url: stack.challtestsrvUrl,
          propagation: { resolvers: [stack.dnsResolver], interval: '250ms', timeout: '30s' },
        },
        store: { type: 'file', dir: storeDir },
      },
    ],
  });
  const seen = new Set();
  return async function issue(domain) {
    const cfg = join(tmp, 'certkeeper.json');
    await writeFile(cfg, JSON.stringify(config(domain), null, 2));
    const args = [...ck.args, 'run', '--force', '--json', '--config', cfg];
    const r = await measure(ck.cmd, args, { env: process.env, cwd: tmp, rss, tmp });
    const why = (msg) => new ToolError('certkeeper', `${msg} (exit ${r.code})`, r.output);
    if (r.code !== 0) throw why('certkeeper run failed');
    let result;
    try {
      result = JSON.parse(r.stdout).results?.[0];
    } catch {
      throw why('certkeeper --json printed no JSON');
    }
    if (result?.status !== 'renewed') throw why(`certificate not renewed: ${JSON.stringify(result)}`);
    const leaf = leafOf(join(storeDir, 'bench', 'cert.pem'));
    if (seen.has(leaf.serial) || !leaf.names.includes(domain) || !leaf.names.includes(`*.${domain}`))
      throw why(`no new certificate for ${domain} in the store (serial ${leaf.serial}, names ${leaf.names})`);
    seen.add(leaf.serial);
    const inProcessMs = JSON.parse(r.stdout).durationMs; // the run itself, without process start-up
    return { ...r, serial: leaf.serial, account: hashDir(accountDir), inProcessMs };
  };
}

function legoRunner(stack, lego, tmp, rss) {
  const legoPath = join(tmp, 'lego');
  const env = {
    ...process.env,
    LEGO_CA_CERTIFICATES: stack.caBundlePath, // trust Pebble's listener certificate
    EXEC_PATH: LEGO_EXEC,
    EXEC_POLLING_INTERVAL: '0', // s; integer seconds, 0 is the lowest it parses (default 2)
    EXEC_PROPAGATION_TIMEOUT: '10', // s; only a cap, never waited for when the check passes (default 60)
    EXEC_SEQUENCE_INTERVAL: '0', // s; exec is a "sequential" provider: default 60 s sleep between authzs
    LEGO_DISABLE_CNAME_SUPPORT: 'true', // skip the CNAME-chasing DNS query per authorization
    BENCH_CHALLTESTSRV_URL: stack.challtestsrvUrl, // read by lego-exec.sh
  };
  const flags = legoFlags({ server: stack.acmeDirectory, path: legoPath, dns: 'exec', resolver: stack.dnsResolver });
  const seen = new Set();
  async function issue(domain) {
    const { r, leaf, why } = await legoIssue({ lego, flags, legoPath, domain, env, tmp, rss, label: 'lego' });
    if (seen.has(leaf.serial)) throw why(`no new certificate for ${domain} (serial ${leaf.serial} seen before)`);
    seen.add(leaf.serial);
    const registered = /Registering account|acme: Registering/i.test(r.output);
    return { ...r, serial: leaf.serial, registered };
  }
  const shown = (v) =>
    v === stack.acmeDirectory
      ? '<acmeDirectory>'
      : v === stack.dnsResolver
        ? '<dnsResolver>'
        : v === legoPath
          ? '<tmp>/lego'
          : v;
  const describe = {
    flags: [...flags.map(shown), '-d', '<domain>', '-d', '*.<domain>', 'run'].join(' '),
    env: Object.fromEntries(
      Object.entries(env)
        .filter(([k]) => !(k in process.env))
        .map(([k, v]) => [
          k,
          v === stack.caBundlePath
            ? '<caBundlePath>'
            : v === stack.challtestsrvUrl
              ? '<challtestsrvUrl>'
              : v === LEGO_EXEC
                ? 'bench/lego-exec.sh'
                : v,
        ]),
    ),
  };
  return { issue, describe };
}

/**
 * Runs the section; returns { text, json, targets } for run.mjs. `ctx`: the tools resolved by
 * run.mjs (lego, rss, ck, devstack) and `tmp`, a directory of this section's own.
 */
export async function runSingle({ lego, rss, ck, devstack, tmp }) {
  const N = intEnv('BENCH_N', 7);
  await chmod(LEGO_EXEC, 0o755).catch(() => {});
  const scope = new Scope();
  try {
    say('single: starting Pebble (PEBBLE_VA_NOSLEEP=1) and challtestsrv …');
    const stack = await devstack.startPebbleStack({ env: PEBBLE_ENV, maxLifetimeSec: 3600 });
    scope.defer(() => stack.stop());
    try {
      return await timedRuns({ N, stack, lego, rss, ck, tmp });
    } catch (error) {
      if (!(error instanceof ToolError)) error.stackLogs = stack.logs();
      throw error;
    }
  } finally {
    await scope.close();
  }
}

async function timedRuns({ N, stack, lego, rss, ck, tmp }) {
  const ckIssue = certkeeperRunner(stack, ck, tmp, rss);
  const legoTool = legoRunner(stack, lego, tmp, rss);

  say('single: warm-up (untimed): register the ACME account of each tool and issue example.com + *.example.com');
  const ckWarm = await ckIssue('example.com');
  const legoWarm = await legoTool.issue('example.com');
  if (!legoWarm.registered) say('note: lego did not log an account registration in its warm-up');
  say(`single: warm-up: certkeeper ${sec(ckWarm.ms)}, lego ${sec(legoWarm.ms)} (both include account registration)`);

  const runs = { certkeeper: [], lego: [] };
  for (let i = 1; i <= N; i++) {
    // Interleaved, with fresh names each time, so no authorization can be reused and drift
    // in machine load hits both tools alike.
    const c = await ckIssue(`bench-ck-${i}.example.com`);
    if (c.account !== ckWarm.account)
      throw new ToolError('certkeeper', 'the stored ACME account changed in a timed run', c.output);
    const l = await legoTool.issue(`bench-lego-${i}.example.com`);
    if (l.registered) throw new ToolError('lego', 'registered a new account in a timed run', l.output);
    runs.certkeeper.push(c);
    runs.lego.push(l);
    say(
      `single: run ${i}/${N}: certkeeper ${sec(c.ms)} (${mib(c.rssKb)}, serial ${c.serial.slice(0, 12)}…), lego ${sec(l.ms)} (${mib(l.rssKb)}, serial ${l.serial.slice(0, 12)}…)`,
    );
  }

  // Context for the numbers: what start-up alone costs (bundle load, no network), and machine load.
  const startup = [];
  for (let i = 0; i < Math.min(N, 5); i++) {
    const r = await measure(ck.cmd, [...ck.args, '--help'], { env: process.env, cwd: tmp, rss, tmp });
    if (r.code !== 0) throw new ToolError('certkeeper', `--help failed (exit ${r.code})`, r.output);
    startup.push(r);
  }
  const load = loadavg().map((x) => Math.round(x * 100) / 100);

  const summary = (rs) => ({
    ms: stats(rs.map((r) => r.ms)),
    rssKb: stats(rs.map((r) => r.rssKb)),
    runsMs: rs.map((r) => Math.round(r.ms * 10) / 10),
    rssKbRuns: rs.map((r) => r.rssKb),
    serials: rs.map((r) => r.serial),
  });
  const c = {
    ...summary(runs.certkeeper),
    inProcessMs: stats(runs.certkeeper.map((r) => r.inProcessMs)),
    startupOnlyMs: stats(startup.map((r) => r.ms)),
    startupOnlyRssKb: stats(startup.map((r) => r.rssKb)),
  };
  const l = summary(runs.lego);
  // Pebble sends no Retry-After on a challenge; when its asynchronous validation has not finished
  // by the time it answers the challenge POST, lego 4.x waits a fixed 5 s before polling.
  l.runsHit5sFallback = runs.lego.filter((r) => r.ms >= 5000).length;
  const fast = runs.lego.filter((r) => r.ms < 5000).map((r) => r.ms);
  l.withoutFallbackMs = fast.length ? stats(fast) : null;
  const ratio = {
    median: l.ms.median / c.ms.median,
    p90: l.ms.p90 / c.ms.p90,
    medianWithoutLegoFallback: l.withoutFallbackMs ? l.withoutFallbackMs.median / c.ms.median : null,
  };
  const met = {
    certkeeperMedianLe1s: c.ms.median <= TARGET.certkeeperMedianMs,
    ratioGe5x: ratio.median >= TARGET.ratio,
  };

  const rows = [
    ['tool', 'runs', 'median', 'p90', 'min', 'max', 'peak RSS (median)', 'peak RSS (max)'],
    ...[
      ['certkeeper', c],
      ['lego', l],
    ].map(([name, s]) => [
      name,
      String(N),
      sec(s.ms.median),
      sec(s.ms.p90),
      sec(s.ms.min),
      sec(s.ms.max),
      mib(s.rssKb.median),
      mib(s.rssKb.max),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const text = [
    `== single: one apex + wildcard certificate from Pebble (PEBBLE_VA_NOSLEEP=1), whole process, spawn → exit; peak RSS via ${rss === 'gnu-time' ? '/usr/bin/time %M' : '/proc VmHWM polling'}`,
    `certkeeper: ${ck.via === 'dist' ? `node bin/certkeeper.js (dist/cli, node ${process.version})` : 'tsx src/entrypoints/cli/index.ts (build failed)'}; lego ${lego.version}`,
    '',
    line(rows[0]),
    ...rows.slice(1).map(line),
    '',
    `certkeeper in-process (run's own durationMs): median ${sec(c.inProcessMs.median)}; \`certkeeper --help\` alone: median ${sec(c.startupOnlyMs.median)}, ${mib(c.startupOnlyRssKb.median)}`,
    `lego runs that hit its fixed 5 s authorization-poll delay (Pebble sends no Retry-After): ${l.runsHit5sFallback}/${N}` +
      (l.withoutFallbackMs
        ? `; the other ${fast.length}: median ${sec(l.withoutFallbackMs.median)} (ratio ${ratio.medianWithoutLegoFallback.toFixed(2)}×)`
        : ''),
    `machine: ${cpus().length} CPUs, load average ${load.join(' ')}`,
    `ratio lego/certkeeper: median ${ratio.median.toFixed(1)}×, p90 ${ratio.p90.toFixed(1)}×`,
    `targets: certkeeper median ≤ 1 s: ${met.certkeeperMedianLe1s ? 'met' : 'MISSED'}; ≥ 5× faster than lego: ${met.ratioGe5x ? 'met' : 'MISSED'}`,
  ].join('\n');

  const json = {
    n: N,
    pebble: { env: PEBBLE_ENV, note: 'startPebbleStack defaults: PEBBLE_AUTHZREUSE=0, PEBBLE_WFE_NONCEREJECT=0' },
    timing: 'wall time from spawn() to the exit event of the tool process (under /usr/bin/time when used)',
    rssMethod: rss,
    loadavgAtEnd: load,
    certkeeper: {
      via: ck.via,
      node: process.version,
      command: `${ck.via === 'dist' ? 'node bin/certkeeper.js' : 'tsx src/entrypoints/cli/index.ts'} run --force --json --config <tmp>/certkeeper.json`,
      warmupMs: Math.round(ckWarm.ms),
      ...c,
    },
    lego: { version: lego.version, ...legoTool.describe, warmupMs: Math.round(legoWarm.ms), ...l },
    ratio,
    targets: { ...TARGET, met },
  };
  return {
    text,
    json,
    targets: [
      { name: 'single: certkeeper median ≤ 1 s', met: met.certkeeperMedianLe1s, value: sec(c.ms.median) },
      { name: 'single: ≥ 5× faster than lego (median)', met: met.ratioGe5x, value: `${ratio.median.toFixed(1)}×` },
    ],
  };
}
