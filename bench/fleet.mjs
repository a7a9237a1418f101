// Section `fleet` (issue 6): 50 apex + wildcard certificates, each in its own Route 53 hosted
// zone, renewed with Route 53's latency injected (every change PENDING for 2 s), certkeeper (one
// process, several concurrency settings) vs lego (one `lego run` per certificate: a sequential
// loop, and a pool of parallel processes), on the same stack:
//
//   moto (Route 53) ← r53-proxy.mjs (PENDING for 2 s) ← certkeeper (AWS_ENDPOINT_URL_ROUTE_53)
//                                                     ← lego's route53 provider (HTTPS_PROXY, TLS
//                                                       terminated for route53.amazonaws.com)
//   moto ← test/support/route53-dns.ts (authoritative DNS for moto's zones) ← Pebble (-dnsserver),
//                                                     propagation checks of both tools
//
// See bench/README.md.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { bigZoneName, ONE_ZONE, runBig, runOneZone } from './fleet-scale.mjs';
import {
  childrenOf,
  intEnv,
  leafOf,
  legoFlags,
  legoIssue,
  measure,
  mib,
  OUT,
  Scope,
  say,
  sec,
  ToolError,
  table,
  withTimeout,
} from './lib.mjs';
import { startRoute53Proxy } from './r53-proxy.mjs';

const TARGET = { ratio: 10, rssKb: 192 * 1024 };
const PEBBLE_ENV = { PEBBLE_VA_NOSLEEP: '1' };
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

function listEnv(name, fallback) {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The environment of this process without any AWS or proxy settings that could leak into a tool. */
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(AWS_|HTTPS?_PROXY$|NO_PROXY$|ALL_PROXY$)/i.test(k)) delete env[k];
  }
  return env;
}

const SCENARIOS = ['zones', 'one-zone', 'big'];

export async function runFleet({ lego, rss, ck: built, devstack, load, tmp, node24 }) {
  // The CLI bundle on Node 24, as for the providers bench: certkeeper needs Node >= 22 (Node 20,
  // which runs this harness, is past its end of life). The tsx fallback stays on this Node.
  const ck =
    built.via === 'dist' && node24 && !node24.fallback
      ? { ...built, cmd: node24.path, node: node24.version }
      : { ...built, node: process.version };
  const scenarios = listEnv('BENCH_FLEET_SCENARIOS', SCENARIOS.join(','));
  for (const sc of scenarios)
    if (!SCENARIOS.includes(sc)) throw new Error(`BENCH_FLEET_SCENARIOS: unknown scenario ${sc}; known: ${SCENARIOS}`);
  const N = scenarios.includes('zones') ? intEnv('BENCH_FLEET_N', 50) : 0;
  const bigZoneCount = scenarios.includes('big') ? intEnv('BENCH_FLEET_BIG_ZONES', 20) : 0;
  const concurrencies = listEnv('BENCH_FLEET_CONCURRENCY', '8,50').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`BENCH_FLEET_CONCURRENCY: ${s} is not 1-64`);
    return n;
  });
  const legoModes = listEnv('BENCH_FLEET_LEGO', 'sequential,parallel');
  for (const m of legoModes)
    if (!['sequential', 'parallel', 'none'].includes(m)) throw new Error(`BENCH_FLEET_LEGO: unknown mode ${m}`);
  const legoParallel = intEnv('BENCH_FLEET_LEGO_PARALLEL', 8);
  const pendingMs = intEnv('BENCH_R53_PENDING_MS', 2000, 0);
  const rps = intEnv('BENCH_R53_RPS', 0, 0);
  const fleetTimeoutMs = 1000 * intEnv('BENCH_FLEET_TIMEOUT_S', 600);

  const scope = new Scope();
  let stack;
  try {
    say('fleet: starting moto, the Route 53 DNS server, Pebble and the Route 53 latency proxy …');
    const moto = await devstack.startMoto();
    scope.defer(() => moto.stop());
    const admin = new Route53Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    scope.defer(() => admin.destroy());
    const createZone = async (name) => {
      const out = await withTimeout(
        admin.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `bench-${name}` })),
        30_000,
        'moto CreateHostedZone',
      );
      return { name, id: out.HostedZone.Id.replace(/^\/hostedzone\//, '') };
    };
    // Every zone of every scenario exists before the DNS server starts (it caches the zone list).
    const zones = [];
    for (let i = 1; i <= N; i++) zones.push(await createZone(`fleet-${String(i).padStart(2, '0')}.example.com`));
    const oneZone = scenarios.includes('one-zone') ? [await createZone(ONE_ZONE)] : [];
    const bigZones = [];
    for (let i = 1; i <= bigZoneCount; i++) bigZones.push(await createZone(bigZoneName(i)));
    const { startRoute53Dns } = await load('../test/support/route53-dns.ts');
    // The zones never change during the bench, so the DNS server's ListHostedZones (one per query)
    // is answered from a cache; its ListResourceRecordSets (the records) always goes to moto.
    const dnsClient = zoneListCachingClient(moto.endpoint);
    scope.defer(() => dnsClient.destroy());
    const dns = await startRoute53Dns({ client: dnsClient });
    scope.defer(() => dns.stop());
    stack = await devstack.startPebbleStack({ env: PEBBLE_ENV, dnsServer: dns.address, maxLifetimeSec: 3600 });
    scope.defer(() => stack.stop());
    const mitm = await devstack.createSelfSignedCert(['route53.amazonaws.com']);
    const mitmCaPath = join(tmp, 'route53-mitm.pem');
    await writeFile(mitmCaPath, mitm.certPem);
    const proxy = await startRoute53Proxy({
      target: moto.endpoint,
      pendingMs,
      rps,
      tls: { cert: mitm.certPem, key: mitm.keyPem },
      onChange: (zoneId) => dnsClient.invalidate(zoneId),
    });
    scope.defer(() => proxy.stop());
    say(
      `fleet: scenarios ${scenarios.join(', ')}; ${zones.length + oneZone.length + bigZones.length} hosted zones; Route 53 changes PENDING for ${pendingMs} ms${rps ? `, ${rps} requests/s then Throttling` : ''}; DNS at ${dns.address}`,
    );

    /** TXT record sets left in the zones (each tool must remove every _acme-challenge value). */
    async function leftovers(which = zones) {
      let n = 0;
      for (const z of which) {
        const out = await withTimeout(
          admin.send(new ListResourceRecordSetsCommand({ HostedZoneId: z.id })),
          30_000,
          'moto ListResourceRecordSets',
        );
        n += (out.ResourceRecordSets ?? []).filter((s) => s.Type === 'TXT').length;
      }
      return n;
    }

    const ctx = { N, zones, stack, dns, proxy, rss, tmp, fleetTimeoutMs, leftovers };
    const parts = [];
    const scale = {
      stack,
      devstack,
      dns,
      proxy,
      rss,
      tmp,
      ck,
      node24,
      pendingMs,
      fleetTimeoutMs,
      leftovers,
      cleanEnv,
      zones: oneZone,
      bigZones,
      legoVersion: lego.version,
    };
    if (scenarios.includes('one-zone')) parts.push(await runOneZone(scale));
    if (scenarios.includes('big')) {
      if (!node24 || node24.fallback)
        say(`fleet big: node@24 unavailable; the Lambda bundle runs on ${node24?.version}`);
      if (legoModes.includes('none')) scale.legoIssue = undefined;
      else {
        const lr = legoFleet(ctx, lego, mitmCaPath);
        say('fleet big: lego warm-up (untimed): register the account');
        proxy.setRps(0);
        await lr.issue(`lego-0.${bigZones[0].name}`);
        scale.legoIssue = lr.issue;
      }
      parts.push(await runBig(scale));
    }
    if (!scenarios.includes('zones')) return joinParts(parts);
    proxy.setRps(rps);
    const results = { certkeeper: [], lego: [] };

    // ---- certkeeper ----
    const ckRun = certkeeperFleet(ctx, ck);
    say(`fleet: certkeeper warm-up (untimed): register the account and issue all ${N} certificates`);
    const warm = await ckRun.run(concurrencies[0], { force: false });
    say(
      `fleet: certkeeper warm-up: ${warm.error ? `FAILED (${warm.error.slice(0, 300)})` : 'done'} in ${sec(warm.ms)} (${mib(warm.rssKb)})`,
    );
    for (const c of concurrencies) {
      const r = await ckRun.run(c, { force: true });
      results.certkeeper.push(r);
      say(
        r.error
          ? `fleet: certkeeper, concurrency ${c}: FAILED after ${sec(r.ms)}: ${r.error.slice(0, 600)}`
          : `fleet: certkeeper, concurrency ${c}: ${N} renewed in ${sec(r.ms)}, peak RSS ${mib(r.rssKb)}, ${r.api.total} Route 53 calls (peak ${r.api.peakPerSecond}/s)`,
      );
    }

    // ---- lego ----
    const legoModesRun = legoModes.filter((m) => m !== 'none');
    let legoDescribe;
    if (legoModesRun.length > 0) {
      const lr = legoFleet(ctx, lego, mitmCaPath);
      legoDescribe = lr.describe;
      say('fleet: lego warm-up (untimed): register the account and issue the first certificate');
      const lw = await lr.issue(zones[0].name);
      say(`fleet: lego warm-up: ${sec(lw.ms)}`);
      for (const mode of legoModesRun) {
        const width = mode === 'sequential' ? 1 : legoParallel;
        const r = await lr.fleet(width);
        results.lego.push(r);
        say(
          `fleet: lego, ${r.mode}: ${N} issued in ${sec(r.ms)}, peak RSS ${mib(r.rssKb)} per process${r.sumRssKb ? ` (${mib(r.sumRssKb)} all processes)` : ''}, ${r.api.total} Route 53 calls (peak ${r.api.peakPerSecond}/s)`,
        );
      }
    }
    return joinParts([report({ N, pendingMs, rps, results, lego, legoDescribe, ck, warm, legoParallel }), ...parts]);
  } catch (error) {
    if (!(error instanceof ToolError) && stack) error.stackLogs = stack.logs();
    throw error;
  } finally {
    await scope.close();
  }
}

// ---------- certkeeper: one process for the whole fleet ----------

function certkeeperFleet({ N, zones, stack, dns, proxy, rss, tmp, fleetTimeoutMs, leftovers }, ck) {
  const storeDir = join(tmp, 'certkeeper-fleet-store');
  const env = { ...cleanEnv(), ...AWS_ENV, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint };
  let serials = new Map();
  let account;
  async function run(concurrency, { force }) {
    const config = {
      version: 1,
      acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, email: 'bench@example.com' },
      concurrency,
      defaults: {
        keyType: 'ec-p256',
        // propagation.interval stays at its default (2 s): the first GetChange poll then comes
        // exactly when the change turns INSYNC; the DNS check runs at once after it.
        dns: { provider: 'route53', propagation: { resolvers: [dns.address] } },
        store: { type: 'file', dir: storeDir },
      },
      certificates: zones.map((z) => ({ id: z.name.split('.')[0], domains: [z.name, `*.${z.name}`] })),
    };
    const cfg = join(tmp, `certkeeper-fleet-${concurrency}.json`);
    await writeFile(cfg, JSON.stringify(config, null, 2));
    const args = [...ck.args, 'run', '--json', '--config', cfg, ...(force ? ['--force'] : [])];
    proxy.reset();
    const r = await measure(ck.cmd, args, { env, cwd: tmp, rss, tmp, timeoutMs: fleetTimeoutMs });
    const api = proxy.summary();
    await saveLog(`fleet-certkeeper-c${concurrency}.log`, r.output);
    const why = (msg) =>
      new ToolError('certkeeper', `fleet, concurrency ${concurrency}: ${msg} (exit ${r.code})`, r.output);
    const base = {
      tool: 'certkeeper',
      mode: `one process, concurrency ${concurrency}`,
      concurrency,
      ms: r.ms,
      rssKb: r.rssKb,
      api,
    };
    let parsed;
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      return { ...base, error: `exit ${r.code}${r.timedOut ? ' (killed: time limit)' : ''}, no JSON on stdout` };
    }
    const bad = (parsed.results ?? []).filter((x) => x.status !== 'renewed');
    const next = new Map();
    const stale = [];
    for (const z of zones) {
      const id = z.name.split('.')[0];
      const pem = join(storeDir, id, 'cert.pem');
      const leaf = existsSync(pem) ? leafOf(pem) : undefined;
      if (
        !leaf ||
        serials.get(id) === leaf.serial ||
        !leaf.names.includes(z.name) ||
        !leaf.names.includes(`*.${z.name}`)
      )
        stale.push(id);
      if (leaf) next.set(id, leaf.serial);
    }
    serials = next;
    const left = await leftovers();
    if (r.code !== 0 || parsed.results?.length !== N || bad.length > 0 || stale.length > 0 || left > 0) {
      // Reported, not thrown: the other runs (and lego) still tell something.
      const classes = {};
      for (const x of bad) classes[x.error?.class ?? x.status] = (classes[x.error?.class ?? x.status] ?? 0) + 1;
      return {
        ...base,
        error:
          `exit ${r.code}, ${bad.length}/${N} not renewed (${JSON.stringify(classes)}), ${stale.length} without a new certificate, ${left} TXT set(s) left; first: ` +
          bad
            .slice(0, 3)
            .map((x) => `${x.id} ${x.status} ${x.error?.class ?? ''} ${x.error?.message ?? ''}`)
            .join('; '),
        failedCount: bad.length,
        leftovers: left,
      };
    }
    const acc = await readdir(join(storeDir, '_account'))
      .then((fs) => Promise.all(fs.sort().map((f) => readFile(join(storeDir, '_account', f), 'utf8'))))
      .then((x) => x.join('\n'));
    if (account !== undefined && acc !== account) throw why('the stored ACME account changed in a timed run');
    account = acc;
    const durations = parsed.results.map((x) => x.durationMs).filter((x) => typeof x === 'number');
    return {
      ...base,
      inProcessMs: parsed.durationMs,
      perCertificateMs: durations.length ? median(durations) : null,
      leftovers: left,
    };
  }
  return { run };
}

// ---------- lego: one `lego run` per certificate ----------

function legoFleet({ N, zones, stack, dns, proxy, rss, tmp, leftovers }, lego, mitmCaPath) {
  const legoPath = join(tmp, 'lego-fleet');
  const env = {
    ...cleanEnv(),
    ...AWS_ENV,
    // lego 4.9.1's aws-sdk-go v1 reads no endpoint from the environment: it goes to
    // https://route53.amazonaws.com through this proxy, which terminates TLS with a certificate
    // for that name, trusted through AWS_CA_BUNDLE. Loopback (Pebble) is never proxied by Go.
    HTTPS_PROXY: proxy.endpoint,
    NO_PROXY: '127.0.0.1,localhost',
    AWS_CA_BUNDLE: mitmCaPath,
    AWS_POLLING_INTERVAL: '1', // s, default 4: GetChange polls and the sleep before each propagation check
    AWS_PROPAGATION_TIMEOUT: '60', // s, a cap only
    LEGO_CA_CERTIFICATES: stack.caBundlePath,
    LEGO_DISABLE_CNAME_SUPPORT: 'true',
  };
  const flags = legoFlags({ server: stack.acmeDirectory, path: legoPath, dns: 'route53', resolver: dns.address });
  const seen = new Map();
  async function issue(domain, onSpawn) {
    const { r, leaf, why } = await legoIssue({
      lego,
      flags,
      legoPath,
      domain,
      env,
      tmp,
      rss,
      label: 'lego',
      onSpawn,
      onResult: (run) => saveLog('fleet-lego-last.log', run.output),
    });
    if (seen.get(domain) === leaf.serial)
      throw why(`fleet ${domain}: no new certificate (serial ${leaf.serial} again)`);
    seen.set(domain, leaf.serial);
    return r;
  }

  /** All N certificates, `width` lego processes at a time (1: the usual shell loop). */
  async function fleet(width) {
    proxy.reset();
    // Peak memory of all lego processes together, sampled every 100 ms (VmRSS of each tool
    // process under /usr/bin/time). Each process's own peak comes from GNU time.
    const wrappers = new Set();
    let sumPeakKb = 0;
    const sampler = setInterval(() => {
      let sum = 0;
      for (const w of wrappers) {
        for (const pid of [w.pid, ...childrenOf(w.pid)]) {
          try {
            const s = readFileSync(`/proc/${pid}/status`);
            if (!/^Name:\s+lego$/m.test(s)) continue;
            sum += Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
          } catch {}
        }
      }
      sumPeakKb = Math.max(sumPeakKb, sum);
    }, 100);
    const t0 = performance.now();
    const runs = [];
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: Math.min(width, N) }, async () => {
          while (next < N) {
            const z = zones[next++];
            const r = await issue(z.name, (child) => {
              wrappers.add(child);
              child.once('exit', () => wrappers.delete(child));
            });
            runs.push(r);
            if (runs.length % 10 === 0 && runs.length < N)
              say(`fleet: lego (${width === 1 ? 'sequential' : `${width} at a time`}): ${runs.length}/${N} done`);
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const ms = performance.now() - t0;
    const api = proxy.summary();
    if (api.refused > 0) throw new ToolError('lego', `tried to reach ${api.refused} host(s) other than Route 53`, '');
    const left = await leftovers();
    if (left > 0) throw new ToolError('lego', `${left} TXT record set(s) left in the zones after the run`, '');
    const per = runs.map((r) => r.ms);
    return {
      tool: 'lego',
      mode: width === 1 ? 'sequential loop, one process per certificate' : `${width} processes at a time`,
      width,
      ms,
      rssKb: Math.max(...runs.map((r) => r.rssKb)),
      sumRssKb: width > 1 ? sumPeakKb : null,
      perCertificateMs: median(per),
      api,
      leftovers: left,
    };
  }

  const describe = {
    flags: [
      ...flags.map((v) =>
        v === stack.acmeDirectory
          ? '<acmeDirectory>'
          : v === dns.address
            ? '<route53-dns>'
            : v === legoPath
              ? '<tmp>/lego-fleet'
              : v,
      ),
      '-d',
      '<zone>',
      '-d',
      '*.<zone>',
      'run',
    ].join(' '),
    env: Object.fromEntries(
      Object.entries(env)
        .filter(([k]) => !(k in process.env) || /^AWS_|PROXY$/.test(k))
        .map(([k, v]) => [
          k,
          v === stack.caBundlePath
            ? '<caBundlePath>'
            : v === mitmCaPath
              ? '<tmp>/route53-mitm.pem'
              : v === proxy.endpoint
                ? '<r53-proxy>'
                : v,
        ]),
    ),
  };
  return { issue, fleet, describe };
}

/** The scenarios' reports as one section: texts one after another, json keyed by scenario. */
function joinParts(parts) {
  return {
    text: parts.map((p) => p.text).join('\n\n'),
    json: Object.fromEntries(parts.map((p) => [p.key ?? 'zones', p.json])),
    targets: parts.flatMap((p) => p.targets),
  };
}

/**
 * A Route53Client stand-in for route53-dns. The DNS server reads every zone from moto for each
 * query (ListHostedZones + ListResourceRecordSets per zone): with 20 zones and thousands of
 * lookups (Pebble's validations, the tools' propagation checks) moto, one Python process, falls
 * far behind and the lookups time out — a limit of the test DNS server, not of a tool. So
 * ListHostedZones is answered once, then from memory (the zones never change during the bench),
 * and each zone's ListResourceRecordSets is kept until the proxy reports a change to that zone
 * (`invalidate(zoneId)`, called after moto accepted it): answers are exactly as fresh as before.
 */
function zoneListCachingClient(endpoint) {
  const real = new Route53Client({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const cache = new Map();
  const zoneOf = (input) => String(input?.HostedZoneId ?? '').replace(/^\/hostedzone\//, '');
  return {
    send(command, ...rest) {
      const name = command?.constructor?.name;
      if (name !== 'ListHostedZonesCommand' && name !== 'ListResourceRecordSetsCommand')
        return real.send(command, ...rest);
      const key = `${name} ${JSON.stringify(command.input ?? {})}`;
      let p = cache.get(key);
      if (!p) {
        p = real.send(command, ...rest);
        p.catch(() => cache.delete(key));
        cache.set(key, { p, zone: name === 'ListResourceRecordSetsCommand' ? zoneOf(command.input) : undefined });
        return p;
      }
      return p.p;
    },
    invalidate(zoneId) {
      for (const [k, v] of cache)
        if (v.zone !== undefined && (zoneId === undefined || v.zone === zoneId)) cache.delete(k);
    },
    destroy: () => real.destroy(),
  };
}

/** The output of the last run of each kind, in bench/out/logs/ (gitignored), for reading timings. */
async function saveLog(name, text) {
  await mkdir(join(OUT, 'logs'), { recursive: true });
  await writeFile(join(OUT, 'logs', name), text);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------- report ----------

function report({ N, pendingMs, rps, results, lego, legoDescribe, ck, warm, legoParallel }) {
  const rows = [
    [
      'tool',
      'mode',
      'wall',
      'per cert (median)',
      'peak RSS',
      'Route 53 calls',
      'peak calls/s',
      'changes',
      ...(rps ? ['throttled'] : []),
    ],
  ];
  for (const r of [...results.certkeeper, ...results.lego]) {
    rows.push([
      r.tool,
      r.mode,
      r.error ? `FAILED (${sec(r.ms)})` : sec(r.ms),
      r.perCertificateMs == null ? '' : sec(r.perCertificateMs),
      r.sumRssKb ? `${mib(r.rssKb)} each, ${mib(r.sumRssKb)} all` : mib(r.rssKb),
      String(r.api.total),
      String(r.api.peakPerSecond),
      String(r.api.changes),
      ...(rps ? [String(r.api.throttled)] : []),
    ]);
  }
  const okRuns = results.certkeeper.filter((r) => !r.error);
  // The target is about the configured concurrency (8); a failed run counts as a miss.
  const ck8 = results.certkeeper.find((r) => r.concurrency === 8) ?? results.certkeeper[0];
  const best = okRuns.length ? okRuns.reduce((a, b) => (b.ms < a.ms ? b : a)) : undefined;
  const seq = results.lego.find((r) => r.width === 1);
  const par = results.lego.find((r) => r.width > 1);
  const ratios = {};
  if (seq && !ck8.error) ratios.legoSequentialOverCertkeeper = seq.ms / ck8.ms;
  if (par && !ck8.error) ratios.legoParallelOverCertkeeper = par.ms / ck8.ms;
  if (seq && best) ratios.legoSequentialOverBestCertkeeper = seq.ms / best.ms;
  if (par && best) ratios.legoParallelOverBestCertkeeper = par.ms / best.ms;
  const maxRss = Math.max(...results.certkeeper.map((r) => r.rssKb));
  const met = {
    ratioGe10x: !seq ? null : ck8.error ? false : ratios.legoSequentialOverCertkeeper >= TARGET.ratio,
    rssLe192MiB: maxRss <= TARGET.rssKb,
  };
  const x = (v) => (v === undefined ? 'n/a' : `${v.toFixed(1)}×`);
  const vs = (key, bestKey) =>
    `certkeeper concurrency ${ck8.concurrency}: ${ck8.error ? 'failed' : x(ratios[key])}` +
    (best && best !== ck8 ? `; concurrency ${best.concurrency}: ${x(ratios[bestKey])}` : '');
  const text = [
    `== fleet: ${N} certificates (apex + wildcard, one hosted zone each), Route 53 changes PENDING for ${pendingMs / 1000} s${rps ? `, ${rps} req/s limit` : ''}`,
    `certkeeper ${ck.via === 'dist' ? `node bin/certkeeper.js (node ${process.version})` : 'via tsx'}; lego ${lego.version} with its route53 provider`,
    '',
    table(rows, 2),
    '',
    `certkeeper warm-up (untimed, account registration + first issuance of all ${N}): ${warm.error ? 'FAILED' : 'done'} in ${sec(warm.ms)}`,
    ...results.certkeeper
      .filter((r) => r.error)
      .map((r) => `certkeeper concurrency ${r.concurrency} FAILED: ${r.error}`),
    ...(seq
      ? [`wall-time ratio lego sequential / ${vs('legoSequentialOverCertkeeper', 'legoSequentialOverBestCertkeeper')}`]
      : []),
    ...(par
      ? [
          `wall-time ratio lego ${legoParallel} parallel / ${vs('legoParallelOverCertkeeper', 'legoParallelOverBestCertkeeper')}`,
        ]
      : []),
    `targets: ≥ 10× faster than lego (sequential, vs certkeeper concurrency ${ck8.concurrency}): ${met.ratioGe10x === null ? 'not measured' : met.ratioGe10x ? 'met' : 'MISSED'}; certkeeper peak RSS ≤ 192 MiB: ${met.rssLe192MiB ? 'met' : 'MISSED'} (max ${mib(maxRss)})`,
  ].join('\n');
  const json = {
    n: N,
    route53: { pendingMs, requestsPerSecondLimit: rps || null },
    certkeeper: { via: ck.via, node: process.version, warmup: warm, runs: results.certkeeper },
    lego: { version: lego.version, ...(legoDescribe ?? {}), runs: results.lego },
    ratios,
    targets: { ...TARGET, met },
  };
  const targets = [
    {
      name: `fleet: ≥ 10× faster than lego (sequential) at concurrency ${ck8.concurrency}`,
      met: met.ratioGe10x,
      value: !seq ? 'not measured' : ck8.error ? 'certkeeper run failed' : x(ratios.legoSequentialOverCertkeeper),
    },
    { name: 'fleet: certkeeper peak RSS ≤ 192 MiB', met: met.rssLe192MiB, value: mib(maxRss) },
  ];
  return { text, json, targets };
}
