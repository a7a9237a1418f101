// Shared helpers of the bench sections (bench/run.mjs): finding the tools, measuring one process
// (wall time + peak RSS), statistics, and making sure everything started is stopped again.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(ROOT, 'bench', 'out');
/** Per-process limit for every tool process (a fleet run of certkeeper gets its own, longer one). */
export const TIMEOUT_MS = 1000 * Number(process.env.BENCH_TIMEOUT_S ?? 120);
export const say = (s) => process.stderr.write(`bench: ${s}\n`);

export function fail(message, code = 1) {
  process.stderr.write(`bench: FAILED: ${message}\n`);
  process.exit(code);
}

export function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number.parseInt(raw, 10);
  if (!Number.isInteger(n) || n < min || String(n) !== raw.trim())
    fail(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

export function which(cmd) {
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
export function aptInstall(pkg) {
  if (process.getuid?.() !== 0) return false;
  say(`${pkg} not found: apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, stdio: 'inherit' });
  if (install().status === 0) return true;
  spawnSync('apt-get', ['update'], { env, stdio: 'inherit' });
  return install().status === 0;
}

// ---------- tools (all resolved before any server starts: spawnSync must not block a server's log reader) ----------

export function ensureLego() {
  let lego = which('lego');
  if (!lego && aptInstall('lego')) lego = which('lego');
  if (!lego) fail('lego is not installed (Debian package `lego`: sudo apt-get install -y lego)');
  const v = spawnSync(lego, ['--version'], { encoding: 'utf8' });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'lego'], { encoding: 'utf8' });
  return { path: lego, version: `${v.stdout.trim()}${dpkg.status === 0 ? ` (Debian ${dpkg.stdout.trim()})` : ''}` };
}

/** GNU time gives each process's peak RSS (ru_maxrss); without it we poll /proc/<pid>/status VmHWM. */
export function rssMethod() {
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

/** Newest mtime of the sources a bundle is built from (src/ and package-lock.json). */
export function sourcesMtime() {
  return Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'package-lock.json')).mtimeMs);
}

/** Newest mtime of the files in a dist folder (0 when it is missing or empty). */
export function distMtime(dir) {
  return existsSync(dir) ? newestMtime(dir) : 0;
}

/** The built CLI when it is fresh or can be rebuilt; else the TypeScript sources through tsx. */
export function certkeeperCommand() {
  const bundle = join(ROOT, 'dist', 'cli', 'index.js');
  const stale = () => !existsSync(bundle) || statSync(bundle).mtimeMs < sourcesMtime();
  if (stale()) {
    say('dist/cli is missing or older than src/: building it (node scripts/build.mjs cli)');
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

/** dist/lambda (the fleet handlers) rebuilt when it is missing or older than src/; fails otherwise. */
export function ensureLambdaBundle() {
  const bundle = join(ROOT, 'dist', 'lambda', 'index.mjs');
  if (existsSync(bundle) && distMtime(join(ROOT, 'dist', 'lambda')) >= sourcesMtime()) return bundle;
  say('dist/lambda is missing or older than src/: building it (node scripts/build.mjs lambda)');
  const b = spawnSync(process.execPath, ['scripts/build.mjs', 'lambda'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0 || !existsSync(bundle))
    fail(`building dist/lambda failed:\n${(b.stderr + b.stdout).slice(-2000)}`);
  return bundle;
}

/**
 * The Node 24 binary (the Action's `runs.using: node24`, Lambda's nodejs24.x), from the npm
 * registry through npx (cached after the first call). Falls back to this Node, loudly.
 */
export function node24() {
  const r = spawnSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath + " " + process.version'], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  const [path, version] = (r.stdout ?? '').trim().split('\n').pop().split(' ');
  if (r.status === 0 && version?.startsWith('v24.') && existsSync(path)) return { path, version, fallback: false };
  say(`node@24 unavailable (${(r.stderr ?? '').trim().slice(-300) || r.error?.message}); using ${process.version}`);
  return { path: process.execPath, version: process.version, fallback: true };
}

// ---------- measuring one process ----------

/** Tool processes running now; killed if the bench is interrupted or a section fails. */
export const live = new Set();
let rssSeq = 0;

/**
 * Spawns, waits for exit; wall time from just before spawn() to the exit event, and peak RSS
 * (GNU time's %M, i.e. ru_maxrss of the tool, in KiB). Killed (with its child) after timeoutMs.
 * `onSpawn(child)` sees the process (the /usr/bin/time wrapper when GNU time is used); `output`
 * keeps the last `keepChars` of stdout + stderr.
 */
export async function measure(cmd, args, { env, cwd, rss, tmp, timeoutMs = TIMEOUT_MS, onSpawn, keepChars = 20_000 }) {
  const rssFile = join(tmp, `rss-${process.pid}-${++rssSeq}.txt`);
  const [file, argv] = rss === 'gnu-time' ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  let out = '';
  let peakKb = 0;
  const t0 = performance.now();
  const child = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  onSpawn?.(child);
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
    out = (out + d.toString()).slice(-keepChars);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A tool stuck on an unresponsive server must not hang the bench: kill it (and its child under
  // /usr/bin/time) and report what it printed.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid);
  }, timeoutMs);
  let code;
  try {
    code = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, sig) => resolve(c ?? sig));
    });
  } finally {
    clearTimeout(timer);
    clearInterval(poller);
    live.delete(child);
  }
  const ms = performance.now() - t0;
  if (timedOut) out += `\n[bench: killed after ${timeoutMs / 1000} s]`;
  await new Promise((r) => (child.stdout.readableEnded ? r() : child.stdout.once('end', r)));
  if (rss === 'gnu-time') {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    peakKb = Number(/(\d+)\s*$/.exec(text.trim())?.[1] ?? 0);
    await rm(rssFile, { force: true });
  }
  return { code, ms, rssKb: peakKb, timedOut, stdout: Buffer.concat(stdout).toString('utf8'), output: out };
}

/** The direct children of a process (e.g. the tool under /usr/bin/time). */
export function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILL a process and its direct children (the tool under /usr/bin/time). */
export function killTree(pid) {
  if (!pid) return;
  for (const c of childrenOf(pid)) {
    try {
      process.kill(c, 'SIGKILL');
    } catch {}
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

export function killLive() {
  for (const child of live) killTree(child.pid);
}

/**
 * Things to stop, last started first. Each section opens one and closes it in a `finally`; the
 * signal handler in run.mjs closes every open one.
 */
export class Scope {
  static open = new Set();
  #stops = [];
  constructor() {
    Scope.open.add(this);
  }
  /** Registers fn to run at close(); returns what it is given for chaining. */
  defer(fn) {
    this.#stops.push(fn);
  }
  async close() {
    Scope.open.delete(this);
    killLive();
    while (this.#stops.length > 0) {
      const fn = this.#stops.pop();
      try {
        await fn();
      } catch (error) {
        say(`cleanup step failed: ${error?.message ?? error}`);
      }
    }
  }
  static async closeAll() {
    killLive();
    for (const s of [...Scope.open]) await s.close();
  }
}

/** Rejects after ms (the label says what did not finish); the timer does not keep the process alive. */
export function withTimeout(promise, ms, label) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${label}: no result after ${Math.round(ms / 1000)} s`)), ms);
      t.unref();
    }),
  ]).finally(() => clearTimeout(t));
}

export class ToolError extends Error {
  constructor(tool, message, output) {
    super(`${tool}: ${message}`);
    this.output = output;
  }
}

export function tail(text, lines = 40) {
  return String(text ?? '')
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .join('\n');
}

/** The leaf of a PEM file: serial (lowercase hex, no leading zeros) and SAN list. */
export function leafOf(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath));
  return {
    serial: cert.serialNumber.toLowerCase().replace(/^0+/, ''),
    names: (cert.subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, '')),
    notAfter: cert.validTo,
  };
}

export function hashDir(dir) {
  const h = createHash('sha256');
  if (!existsSync(dir)) return 'missing';
  for (const name of readdirSync(dir).sort()) h.update(name).update(readFileSync(join(dir, name)));
  return h.digest('hex');
}

// ---------- statistics and formatting ----------

export function stats(values) {
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

export const sec = (ms) => `${(ms / 1000).toFixed(3)} s`;
export const msf = (ms) => `${Math.round(ms)} ms`;
export const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

/** A plain-text table: first column left-aligned, the others right-aligned (`left` columns too). */
export function table(rows, left = 1) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r.map((v, i) => (i < left ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  ');
  return rows.map(line).join('\n');
}

/**
 * The benches' one lego command line for an apex + wildcard run (bench/README.md: how lego is
 * tuned): `server`, the account and certificate directory `path`, the `dns` provider and the
 * `resolver` its propagation check asks.
 */
export function legoFlags({ server, path, dns, resolver }) {
  return [
    '--server',
    server,
    '--email',
    'bench@example.com',
    '--accept-tos',
    '--path',
    path,
    '--key-type',
    'ec256',
    '--dns',
    dns,
    '--dns.resolvers',
    resolver,
    '--dns.disable-cp',
    '--cert.timeout',
    '6',
  ];
}

/**
 * One `lego run` for `domain` and `*.domain`, measured; fails (ToolError named `label`) unless lego
 * exited 0 and wrote a certificate with both names. `onResult` sees the run before the checks (a
 * log kept even when they fail). Returns the run, the certificate's leaf and the error maker for
 * the caller's own checks (a new serial, …).
 */
export async function legoIssue({ lego, flags, legoPath, domain, env, tmp, rss, label, onSpawn, onResult }) {
  const args = [...flags, '-d', domain, '-d', `*.${domain}`, 'run'];
  const r = await measure(lego.path, args, { env, cwd: tmp, rss, tmp, onSpawn });
  await onResult?.(r);
  const why = (msg) => new ToolError(label, `${msg} (exit ${r.code})`, r.output);
  if (r.code !== 0) throw why('lego run failed');
  const crt = join(legoPath, 'certificates', `${domain}.crt`);
  if (!existsSync(crt)) throw why(`lego wrote no ${crt}`);
  const leaf = leafOf(crt);
  if (!leaf.names.includes(domain) || !leaf.names.includes(`*.${domain}`))
    throw why(`no certificate for ${domain} and *.${domain} (names ${leaf.names})`);
  return { r, leaf, why };
}
