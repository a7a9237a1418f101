// Section `entrypoints` (issue 4): what each entry point costs before it does any work, and a
// scheduled run where nothing is due — the run users pay for most often.
//
//  1. bundle sizes of dist/action, dist/lambda and dist/cli (every file: entry + chunks);
//  2. cold import of each bundle: BENCH_IMPORT_N fresh Node 24 processes each (the import timed
//     inside the process with performance.now(), and the whole process spawn → exit);
//  3. a file store seeded with 50 valid certificates by one certkeeper run (concurrency 8) on a
//     local Pebble (challtestsrv DNS) — timed too, as a fleet run without DNS latency;
//  4. a no-op run over those 50 (none due) as a whole process: the CLI, the Action
//     (`node dist/action/index.js` as the runner starts it) and the Lambda (a driver that imports
//     dist/lambda/index.mjs and calls handler(event, context) once), BENCH_NOOP_N times each.
//
// Everything runs on Node 24 (`runs.using: node24`, nodejs24.x). See bench/README.md.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import YAML from 'yaml';
import {
  distMtime,
  intEnv,
  leafOf,
  measure,
  mib,
  msf,
  ROOT,
  Scope,
  say,
  sec,
  sourcesMtime,
  stats,
  ToolError,
  table,
} from './lib.mjs';

const TARGET = { lambdaBytes: 2 * 1024 * 1024, lambdaImportMs: 250, noopMs: 1500 };
const IMPORT_TIMER = join(ROOT, 'bench', 'drivers', 'import-timer.mjs');
const LAMBDA_INVOKE = join(ROOT, 'bench', 'drivers', 'lambda-invoke.mjs');
const BUNDLES = [
  { name: 'action', dir: 'dist/action', entry: 'dist/action/index.js', args: [] },
  { name: 'lambda', dir: 'dist/lambda', entry: 'dist/lambda/index.mjs', args: [] },
  { name: 'cli', dir: 'dist/cli', entry: 'dist/cli/index.js', args: ['--help'] },
];

/** What a fresh process gets: no inherited NODE_OPTIONS, compile cache, AWS or proxy settings. */
function baseEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', ...extra };
}

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function sizes() {
  const newestSource = sourcesMtime();
  return BUNDLES.map((b) => {
    const dir = join(ROOT, b.dir);
    if (!existsSync(join(ROOT, b.entry))) throw new Error(`${b.entry} is missing: run npm run build`);
    const files = filesUnder(dir);
    let bytes = 0;
    let gzipBytes = 0;
    for (const f of files) {
      const data = readFileSync(f);
      bytes += data.length;
      gzipBytes += gzipSync(data, { level: 9 }).length;
    }
    return {
      name: b.name,
      dir: b.dir,
      entryBytes: statSync(join(ROOT, b.entry)).size,
      files: files.map((f) => relative(ROOT, f)).sort(),
      bytes,
      gzipBytes,
      olderThanSources: distMtime(dir) < newestSource,
    };
  });
}

export async function runEntrypoints({ rss, ck, node24, devstack, tmp }) {
  const importN = intEnv('BENCH_IMPORT_N', 10);
  const noopN = intEnv('BENCH_NOOP_N', 5);
  const certs = intEnv('BENCH_NOOP_CERTS', 50);
  const seedConcurrency = intEnv('BENCH_SEED_CONCURRENCY', 8);
  const node = node24.path;
  if (ck.via !== 'dist') throw new Error('dist/cli could not be built: the entry points are measured on the bundles');

  // ---- 1. sizes ----
  const size = sizes();
  for (const s of size)
    if (s.olderThanSources)
      say(`entrypoints: note: ${s.dir} is older than src/ (npm run build to measure the current sources)`);

  // ---- 2. cold imports ----
  const emptyDir = join(tmp, 'empty');
  await mkdir(emptyDir, { recursive: true });
  let seq = 0;
  async function timedImport(bundle) {
    const out = join(tmp, `import-${++seq}.json`);
    const env = baseEnv({
      CK_BENCH_OUT: out,
      ...(bundle.name === 'lambda' ? { AWS_LAMBDA_FUNCTION_NAME: 'certkeeper', AWS_REGION: 'us-east-1' } : {}),
      ...(bundle.name === 'action' ? { GITHUB_ACTIONS: 'true' } : {}),
    });
    const r = await measure(node, [IMPORT_TIMER, join(ROOT, bundle.entry), ...bundle.args], {
      env,
      cwd: emptyDir,
      rss,
      tmp,
    });
    let t;
    try {
      t = JSON.parse(await readFile(out, 'utf8'));
    } catch {
      throw new ToolError(bundle.name, `import of ${bundle.entry} did not finish (exit ${r.code})`, r.output);
    }
    if (t.error) throw new ToolError(bundle.name, `import of ${bundle.entry} failed: ${t.error}`, r.output);
    return { importMs: t.importMs, bootMs: t.bootMs, wallMs: r.ms, rssKb: r.rssKb, code: r.code };
  }
  const bare = [];
  const imports = Object.fromEntries(BUNDLES.map((b) => [b.name, []]));
  say(`entrypoints: cold imports, ${importN} fresh node ${node24.version} processes per bundle (interleaved)`);
  for (let i = 0; i < importN; i++) {
    const b0 = await measure(node, ['-e', '0'], { env: baseEnv(), cwd: emptyDir, rss, tmp });
    bare.push({ wallMs: b0.ms, rssKb: b0.rssKb });
    for (const b of BUNDLES) imports[b.name].push(await timedImport(b));
  }

  // ---- 3. seed the store (and a fleet timing without DNS latency) ----
  const scope = new Scope();
  let stack;
  try {
    say('entrypoints: starting Pebble and challtestsrv …');
    stack = await devstack.startPebbleStack({ env: { PEBBLE_VA_NOSLEEP: '1' }, maxLifetimeSec: 3600 });
    scope.defer(() => stack.stop());
    const workspace = join(tmp, 'workspace');
    const storeDir = join(workspace, 'certs');
    await mkdir(workspace, { recursive: true });
    const ids = Array.from({ length: certs }, (_, i) => `noop-${String(i + 1).padStart(2, '0')}`);
    const config = {
      version: 1,
      acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, email: 'bench@example.com' },
      concurrency: seedConcurrency,
      defaults: {
        keyType: 'ec-p256',
        dns: {
          provider: 'challtestsrv',
          url: stack.challtestsrvUrl,
          propagation: { resolvers: [stack.dnsResolver], interval: '250ms', timeout: '30s' },
        },
        store: { type: 'file', dir: storeDir },
      },
      certificates: ids.map((id) => ({ id, domains: [`${id}.example.com`, `*.${id}.example.com`] })),
    };
    const configText = JSON.stringify(config, null, 2);
    const cfg = join(workspace, 'certkeeper.json');
    await writeFile(cfg, configText);
    const cli = join(ROOT, 'bin', 'certkeeper.js');
    say(
      `entrypoints: seeding the file store: one certkeeper run, ${certs} certificates, concurrency ${seedConcurrency}`,
    );
    const seed = await measure(node, [cli, 'run', '--json', '--config', cfg], {
      env: baseEnv(),
      cwd: workspace,
      rss,
      tmp,
      timeoutMs: 1000 * intEnv('BENCH_FLEET_TIMEOUT_S', 600),
    });
    const seedReport = parseJson(seed.stdout);
    const notRenewed = (seedReport?.results ?? []).filter((r) => r.status !== 'renewed');
    if (seed.code !== 0 || seedReport?.results?.length !== certs || notRenewed.length)
      throw new ToolError(
        'certkeeper',
        `seeding ${certs} certificates failed (exit ${seed.code}): ${notRenewed
          .slice(0, 3)
          .map((r) => `${r.id} ${r.status} ${r.error?.message ?? ''}`)
          .join('; ')}`,
        seed.output,
      );
    for (const id of ids) leafOf(join(storeDir, id, 'cert.pem'));
    say(`entrypoints: seeded ${certs} certificates in ${sec(seed.ms)} (${mib(seed.rssKb)})`);

    // ---- 4. no-op runs ----
    const actionDefaults = {};
    const action = YAML.parse(await readFile(join(ROOT, 'action.yml'), 'utf8'));
    for (const [name, input] of Object.entries(action.inputs ?? {}))
      if (input.default !== undefined) actionDefaults[`INPUT_${name.toUpperCase()}`] = String(input.default);

    const expectSkipped = (tool, results, r) => {
      const bad = (results ?? []).filter((x) => x.status !== 'skipped');
      if (results?.length !== certs || bad.length)
        throw new ToolError(
          tool,
          `no-op run: expected ${certs} skipped, got ${results?.length ?? 'no'} results (${bad
            .slice(0, 3)
            .map((x) => `${x.id} ${x.status} ${x.error?.message ?? ''}`)
            .join('; ')}) (exit ${r.code})`,
          r.output,
        );
    };
    const noop = {
      cli: async () => {
        const r = await measure(node, [cli, 'run', '--json', '--config', cfg], {
          env: baseEnv(),
          cwd: workspace,
          rss,
          tmp,
        });
        if (r.code !== 0) throw new ToolError('cli', `no-op run exited ${r.code}`, r.output);
        expectSkipped('cli', parseJson(r.stdout)?.results, r);
        return r;
      },
      action: async () => {
        const files = join(tmp, `runner-${++seq}`);
        await mkdir(files);
        const paths = {
          GITHUB_OUTPUT: join(files, 'output'),
          GITHUB_STEP_SUMMARY: join(files, 'summary'),
          GITHUB_STATE: join(files, 'state'),
          GITHUB_ENV: join(files, 'env'),
          GITHUB_PATH: join(files, 'path'),
        };
        for (const p of Object.values(paths)) await writeFile(p, '');
        const env = baseEnv({
          GITHUB_ACTIONS: 'true',
          CI: 'true',
          GITHUB_RUN_ID: '4242',
          GITHUB_REPOSITORY: 'acme/infra',
          GITHUB_WORKSPACE: workspace,
          RUNNER_TEMP: files,
          ...paths,
          ...actionDefaults,
          INPUT_CONFIG: cfg,
        });
        const r = await measure(node, [join(ROOT, 'dist', 'action', 'index.js')], { env, cwd: workspace, rss, tmp });
        if (r.code !== 0) throw new ToolError('action', `no-op run exited ${r.code}`, r.output);
        const outputs = parseOutputFile(await readFile(paths.GITHUB_OUTPUT, 'utf8'));
        expectSkipped('action', parseJson(outputs.results ?? '')?.results, r);
        await rm(files, { recursive: true, force: true });
        return r;
      },
      lambda: async () => {
        const out = join(tmp, `lambda-${++seq}.json`);
        const env = baseEnv({
          CK_BUNDLE: join(ROOT, 'dist', 'lambda', 'index.mjs'),
          CK_BENCH_OUT: out,
          CERTKEEPER_CONFIG: configText,
          AWS_LAMBDA_FUNCTION_NAME: 'certkeeper',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
          AWS_REGION: 'us-east-1',
        });
        const r = await measure(node, [LAMBDA_INVOKE], { env, cwd: workspace, rss, tmp });
        let o;
        try {
          o = JSON.parse(await readFile(out, 'utf8'));
        } catch {
          throw new ToolError('lambda', `the handler did not finish (exit ${r.code})`, r.output);
        }
        if (!o.ok) throw new ToolError('lambda', `the handler threw ${o.name}: ${o.message}`, r.output);
        expectSkipped('lambda', o.value?.results, r);
        return { ...r, inner: { importMs: o.importMs, handlerMs: o.handlerMs } };
      },
    };
    const noops = { cli: [], action: [], lambda: [] };
    say(`entrypoints: no-op runs over ${certs} stored certificates, ${noopN} per entry point (interleaved)`);
    for (let i = 0; i < noopN; i++) {
      for (const name of ['cli', 'action', 'lambda']) noops[name].push(await noop[name]());
    }
    return report({ size, imports, bare, seed, seedReport, noops, certs, seedConcurrency, node24, importN, noopN });
  } catch (error) {
    if (!(error instanceof ToolError) && stack) error.stackLogs = stack.logs();
    throw error;
  } finally {
    await scope.close();
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** GITHUB_OUTPUT's format: `name<<DELIMITER\nvalue\nDELIMITER\n`, as @actions/core writes it. */
function parseOutputFile(text) {
  const out = {};
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

function report({ size, imports, bare, seed, seedReport, noops, certs, seedConcurrency, node24, importN, noopN }) {
  const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
  const lambdaSize = size.find((s) => s.name === 'lambda');
  const imp = Object.fromEntries(
    Object.entries(imports).map(([k, rs]) => [
      k,
      {
        importMs: stats(rs.map((r) => r.importMs)),
        bootMs: stats(rs.map((r) => r.bootMs)),
        wallMs: stats(rs.map((r) => r.wallMs)),
        rssKb: stats(rs.map((r) => r.rssKb)),
      },
    ]),
  );
  const bareS = { wallMs: stats(bare.map((r) => r.wallMs)), rssKb: stats(bare.map((r) => r.rssKb)) };
  const noop = Object.fromEntries(
    Object.entries(noops).map(([k, rs]) => [
      k,
      {
        wallMs: stats(rs.map((r) => r.ms)),
        rssKb: stats(rs.map((r) => r.rssKb)),
        runsMs: rs.map((r) => Math.round(r.ms)),
        ...(k === 'lambda'
          ? {
              importMs: stats(rs.map((r) => r.inner.importMs)),
              handlerMs: stats(rs.map((r) => r.inner.handlerMs)),
            }
          : {}),
      },
    ]),
  );
  const seedDurations = (seedReport?.results ?? []).map((r) => r.durationMs).filter((x) => typeof x === 'number');
  const met = {
    lambdaSize: lambdaSize.bytes <= TARGET.lambdaBytes,
    lambdaImport: imp.lambda.importMs.median <= TARGET.lambdaImportMs,
    noopCli: noop.cli.wallMs.median <= TARGET.noopMs,
    noopAction: noop.action.wallMs.median <= TARGET.noopMs,
    noopLambda: noop.lambda.wallMs.median <= TARGET.noopMs,
  };
  const sizeRows = [
    ['bundle', 'files', 'entry', 'all files', 'gzip -9', 'built'],
    ...size.map((s) => [
      s.dir,
      String(s.files.length),
      kb(s.entryBytes),
      `${kb(s.bytes)} (${s.bytes} B)`,
      kb(s.gzipBytes),
      s.olderThanSources ? 'OLDER than src/' : 'fresh',
    ]),
  ];
  const importRows = [
    [
      'bundle',
      'import (median)',
      'import (p90)',
      'import (min)',
      'process wall (median)',
      'node boot (median)',
      'peak RSS',
    ],
    ...['action', 'lambda', 'cli'].map((k) => [
      k,
      msf(imp[k].importMs.median),
      msf(imp[k].importMs.p90),
      msf(imp[k].importMs.min),
      msf(imp[k].wallMs.median),
      msf(imp[k].bootMs.median),
      mib(imp[k].rssKb.median),
    ]),
    ['(node -e 0)', '', '', '', msf(bareS.wallMs.median), '', mib(bareS.rssKb.median)],
  ];
  const noopRows = [
    ['entry point', 'runs', 'wall (median)', 'p90', 'min', 'max', 'peak RSS (median)'],
    ...['cli', 'action', 'lambda'].map((k) => [
      k,
      String(noopN),
      sec(noop[k].wallMs.median),
      sec(noop[k].wallMs.p90),
      sec(noop[k].wallMs.min),
      sec(noop[k].wallMs.max),
      mib(noop[k].rssKb.median),
    ]),
  ];
  const ok = (b) => (b ? 'met' : 'MISSED');
  const text = [
    `== entrypoints: node ${node24.version}${node24.fallback ? ' (node@24 UNAVAILABLE: fallback)' : ''}`,
    '',
    table(sizeRows),
    '',
    `cold import, ${importN} fresh processes each (import timed inside the process; action: its entry runs the Action on import — here it stops at once at the missing config; cli: --help)`,
    table(importRows),
    '',
    `seed: one CLI run issuing ${certs} certificates (apex + wildcard), concurrency ${seedConcurrency}, challtestsrv DNS (no DNS latency): ${sec(seed.ms)}, peak RSS ${mib(seed.rssKb)}${seedDurations.length ? `, per certificate median ${sec(stats(seedDurations).median)}` : ''}`,
    '',
    `no-op run over ${certs} stored, not-due certificates, whole process`,
    table(noopRows),
    `lambda inside the process: import ${msf(noop.lambda.importMs.median)}, handler ${msf(noop.lambda.handlerMs.median)} (medians)`,
    '',
    `targets: lambda bundle ≤ 2 MiB: ${ok(met.lambdaSize)} (${lambdaSize.bytes} B); lambda cold import ≤ 250 ms: ${ok(met.lambdaImport)} (${msf(imp.lambda.importMs.median)}); no-op ≤ 1.5 s: cli ${ok(met.noopCli)}, action ${ok(met.noopAction)}, lambda ${ok(met.noopLambda)}`,
  ].join('\n');
  const json = {
    node: node24,
    sizes: size,
    coldImport: { n: importN, ...imp, bareNode: bareS },
    seed: {
      certificates: certs,
      concurrency: seedConcurrency,
      ms: Math.round(seed.ms),
      rssKb: seed.rssKb,
      inProcessMs: seedReport?.durationMs,
      perCertificateMs: seedDurations.length ? stats(seedDurations) : null,
    },
    noop: { n: noopN, certificates: certs, ...noop },
    targets: { ...TARGET, met },
  };
  const targets = [
    { name: 'entrypoints: lambda bundle ≤ 2 MiB', met: met.lambdaSize, value: `${lambdaSize.bytes} B` },
    {
      name: 'entrypoints: lambda cold import ≤ 250 ms (median)',
      met: met.lambdaImport,
      value: msf(imp.lambda.importMs.median),
    },
    ...['lambda', 'action', 'cli'].map((k) => ({
      name: `entrypoints: ${k} no-op run over ${certs} certificates ≤ 1.5 s (whole process, median)`,
      met: met[`noop${k[0].toUpperCase()}${k.slice(1)}`],
      value: sec(noop[k].wallMs.median),
    })),
  ];
  return { text, json, targets };
}
