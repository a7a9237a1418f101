import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Client from 'acme-client/src/client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapters, registry } from '../../../src/adapters/registry.js';
import { createNodeDnsLookup } from '../../../src/adapters/resolver/node-dns.js';
import { FileAccountStore } from '../../../src/adapters/store/file/account.js';
import { AcmeSession } from '../../../src/core/acme.js';
import { generatePrivateKey } from '../../../src/core/certinfo.js';
import { doctor } from '../../../src/core/doctor/doctor.js';
import type { DoctorReport } from '../../../src/core/doctor/report.js';
import { parseConfig } from '../../../src/entrypoints/config.js';
import { systemClock } from '../../../src/ports/clock.js';
import { type AriShim, startAriShim } from '../../support/ari-shim.js';
import { localConfig, tempDir, uniqueZone } from '../../support/certkeeper.js';
import { seedCertificate } from '../../support/doctor.js';
import { recordingLogger } from '../../support/logger.js';
import { registerSecret } from '../../support/secrets-guard.js';
import { getStack } from '../../support/stack.js';
import { startZoneDns, type ZoneDns } from '../../support/zone-dns.js';

/**
 * `acme.directory`, `acme.account`, the CA identity behind `caa`, and `endpoint`, against the real
 * Pebble (and the shim that adds ARI, profiles and caaIdentities to it): an account deactivated at
 * Pebble, one Pebble never knew, a directory whose TLS certificate is not trusted or that does not
 * answer, and an endpoint that does not answer.
 */

const stack = getStack();
let shim: AriShim;
let dns: ZoneDns;
const zone = uniqueZone('dac');

beforeAll(async () => {
  shim = await startAriShim({
    upstream: stack,
    profiles: { classic: { description: 'the default' }, tlsserver: { description: 'no CN', commonName: false } },
  });
  const soa = (name: string) => ({
    name,
    type: 'SOA' as const,
    ttl: 60,
    data: { mname: `ns.${name}`, rname: `h.${name}`, serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 },
  });
  dns = await startZoneDns({
    zones: () => [
      { name: 'com', records: [soa('com')] },
      { name: 'example.com', records: [soa('example.com')] },
      {
        name: zone,
        records: [
          soa(zone),
          { name: zone, type: 'CAA', ttl: 60, data: { flags: 0, tag: 'issue', value: 'pebble.test' } },
        ],
      },
    ],
  });
});
afterAll(async () => {
  await shim?.stop();
  await dns?.stop();
});

async function run(raw: Record<string, unknown>): Promise<DoctorReport> {
  const config = parseConfig(raw, { env: {} });
  const adapters = createAdapters(config, {
    clock: systemClock,
    logger: recordingLogger(),
    env: {},
    entry: 'cli',
    lookup: createNodeDnsLookup(),
  });
  return doctor(
    config,
    { owner: 'doctor:test' },
    { adapters, clock: systemClock, logger: recordingLogger(), cas: registry.cas },
  );
}

const get = (r: DoctorReport, certificate: string | null, check: string) => {
  const c = r.checks.find((x) => x.certificate === certificate && x.check === check);
  if (!c) throw new Error(`no ${check}`);
  return c;
};

/** A config on the shared stack whose DNS lookups go to the zone-dns above. */
async function configFor(dir: string, acme: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const raw = localConfig(stack, dir, [{ id: 'web', domains: [`www.${zone}`], ...extra }], {
    acme,
    resolvers: [dns.address],
  });
  return raw;
}

describe('acme.account', () => {
  it('a stored account valid at the CA passes; deactivated at Pebble fails; one the CA does not know warns', async () => {
    const dir = await tempDir('ck-doctor-acct-');
    const raw = await configFor(dir);
    const config = parseConfig(raw, { env: {} });
    const accounts = new FileAccountStore(dir);
    await AcmeSession.open(config.acme, accounts, { clock: systemClock, logger: recordingLogger() });
    const stored = await accounts.load(config.acme.directoryUrl);
    if (!stored) throw new Error('no account stored');
    registerSecret(stored.accountKey);
    expect(get(await run(raw), null, 'acme.account')).toMatchObject({ status: 'pass' });

    // Deactivated as RFC 8555 §7.3.6 does it: the account's own key POSTs {status: deactivated}.
    const client = new Client({
      directoryUrl: config.acme.directoryUrl,
      accountKey: stored.accountKey,
      accountUrl: stored.accountUrl,
    });
    await client.updateAccount({ status: 'deactivated' } as never);
    const deactivated = get(await run(raw), null, 'acme.account');
    expect(deactivated.status).toBe('fail');
    expect(deactivated.message).toContain('Account has been deactivated');
    expect(deactivated.hint).toContain(`delete it from the store (${dir}/_account)`);

    // An account URL the CA never issued (a CA that was reset): the next run registers anew.
    const key = await generatePrivateKey('ec-p256');
    registerSecret(key);
    await accounts.save({
      ...stored,
      accountKey: key,
      accountUrl: stored.accountUrl.replace(/[^/]+$/, 'doctor-unknown'),
    });
    const unknown = get(await run(raw), null, 'acme.account');
    expect(unknown.status).toBe('warn');
    expect(unknown.message).toContain('does not know account');
  });
});

describe('acme.directory', () => {
  it('through the shim: renewalInfo and the profile offered pass; a profile it does not offer fails', async () => {
    const dir = await tempDir('ck-doctor-dir-');
    const acme = { directory: shim.directoryUrl, caBundle: shim.caBundlePath };
    const ok = get(await run(await configFor(dir, { ...acme, profile: 'tlsserver' })), null, 'acme.directory');
    expect(ok).toEqual({
      certificate: null,
      check: 'acme.directory',
      status: 'pass',
      message: `${shim.directoryUrl} answers over verified TLS, profile tlsserver, renewalInfo (ARI)`,
    });
    const bad = get(await run(await configFor(dir, { ...acme, profile: 'shortlived' })), null, 'acme.directory');
    expect(bad.status).toBe('fail');
    expect(bad.message).toContain('offers no profile "shortlived" (it offers classic, tlsserver)');
    expect(shim.count('new-order')).toBe(0);
    expect(shim.count('new-account')).toBe(0);
  });

  it('a directory whose TLS certificate is not trusted fails, naming acme.caBundle; one that does not answer fails', async () => {
    const dir = await tempDir('ck-doctor-tls-');
    const other = join(dir, 'other-ca.pem');
    // A CA bundle that does not hold Pebble's listener certificate.
    await writeFile(other, shim.issuerPem);
    const untrusted = get(await run(await configFor(dir, { caBundle: other })), null, 'acme.directory');
    expect(untrusted.status).toBe('fail');
    expect(untrusted.message).toContain('does not answer over verified TLS');
    expect(untrusted.hint).toContain('acme.caBundle');

    const down = get(await run(await configFor(dir, { directory: 'https://127.0.0.1:9/dir' })), null, 'acme.directory');
    expect(down.status).toBe('fail');
    expect(down.message).toMatch(/does not answer.*ECONNREFUSED/);
  });
});

describe('caa: the CA identity', () => {
  it("the directory's caaIdentities, else acme.caaIdentities, else a warning when CAA restricts issuance", async () => {
    const dir = await tempDir('ck-doctor-caaid-');
    // Pebble publishes no caaIdentities.
    const none = get(await run(await configFor(dir)), 'web', 'caa');
    expect(none.status).toBe('warn');
    expect(none.hint).toContain('acme.caaIdentities');
    expect(get(await run(await configFor(dir, { caaIdentities: ['pebble.test'] })), 'web', 'caa').status).toBe('pass');
    expect(get(await run(await configFor(dir, { caaIdentities: ['other.example'] })), 'web', 'caa').status).toBe(
      'fail',
    );
    const published = await startAriShim({ upstream: stack, caaIdentities: ['pebble.test'] });
    try {
      const acme = { directory: published.directoryUrl, caBundle: published.caBundlePath };
      expect(get(await run(await configFor(dir, acme)), 'web', 'caa')).toMatchObject({
        status: 'pass',
        message: `www.${zone}: CAA issue at ${zone} allows pebble.test`,
      });
    } finally {
      await published.stop();
    }
  });
});

describe('endpoint', () => {
  it('an endpoint that does not answer is a warning that says so', async () => {
    const dir = await tempDir('ck-doctor-ep-');
    await seedCertificate(dir, 'web', [`www.${zone}`]);
    const report = await run(
      await configFor(dir, {}, { hooks: [{ type: 'verify-endpoint', endpoints: ['127.0.0.1:9'], timeout: '2s' }] }),
    );
    const endpoint = get(report, 'web', 'endpoint');
    expect(endpoint.status).toBe('warn');
    expect(endpoint.message).toMatch(/could not read what 127\.0\.0\.1:9 serves: .*ECONNREFUSED/);
    expect(get(report, 'web', 'expiry').status).toBe('pass');
  });
});
