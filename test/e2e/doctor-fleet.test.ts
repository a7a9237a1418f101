import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccountStore } from '../../src/adapters/store/file/account.js';
import type { CheckResult, DoctorReport } from '../../src/core/doctor/report.js';
import { main } from '../../src/entrypoints/cli/main.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { systemClock } from '../../src/ports/clock.js';
import { type AriShim, startAriShim } from '../support/ari-shim.js';
import { tempDir, uniqueZone } from '../support/certkeeper.js';
import { makeReadOnly, seedCertificate, startTlsEndpoint, treeSnapshot, zonesSnapshot } from '../support/doctor.js';
import { recordingLogger } from '../support/logger.js';
import { type Route53Dns, startRoute53Dns } from '../support/route53-dns.js';
import { getStack } from '../support/stack.js';
import type { ZoneSnapshot } from '../support/zone-dns.js';

/**
 * The "Done when": a fleet on Route 53 (moto) with one fault per certificate, its zones
 * served over DNS by the Route 53 bridge (plus what a public resolver would add: the parent zones,
 * and a registrar's NS for the zone that was never delegated), the ACME CA behind a shim that
 * publishes caaIdentities and counts every request, file stores (one of them read-only), and TLS
 * endpoints on loopback. `certkeeper doctor --json` must name each fault with the right check and
 * status, pass the healthy certificates, exit 1, and change nothing: not a record, not a file, not
 * an order.
 */

// Under a parent no other test uses, so "a name without a zone" finds none in the shared moto.
const base = `${uniqueZone('doc').split('.')[0]}.doctor.test`;
const Z = (label: string) => `${label}.${base}`;
const FAULTY_NS = 'ns1.old-registrar.example';

let r53: Route53Client;
let bridge: Route53Dns;
let shim: AriShim;
let work: string;
let fleetPath: string;
let healthyPath: string;
let restoreReadOnly: () => Promise<void>;
const stops: (() => Promise<void>)[] = [];

async function put(zoneId: string, name: string, type: RRType, values: string[]) {
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) },
          },
        ],
      },
    }),
  );
}

/** What a public resolver adds to moto's zones: the parents (so CAA climbs end in NODATA) and a stale delegation. */
function resolverView(zones: ZoneSnapshot[]): ZoneSnapshot[] {
  const soa = (name: string) => ({
    name,
    type: 'SOA' as const,
    ttl: 60,
    data: {
      mname: `ns.${name}`,
      rname: `hostmaster.${name}`,
      serial: 1,
      refresh: 60,
      retry: 60,
      expire: 60,
      minimum: 60,
    },
  });
  const undelegated = Z('undeleg');
  return [
    { name: 'test', records: [soa('test')] },
    { name: 'doctor.test', records: [soa('doctor.test')] },
    ...zones.map((z) =>
      z.name === undelegated
        ? {
            ...z,
            records: [
              ...z.records.filter((r) => !(r.type === 'NS' && r.name === undelegated)),
              { name: undelegated, type: 'NS' as const, ttl: 60, data: FAULTY_NS },
            ],
          }
        : z,
    ),
  ];
}

async function cli(args: string[]): Promise<{ code: number; report: DoctorReport; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: process.env });
  return { code, report: JSON.parse(stdout) as DoctorReport, stderr };
}

const find = (report: DoctorReport, certificate: string | null, check: string): CheckResult => {
  const c = report.checks.find((x) => x.certificate === certificate && x.check === check);
  if (!c) throw new Error(`no ${check} check for ${certificate}: ${JSON.stringify(report.checks, null, 1)}`);
  return c;
};

async function everything() {
  return {
    zones: await zonesSnapshot(r53, (zone) => zone.endsWith(`.${base}.`)),
    files: await treeSnapshot(work),
    ca: shim.count('new-order'),
  };
}

beforeAll(async () => {
  const stack = getStack();
  // The run-wide moto: the CLI's AWS clients find it through the standard environment.
  const saved = Object.fromEntries(Object.keys(stack.motoEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, stack.motoEnv);
  stops.push(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  r53 = new Route53Client({});
  stops.push(async () => r53.destroy());
  shim = await startAriShim({ upstream: stack, caaIdentities: ['pebble.test'] });
  stops.push(() => shim.stop());
  work = await tempDir('ck-doctor-fleet-');
  const certs = join(work, 'certs');
  const ro = join(work, 'readonly');
  await mkdir(ro, { recursive: true });

  const zoneIds: Record<string, string> = {};
  for (const label of ['ok', 'aliasok', 'caa', 'wild', 'undeleg', 'alias', 'validation', 'store', 'endpoint']) {
    const out = await r53.send(new CreateHostedZoneCommand({ Name: Z(label), CallerReference: `doctor-${label}` }));
    zoneIds[label] = out.HostedZone?.Id as string;
  }
  const id = (label: string) => zoneIds[label] as string;
  await put(id('ok'), Z('ok'), 'CAA', ['0 issue "pebble.test"']);
  await put(id('caa'), Z('caa'), 'CAA', ['0 issue "digicert.com"']);
  await put(id('wild'), Z('wild'), 'CAA', ['0 issue "pebble.test"', '0 issuewild ";"']);
  await put(id('aliasok'), `_acme-challenge.${Z('aliasok')}`, 'CNAME', [
    `_acme-challenge.${Z('aliasok')}.${Z('validation')}`,
  ]);

  // Lookups come in bursts; one snapshot of moto serves each burst (the probe still sees its write
  // within the cache time).
  bridge = await startRoute53Dns({
    endpoint: stack.motoEndpoint,
    only: (zone) => zone.endsWith(`.${base}`),
    transform: resolverView,
    cacheMs: 300,
  });
  stops.push(() => bridge.stop());

  const dns = {
    provider: 'route53',
    propagation: { resolvers: [bridge.address], timeout: '10s', interval: '50ms' },
  };
  const cert = (label: string, extra: Record<string, unknown> = {}) => ({
    id: label,
    domains: [Z(label)],
    ...extra,
  });
  // Stored certificates for all, and the endpoints: the healthy one serves its own, the stale one another.
  const stored: Record<string, Awaited<ReturnType<typeof seedCertificate>>> = {};
  const labels = ['ok', 'aliasok', 'caa', 'wild', 'undeleg', 'nozone', 'alias', 'endpoint'];
  await Promise.all(
    labels.map(async (label) => {
      stored[label] = await seedCertificate(
        certs,
        label,
        label === 'wild' ? [Z('wild'), `*.${Z('wild')}`] : [Z(label)],
      );
    }),
  );
  stored.store = await seedCertificate(ro, 'store', [Z('store')]);
  const served = await startTlsEndpoint(stored.ok as never);
  const stale = await startTlsEndpoint(stored.caa as never);
  stops.push(served.stop, stale.stop);
  const verify = (address: string) => ({ hooks: [{ type: 'verify-endpoint', endpoints: [address], timeout: '5s' }] });

  const acme = { directory: shim.directoryUrl, caBundle: shim.caBundlePath, orderBudget: { orders: 300, per: '3h' } };
  const healthy = [
    cert('ok', verify(served.address)),
    cert('aliasok', { dns: { ...dns, challengeAlias: Z('validation') } }),
  ];
  const fleet = {
    version: 1,
    acme,
    defaults: { dns, store: { type: 'file', dir: certs } },
    certificates: [
      ...healthy,
      cert('caa'),
      { ...cert('wild'), domains: [Z('wild'), `*.${Z('wild')}`] },
      cert('undeleg'),
      cert('nozone'),
      cert('alias', { dns: { ...dns, challengeAlias: Z('validation') } }),
      cert('store', { store: { type: 'file', dir: ro } }),
      cert('endpoint', verify(stale.address)),
    ],
  };
  fleetPath = join(work, 'fleet.json');
  healthyPath = join(work, 'healthy.json');
  await writeFile(fleetPath, JSON.stringify(fleet));
  await writeFile(healthyPath, JSON.stringify({ ...fleet, certificates: healthy }));

  // The account a run would have registered (through the shim), so acme.account can check it.
  const { AcmeSession } = await import('../../src/core/acme.js');
  const config = parseConfig(fleet, { env: process.env });
  await AcmeSession.open(config.acme, new FileAccountStore(certs), { clock: systemClock, logger: recordingLogger() });
  restoreReadOnly = await makeReadOnly(ro);
  shim.resetLog();
}, 30_000);

afterAll(async () => {
  await restoreReadOnly?.();
  for (const stop of stops.reverse()) await stop();
});

describe('certkeeper doctor on a fleet with one fault per certificate', () => {
  it('names each fault with its check and status, passes the healthy ones, exits 1, and changes nothing', async () => {
    const before = await everything();
    const { code, report, stderr } = await cli(['doctor', '--json', '-c', fleetPath]);
    expect(code, stderr).toBe(1);

    // The JSON shape of PRODUCT §5.
    for (const c of report.checks) {
      const keys = Object.keys(c);
      for (const k of ['certificate', 'check', 'status', 'message']) expect(keys).toContain(k);
      for (const k of keys) expect(['certificate', 'check', 'status', 'message', 'hint']).toContain(k);
      expect(['pass', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(typeof c.message).toBe('string');
      if (c.status === 'fail' || c.status === 'warn') expect(c.hint, `${c.certificate} ${c.check}`).toBeTruthy();
    }

    const faults: [string, string, 'fail' | 'warn', RegExp][] = [
      ['caa', 'caa', 'fail', /allows digicert\.com, not pebble\.test/],
      ['wild', 'caa', 'fail', /^\*\.wild\..*issuewild .*no CA \(";"\).*wildcard issuance is forbidden/],
      ['undeleg', 'dns.delegation', 'fail', new RegExp(`delegated to ${FAULTY_NS}.*not to route53's name servers`)],
      ['nozone', 'dns.zone', 'fail', /route53: no public hosted zone found for _acme-challenge\.nozone\./],
      ['alias', 'dns.alias', 'fail', /_acme-challenge\.alias\..* is no CNAME/],
      ['store', 'store', 'fail', /cannot take a lease .* (EACCES|EPERM)/],
      ['endpoint', 'endpoint', 'warn', /stored but not deployed: 127\.0\.0\.1:\d+ serves serial/],
    ];
    for (const [certificate, check, status, message] of faults) {
      const c = find(report, certificate, check);
      expect(c.status, `${certificate} ${check}: ${c.message}`).toBe(status);
      expect(c.message).toMatch(message);
    }
    // Every other check of every certificate passes (or is skipped where it does not apply).
    const faulty = new Set(faults.map(([cert, check]) => `${cert} ${check}`));
    for (const c of report.checks) {
      if (faulty.has(`${c.certificate} ${c.check}`)) continue;
      const expected =
        (c.certificate === 'nozone' && c.check === 'dns.delegation') ||
        (c.check === 'endpoint' && !['ok'].includes(String(c.certificate)))
          ? 'skip'
          : 'pass';
      expect(`${c.certificate} ${c.check} ${c.status}: ${c.message}`).toBe(
        `${c.certificate} ${c.check} ${expected}: ${c.message}`,
      );
    }
    // The wildcard fault is the wildcard's only: its apex passes.
    expect(find(report, 'wild', 'caa').message.startsWith(`*.${Z('wild')}: `)).toBe(true);
    expect(find(report, 'wild', 'caa').message).not.toContain(`; ${Z('wild')}: `);
    expect(find(report, null, 'acme.account').message).toMatch(/is valid at the CA/);
    expect(find(report, null, 'acme.directory').message).toContain('renewalInfo (ARI)');
    expect(find(report, 'ok', 'dns.delegation').message).toMatch(/delegated to route53 \(ns-\d+\.awsdns/);
    expect(find(report, 'aliasok', 'dns.zone').message).toContain(`zone ${Z('validation')}`);

    // Nothing changed: the zones, the stores (no version, lease, ledger or account written), the CA.
    expect(await everything()).toEqual(before);
    expect(shim.count('new-order')).toBe(0);
    expect(shim.count('new-account')).toBe(0);
    expect(shim.count('directory')).toBeGreaterThanOrEqual(1);
  });

  it('a healthy config exits 0', async () => {
    const { code, report, stderr } = await cli(['doctor', '--json', '-c', healthyPath]);
    expect(
      code,
      `${stderr}\n${JSON.stringify(
        report.checks.filter((c) => c.status !== 'pass'),
        null,
        1,
      )}`,
    ).toBe(0);
    expect(report.summary.fail).toBe(0);
    expect(report.checks.filter((c) => c.status === 'warn')).toEqual([]);
  });

  it('--probe reports the propagation time and leaves the zone as it was', async () => {
    const before = await everything();
    const { code, report } = await cli(['doctor', '--json', '--probe', '-c', healthyPath]);
    expect(code).toBe(0);
    const probe = find(report, 'ok', 'dns.probe');
    expect(probe.status).toBe('pass');
    expect(probe.message).toMatch(
      new RegExp(
        `probe TXT value at _acme-challenge\\.ok\\..* live at route53 after \\d+ ms and seen by all 1 resolver\\(s\\) \\(${bridge.address}\\) after \\d+ ms; removed`,
      ),
    );
    expect(find(report, 'aliasok', 'dns.probe').message).toContain(
      `_acme-challenge.aliasok.${base}.${Z('validation')}`,
    );
    expect(await everything()).toEqual(before);
  });
});
