// Section `report` (issue 14): `certkeeper report` over a fleet of stored certificates, as a whole
// process, once over the file store and once over Secrets Manager (moto):
//
//  1. BENCH_REPORT_CERTS (500) certificates from a test CA (root → intermediate → leaf, lifetimes
//     spread so every health occurs), written through the real store adapters: the file store in
//     a temp dir, and one secret each in a moto of the section's own;
//  2. `node bin/certkeeper.js report --json -c <config>` BENCH_REPORT_N (5) times per store,
//     interleaved; each must list every certificate, none unreadable;
//  3. the same with `--html FILE` once per store: the page's size and its row count.
//
// See bench/README.md.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { intEnv, measure, mib, Scope, say, sec, stats, ToolError, table } from './lib.mjs';

const DAY = 86_400_000;

function baseEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', ...extra };
}

/** Runs fn over items, `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

export async function runReport({ rss, ck, devstack, load, tmp }) {
  const n = intEnv('BENCH_REPORT_CERTS', 500);
  const runs = intEnv('BENCH_REPORT_N', 5);
  const scope = new Scope();
  try {
    // The fleet is written with the store adapters from src/ (through tsx), the code the CLI reads it with.
    const [{ createTestCa }, { FileStore }, { createSecretsManagerStore }, { systemClock }] = await Promise.all([
      load('../test/support/test-ca.ts'),
      load('../src/adapters/store/file/index.ts'),
      load('../src/adapters/store/secrets-manager/index.ts'),
      load('../src/ports/clock.ts'),
    ]);

    // ---- 1. the fleet ----
    say(`report: issuing ${n} certificates from a test CA`);
    const ca = await createTestCa('certkeeper bench');
    const ids = Array.from({ length: n }, (_, i) => `fleet-${String(i + 1).padStart(3, '0')}`);
    const records = [];
    for (const [i, id] of ids.entries()) {
      // Days left spread over a 90-day lifetime, a few expired: every health occurs.
      const left = ((i * 37) % 95) - 4;
      const notAfter = new Date(Date.now() + left * DAY + 3600_000);
      const names = [`${id}.example.com`, `*.${id}.example.com`];
      const c = await ca.issue(names, {
        notBefore: new Date(notAfter.getTime() - 90 * DAY),
        notAfter,
        sharedKey: true,
      });
      records.push({
        format: 'certkeeper/v1',
        id,
        domains: names,
        certificate: c.certPem,
        chain: c.chainPem,
        fullchain: c.certPem + c.chainPem,
        privateKey: c.keyPem,
        keyType: 'ec-p256',
        serialNumber: c.serialNumber,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
        issuer: 'CN=certkeeper bench intermediate',
        issuedAt: c.notBefore.toISOString(),
        issuedBy: { via: 'cli', runId: 'bench' },
      });
    }
    const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };

    const fileDir = join(tmp, 'file-store');
    say(`report: writing ${n} certificates to the file store`);
    await pool(records, 16, (r) => new FileStore(fileDir, r.id, systemClock).write(r));

    say('report: starting moto …');
    const moto = await devstack.startMoto();
    scope.defer(() => moto.stop());
    const saved = {};
    for (const [k, v] of Object.entries(moto.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    scope.defer(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    say(`report: writing ${n} secrets to Secrets Manager (moto)`);
    const secretId = (id) => `bench/report/${id}`;
    await pool(records, 16, (r) =>
      createSecretsManagerStore(
        r.id,
        { type: 'aws-secrets-manager', secretId: secretId(r.id) },
        { logger, clock: systemClock },
      ).write(r),
    );

    const configFor = async (name, store) => {
      const path = join(tmp, `certkeeper-${name}.json`);
      await writeFile(
        path,
        JSON.stringify({
          version: 1,
          // Nothing listens there: a report must not need the CA or the DNS provider.
          acme: { directory: 'https://127.0.0.1:9/dir' },
          defaults: { dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' } },
          certificates: ids.map((id) => ({
            id,
            domains: [`${id}.example.com`, `*.${id}.example.com`],
            store: store(id),
          })),
        }),
      );
      return path;
    };
    const stores = [
      { name: 'file', config: await configFor('file', () => ({ type: 'file', dir: fileDir })), env: baseEnv() },
      {
        name: 'aws-secrets-manager',
        config: await configFor('sm', (id) => ({ type: 'aws-secrets-manager', secretId: secretId(id) })),
        env: baseEnv(moto.env),
      },
    ];

    // ---- 2. timed reports ----
    const once = async (store, extra = []) => {
      const r = await measure(ck.cmd, [...ck.args, 'report', '--json', '-c', store.config, ...extra], {
        env: store.env,
        cwd: tmp,
        rss,
        tmp,
      });
      let report;
      try {
        report = JSON.parse(r.stdout);
      } catch {
        throw new ToolError('certkeeper', `report over ${store.name} printed no JSON (exit ${r.code})`, r.output);
      }
      if (r.code !== 0 || report.summary?.total !== n || report.summary.unreadable !== 0)
        throw new ToolError(
          'certkeeper',
          `report over ${store.name}: exit ${r.code}, ${report.summary?.total} certificates, ${report.summary?.unreadable} unreadable`,
          r.output,
        );
      return { ...r, summary: report.summary };
    };
    const timed = Object.fromEntries(stores.map((s) => [s.name, []]));
    say(`report: ${runs} report runs per store over ${n} certificates (interleaved)`);
    for (let i = 0; i < runs; i++) for (const s of stores) timed[s.name].push(await once(s));

    // ---- 3. with --html ----
    const html = {};
    for (const s of stores) {
      const file = join(tmp, `report-${s.name}.html`);
      const r = await once(s, ['--html', file]);
      const page = await readFile(file, 'utf8');
      const rows = page.split('data-cert="').length - 1;
      if (rows !== n)
        throw new ToolError('certkeeper', `report --html over ${s.name}: ${rows} rows, not ${n}`, r.output);
      html[s.name] = { ms: r.ms, rssKb: r.rssKb, bytes: Buffer.byteLength(page), rows };
    }
    return result({ n, runs, timed, html, ck });
  } finally {
    await scope.close();
  }
}

function result({ n, runs, timed, html, ck }) {
  const s = Object.fromEntries(
    Object.entries(timed).map(([k, rs]) => [
      k,
      {
        wallMs: stats(rs.map((r) => r.ms)),
        rssKb: stats(rs.map((r) => r.rssKb)),
        runsMs: rs.map((r) => Math.round(r.ms)),
      },
    ]),
  );
  const summary = Object.values(timed)[0][0].summary;
  const rows = [
    ['store', 'runs', 'wall (median)', 'p90', 'min', 'max', 'peak RSS (median)', '--html: wall', 'page'],
    ...Object.keys(timed).map((k) => [
      k,
      String(runs),
      sec(s[k].wallMs.median),
      sec(s[k].wallMs.p90),
      sec(s[k].wallMs.min),
      sec(s[k].wallMs.max),
      mib(s[k].rssKb.median),
      sec(html[k].ms),
      `${(html[k].bytes / 1024).toFixed(0)} KiB, ${html[k].rows} rows`,
    ]),
  ];
  const text = [
    `== report: certkeeper report --json over ${n} stored certificates, whole process (${ck.via === 'dist' ? 'node bin/certkeeper.js' : 'tsx sources'}, node ${process.version})`,
    `fleet: ${summary.ok} ok, ${summary.warning} warning, ${summary.critical} critical, ${summary.expired} expired, ${summary.missing} missing`,
    '',
    table(rows),
  ].join('\n');
  const json = { certificates: n, runs, via: ck.via, node: process.version, summary, ...s, html };
  const targets = Object.keys(timed).map((k) => ({
    name: `report: ${n} certificates from ${k}, whole process (median)`,
    met: null,
    value: sec(s[k].wallMs.median),
  }));
  return { text, json, targets };
}
