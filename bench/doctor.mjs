// Section `doctor` (issue 13): `certkeeper doctor --json` over 50 certificates on the local stack,
// as a whole process, N times; target: median ≤ 2 s.
//
//   moto (Route 53: 5 hosted zones of 10 apex + wildcard certificates, CAA records allowing the CA)
//     ← test/support/route53-dns.ts (their authoritative DNS: CAA, NS, CNAME lookups)
//   Pebble (the directory, and the stored account checked with POST-as-GET)
//   a file store seeded with 50 self-signed certificates (the doctor reads them, issues none)
//
// Every check runs for real except dns.probe (not asked for) and endpoint (no verify-endpoint
// hooks). Each run must exit 0 with every certificate's checks passing and leave the store as it
// was. See bench/README.md.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { intEnv, measure, mib, msf, ROOT, Scope, say, sec, stats, ToolError, table, withTimeout } from './lib.mjs';

const TARGET_MS = 2000;
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

function baseEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', ...extra };
}

/** Names and content hashes of every file under dir: equal before and after means nothing was written. */
function tree(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = e.isSymbolicLink() ? 'link' : createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export async function runDoctor({ rss, ck, devstack, load, tmp }) {
  const N = intEnv('BENCH_DOCTOR_N', 7);
  const certs = intEnv('BENCH_DOCTOR_CERTS', 50);
  const perZone = intEnv('BENCH_DOCTOR_PER_ZONE', 10);
  if (ck.via !== 'dist') throw new Error('dist/cli could not be built: the doctor is measured on the bundle');

  const scope = new Scope();
  try {
    say('doctor: starting moto, the Route 53 DNS server and Pebble …');
    const moto = await devstack.startMoto();
    scope.defer(() => moto.stop());
    const admin = new Route53Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    scope.defer(() => admin.destroy());
    const zones = Math.ceil(certs / perZone);
    for (let z = 1; z <= zones; z++) {
      const name = `doctor-${z}.example.com`;
      const out = await withTimeout(
        admin.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `bench-${name}` })),
        30_000,
        'moto CreateHostedZone',
      );
      await admin.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: out.HostedZone.Id,
          ChangeBatch: {
            Changes: [
              {
                Action: 'UPSERT',
                ResourceRecordSet: {
                  Name: name,
                  Type: 'CAA',
                  TTL: 300,
                  ResourceRecords: [{ Value: '0 issue "pebble.test"' }, { Value: '0 issuewild "pebble.test"' }],
                },
              },
            ],
          },
        }),
      );
    }
    const { startRoute53Dns } = await load('../test/support/route53-dns.ts');
    // The zones do not change while the bench runs (the doctor writes nothing): one snapshot of
    // moto answers a burst of lookups, as an authoritative server answers from memory.
    const dns = await startRoute53Dns({
      endpoint: moto.endpoint,
      cacheMs: 2000,
      // What a public resolver also answers for: the parents, so CAA climbs end in NODATA.
      transform: (served) => [
        ...['com', 'example.com'].map((name) => ({
          name,
          records: [
            {
              name,
              type: 'SOA',
              ttl: 60,
              data: {
                mname: `ns.${name}`,
                rname: `h.${name}`,
                serial: 1,
                refresh: 60,
                retry: 60,
                expire: 60,
                minimum: 60,
              },
            },
          ],
        })),
        ...served,
      ],
    });
    scope.defer(() => dns.stop());
    const stack = await devstack.startPebbleStack({ env: { PEBBLE_VA_NOSLEEP: '1' }, maxLifetimeSec: 3600 });
    scope.defer(() => stack.stop());

    const workspace = join(tmp, 'workspace');
    const storeDir = join(workspace, 'certs');
    await mkdir(storeDir, { recursive: true });
    const ids = Array.from({ length: certs }, (_, i) => `doc-${String(i + 1).padStart(2, '0')}`);
    const domainsOf = (i) => {
      const name = `site-${i + 1}.doctor-${Math.floor(i / perZone) + 1}.example.com`;
      return [name, `*.${name}`];
    };
    const config = {
      version: 1,
      acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, caaIdentities: ['pebble.test'] },
      // Pebble 2.4 offers no renewalInfo: the doctor would warn that ARI is relied on.
      renewal: { ari: false },
      defaults: {
        dns: { provider: 'route53', propagation: { resolvers: [dns.address], timeout: '30s', interval: '250ms' } },
        store: { type: 'file', dir: storeDir },
      },
      certificates: ids.map((id, i) => ({ id, domains: domainsOf(i) })),
    };
    const cfg = join(workspace, 'certkeeper.json');
    await writeFile(cfg, JSON.stringify(config, null, 2));

    say(`doctor: seeding ${certs} stored certificates and the ACME account`);
    const [{ FileStore }, { FileAccountStore }, { AcmeSession }, { parseConfig }, { parseCertificate }, clockMod] =
      await Promise.all([
        load('../src/adapters/store/file/store.ts'),
        load('../src/adapters/store/file/account.ts'),
        load('../src/core/acme.ts'),
        load('../src/entrypoints/config.ts'),
        load('../src/core/certinfo.ts'),
        load('../src/ports/clock.ts'),
      ]);
    const now = Date.now();
    for (const [i, id] of ids.entries()) {
      const domains = domainsOf(i);
      const { certPem, keyPem } = await devstack.createSelfSignedCert(domains, { validityDays: 60 });
      const info = parseCertificate(certPem);
      await new FileStore(storeDir, id, clockMod.systemClock).write({
        format: 'certkeeper/v1',
        id,
        domains,
        certificate: certPem,
        chain: '',
        fullchain: certPem,
        privateKey: keyPem,
        keyType: 'ec-p256',
        serialNumber: info.serialNumber,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        issuer: info.issuer,
        issuedAt: new Date(now).toISOString(),
        issuedBy: { via: 'cli', runId: 'bench:seed' },
      });
    }
    const parsed = parseConfig(config, { env: {} });
    await AcmeSession.open(parsed.acme, new FileAccountStore(storeDir), {
      clock: clockMod.systemClock,
      logger: quiet,
    });
    const before = tree(storeDir);

    const cli = join(ROOT, 'bin', 'certkeeper.js');
    const env = baseEnv({ ...AWS_ENV, AWS_ENDPOINT_URL: moto.endpoint });
    const runs = [];
    say(`doctor: ${N} timed runs of certkeeper doctor --json over ${certs} certificates in ${zones} zones`);
    for (let i = 0; i < N; i++) {
      const r = await measure(process.execPath, [cli, 'doctor', '--json', '--config', cfg], {
        env,
        cwd: workspace,
        rss,
        tmp,
      });
      let report;
      try {
        report = JSON.parse(r.stdout);
      } catch {
        throw new ToolError('certkeeper', `doctor printed no JSON (exit ${r.code})`, r.output);
      }
      const notPassing = report.checks.filter(
        (c) => c.certificate && c.status !== 'pass' && !(c.check === 'endpoint' && c.status === 'skip'),
      );
      if (r.code !== 0 || notPassing.length) {
        throw new ToolError(
          'certkeeper',
          `doctor exited ${r.code}; not passing: ${notPassing
            .slice(0, 3)
            .map((c) => `${c.certificate} ${c.check} ${c.status}: ${c.message}`)
            .join('; ')}`,
          r.output,
        );
      }
      const after = tree(storeDir);
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        throw new ToolError('certkeeper', 'doctor changed the store', JSON.stringify({ before, after }).slice(0, 2000));
      }
      runs.push({ ms: r.ms, rssKb: r.rssKb, inProcessMs: report.durationMs, checks: report.checks.length });
    }
    const wall = stats(runs.map((r) => r.ms));
    const inner = stats(runs.map((r) => r.inProcessMs));
    const peak = stats(runs.map((r) => r.rssKb));
    const met = wall.median <= TARGET_MS;
    const text = [
      `== doctor: ${certs} certificates (apex + wildcard), ${zones} Route 53 zones, ${N} runs`,
      table([
        ['', 'median', 'p90', 'min', 'max'],
        ['whole process', sec(wall.median), sec(wall.p90), sec(wall.min), sec(wall.max)],
        ['in-process (durationMs)', msf(inner.median), msf(inner.p90), msf(inner.min), msf(inner.max)],
        ['peak RSS', mib(peak.median), mib(peak.p90), mib(peak.min), mib(peak.max)],
      ]),
      `${runs[0]?.checks ?? 0} checks per run; store unchanged after every run`,
      `target: whole process ≤ 2 s (median): ${met ? 'met' : 'MISSED'} (${sec(wall.median)})`,
    ].join('\n');
    return {
      text,
      json: { certs, zones, runs, wall, inProcess: inner, rssKb: peak, target: { ms: TARGET_MS, met } },
      targets: [{ name: `doctor: ${certs} certificates, whole process ≤ 2 s (median)`, value: sec(wall.median), met }],
    };
  } finally {
    await scope.close();
  }
}
