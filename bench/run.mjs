#!/usr/bin/env node
// `npm run bench`: certkeeper vs lego, one apex + wildcard certificate per run from a local Pebble
// (PEBBLE_VA_NOSLEEP=1) with DNS-01 through challtestsrv. Each timed run is a whole process, timed
// from spawn to exit, with its peak RSS. Both tools register their ACME account in an untimed
// warm-up run, so the timed runs measure issuance only. See bench/README.md.
//
// env: BENCH_N (timed runs per tool, default 7), BENCH_TIMEOUT_S (per process, default 120),
//      BENCH_ENFORCE=1 (exit 3 when a target is missed).

import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const N = Number.parseInt(process.env.BENCH_N ?? '7', 10);
if (!Number.isInteger(N) || N < 1) fail(`BENCH_N must be a positive integer, got "${process.env.BENCH_N}"`);
const TIMEOUT_MS = 1000 * Number(process.env.BENCH_TIMEOUT_S ?? 120);
const TARGET = { certkeeperMedianMs: 1000, ratio: 5 };
const PEBBLE_ENV = { PEBBLE_VA_NOSLEEP: '1' }; // also startPebbleStack's default; explicit on purpose
const LEGO_EXEC = join(ROOT, 'bench', 'lego-exec.sh');
const say = (s) => process.stderr.write(`bench: ${s}\n`);

function fail(message, code = 1) {
  process.stderr.write(`bench: FAILED: ${message}\n`);
  process.exit(code);
}

function which(cmd) {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return join(d, cmd);
    } catch {}
  }
  return undefined;
}

/** apt-get install -y <pkg> when root (apt-get update first if the package is unknown). */
function aptInstall(pkg) {
  if (process.getuid?.() !== 0) return false;
  say(`${pkg} not found: apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, stdio: 'inherit' });
  if (install().status === 0) return true;
  spawnSync('apt-get', ['update'], { env, stdio: 'inherit' });
  return install().status === 0;
}

// ---------- tools ----------

function ensureLego() {
  let lego = which('lego');
  if (!lego && aptInstall('lego')) lego = which('lego');
  if (!lego) fail('lego is not installed (Debian package `lego`: sudo apt-get install -y lego)');
  const v = spawnSync(lego, ['--version'], { encoding: 'utf8' });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'lego'], { encoding: 'utf8' });
  return { path: lego, version: `${v.stdout.trim()}${dpkg.status === 0 ? ` (Debian ${dpkg.stdout.trim()})` : ''}` };
}

/** GNU time gives each process's peak RSS (ru_maxrss); without it we poll /proc/<pid>/status VmHWM. */
function rssMethod() {
  if (existsSync('/usr/bin/time') || aptInstall('time')) {
    if (existsSync('/usr/bin/time')) return 'gnu-time';
  }
  say('GNU time unavailable: peak RSS from polling /proc/<pid>/status VmHWM every 5 ms (may miss the last ms)');
  return 'vmhwm-poll';
}

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The built CLI when it is fresh or can be rebuilt; else the TypeScript sources through tsx. */
function certkeeperCommand() {
  const bundle = join(ROOT, 'dist', 'cli', 'index.js');
  const stale = () =>
    !existsSync(bundle) ||
    statSync(bundle).mtimeMs <
      Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'package-lock.json')).mtimeMs);
  if (stale()) {
    say('dist/cli/index.js is missing or older than src/: building it (node scripts/build.mjs cli)');
    const b = spawnSync(process.execPath, ['scripts/build.mjs', 'cli'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0 || !existsSync(bundle)) {
      say(`build failed, falling back to tsx on the sources:\n${(b.stderr + b.stdout).slice(-2000)}`);
      return {
        via: 'tsx',
        cmd: join(ROOT, 'node_modules', '.bin', 'tsx'),
        args: [join(ROOT, 'src', 'entrypoints', 'cli', 'index.ts')],
      };
    }
  }
  return { via: 'dist', cmd: process.execPath, args: [join(ROOT, 'bin', 'certkeeper.js')] };
}

// ---------- measuring one process ----------

let current; // the tool process running now, killed if the bench is interrupted

/** Spawns, waits for exit; wall time from just before spawn() to the exit event, and peak RSS. */
async function measure(cmd, args, { env, cwd, rss, tmp }) {
  const rssFile = join(tmp, 'rss.txt');
  const [file, argv] = rss === 'gnu-time' ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  let out = '';
  let peakKb = 0;
  const t0 = performance.now();
  const child = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  current = child;
  let poller;
  if (rss === 'vmhwm-poll') {
    poller = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {}
    }, 5);
  }
  const stdout = [];
  child.stdout.on('data', (d) => stdout.push(d));
  const keep = (d) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A tool stuck on an unresponsive server must not hang the bench: kill it (and its child under
  // /usr/bin/time) and report what it printed.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid);
  }, TIMEOUT_MS);
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve(c ?? sig));
  });
  const ms = performance.now() - t0;
  clearTimeout(timer);
  if (timedOut) out += `\n[bench: killed after ${TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_S)]`;
  current = undefined;
  clearInterval(poller);
  await new Promise((r) => (child.stdout.readableEnded ? r() : child.stdout.once('end', r)));
  if (rss === 'gnu-time') {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    peakKb = Number(/(\d+)\s*$/.exec(text.trim())?.[1] ?? 0);
  }
  return { code, ms, rssKb: peakKb, stdout: Buffer.concat(stdout).toString('utf8'), output: out };
}

/** SIGKILL a process and its direct children (the tool under /usr/bin/time). */
function killTree(pid) {
  if (!pid) return;
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean))
      process.kill(Number(c), 'SIGKILL');
  } catch {}
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

function tail(text, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The leaf of a PEM file: serial (lowercase hex, no leading zeros) and SAN list. */
function leafOf(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath));
  return {
    serial: cert.serialNumber.toLowerCase().replace(/^0+/, ''),
    names: (cert.subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, '')),
  };
}

function hashDir(dir) {
  const h = createHash('sha256');
  if (!existsSync(dir)) return 'missing';
  for (const name of readdirSync(dir).sort()) h.update(name).update(readFileSync(join(dir, name)));
  return h.digest('hex');
}

// ---------- the two tools ----------

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
  const flags = [
    '--server',
    stack.acmeDirectory,
    '--email',
    'bench@example.com',
    '--accept-tos',
    '--path',
    legoPath,
    '--key-type',
    'ec256',
    '--dns',
    'exec',
    '--dns.resolvers',
    stack.dnsResolver,
    '--dns.disable-cp',
    '--cert.timeout',
    '6',
  ];
  const seen = new Set();
  async function issue(domain) {
    const args = [...flags, '-d', domain, '-d', `*.${domain}`, 'run'];
    const r = await measure(lego.path, args, { env, cwd: tmp, rss, tmp });
    const why = (msg) => new ToolError('lego', `${msg} (exit ${r.code})`, r.output);
    if (r.code !== 0) throw why('lego run failed');
    const crt = join(legoPath, 'certificates', `${domain}.crt`);
    if (!existsSync(crt)) throw why(`lego wrote no ${crt}`);
    const leaf = leafOf(crt);
    if (seen.has(leaf.serial) || !leaf.names.includes(domain) || !leaf.names.includes(`*.${domain}`))
      throw why(`no new certificate for ${domain} (serial ${leaf.serial}, names ${leaf.names})`);
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

class ToolError extends Error {
  constructor(tool, message, output) {
    super(`${tool}: ${message}`);
    this.output = output;
  }
}

// ---------- statistics and report ----------

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]; // nearest rank
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  return {
    median: r(median),
    p90: r(at(0.9)),
    min: r(s[0]),
    max: r(s[s.length - 1]),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

const sec = (ms) => `${(ms / 1000).toFixed(3)} s`;
const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

// ---------- main ----------

async function main() {
  const lego = ensureLego();
  const rss = rssMethod();
  const ck = certkeeperCommand();
  await chmod(LEGO_EXEC, 0o755).catch(() => {});
  const devstack = await tsImport('../src/devstack/index.ts', import.meta.url);
  await devstack.ensurePebbleInstalled(say);

  const tmp = await mkdtemp(join(tmpdir(), 'certkeeper-bench-'));
  say(`starting Pebble (PEBBLE_VA_NOSLEEP=1) and challtestsrv …`);
  let stack;
  const cleanup = async () => {
    killTree(current?.pid);
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      say(`${sig}: stopping everything`);
      cleanup().finally(() => process.exit(130));
    });
  }
  try {
    stack = await devstack.startPebbleStack({ env: PEBBLE_ENV, maxLifetimeSec: 3600 });
    const ckIssue = certkeeperRunner(stack, ck, tmp, rss);
    const legoTool = legoRunner(stack, lego, tmp, rss);

    say('warm-up (untimed): register the ACME account of each tool and issue example.com + *.example.com');
    const ckWarm = await ckIssue('example.com');
    const legoWarm = await legoTool.issue('example.com');
    if (!legoWarm.registered) say('note: lego did not log an account registration in its warm-up');
    say(`warm-up: certkeeper ${sec(ckWarm.ms)}, lego ${sec(legoWarm.ms)} (both include account registration)`);

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
        `run ${i}/${N}: certkeeper ${sec(c.ms)} (${mib(c.rssKb)}, serial ${c.serial.slice(0, 12)}…), lego ${sec(l.ms)} (${mib(l.rssKb)}, serial ${l.serial.slice(0, 12)}…)`,
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
    const report = [
      '',
      `apex + wildcard issuance from Pebble (PEBBLE_VA_NOSLEEP=1), whole process, spawn → exit; peak RSS via ${rss === 'gnu-time' ? '/usr/bin/time %M' : '/proc VmHWM polling'}`,
      `certkeeper: ${ck.via === 'dist' ? 'node bin/certkeeper.js (dist/cli/index.js)' : 'tsx src/entrypoints/cli/index.ts (build failed)'}; lego ${lego.version}`,
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
      '',
    ].join('\n');
    process.stdout.write(report);

    const latest = {
      date: new Date().toISOString(),
      n: N,
      node: process.version,
      pebble: { env: PEBBLE_ENV, note: 'startPebbleStack defaults: PEBBLE_AUTHZREUSE=0, PEBBLE_WFE_NONCEREJECT=0' },
      timing: 'wall time from spawn() to the exit event of the tool process (under /usr/bin/time when used)',
      rssMethod: rss,
      machine: { cpus: cpus().length, loadavgAtEnd: load },
      certkeeper: {
        via: ck.via,
        command: `${ck.via === 'dist' ? 'node bin/certkeeper.js' : 'tsx src/entrypoints/cli/index.ts'} run --force --json --config <tmp>/certkeeper.json`,
        warmupMs: Math.round(ckWarm.ms),
        ...c,
      },
      lego: { version: lego.version, ...legoTool.describe, warmupMs: Math.round(legoWarm.ms), ...l },
      ratio,
      targets: { ...TARGET, met },
    };
    await mkdir(OUT, { recursive: true });
    await writeFile(join(OUT, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
    say(`wrote ${join('bench', 'out', 'latest.json')}`);
    if (process.env.BENCH_ENFORCE === '1' && !(met.certkeeperMedianLe1s && met.ratioGe5x)) process.exitCode = 3;
  } catch (error) {
    process.exitCode = 1;
    process.stderr.write(`bench: FAILED: ${error.message}\n`);
    if (error.output) process.stderr.write(`--- last output of the failed process ---\n${tail(error.output)}\n`);
    if (stack && !(error instanceof ToolError)) process.stderr.write(`--- stack logs ---\n${tail(stack.logs(), 30)}\n`);
  } finally {
    await cleanup();
    say('stopped Pebble and challtestsrv');
  }
}

await main();
