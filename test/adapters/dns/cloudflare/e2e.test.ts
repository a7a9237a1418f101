import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudflareProvider } from '../../../../src/adapters/dns/cloudflare/cloudflare.js';
import { captureLog, localConfig, runLocal, tempDir } from '../../../support/certkeeper.js';
import { type FakeCloudflare, startFakeCloudflare } from '../../../support/fakes/cloudflare.js';
import { getStack, routeZones } from '../../../support/stack.js';
import { provider } from './helpers.js';

/**
 * Apex + wildcard issued by the shared Pebble, validating DNS-01 through the fake Cloudflare's DNS, so
 * the certificate exists only if the provider really wrote both TXT records through the SDK; the
 * run (src/core/runner.ts) gets the Cloudflare provider in place of the config's DNS adapter until
 * the registry builds it from descriptors.
 */

let fake: FakeCloudflare;
/** The shared Pebble, validating this file's zone against its server (routeZones). */
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;
let dns: CloudflareProvider;
const zone = 'e2e-cloudflare.example.com';

beforeAll(async () => {
  fake = await startFakeCloudflare();
  fake.addZone('example.com');
  fake.addZone(zone);
  // A value someone else keeps at the challenge name: it must survive both runs.
  fake.addRecord(zone, { type: 'TXT', name: `_acme-challenge.${zone}`, content: '"foreign-verification"' });
  dns = provider(fake.env(fake.addToken()));
  unroute = await routeZones([{ zone, address: fake.dns.address }]);
}, 60_000);

afterAll(async () => {
  await unroute?.();
  await fake?.stop();
});

describe('issuance through Cloudflare (fake API + its DNS, real SDK, Pebble)', () => {
  it('issues apex + wildcard, then renews; no TXT record of ours remains, the foreign one does', async () => {
    const dir = await tempDir();
    const config = localConfig(pebble, dir, [{ id: 'cf', domains: [zone, `*.${zone}`] }], {
      resolvers: [fake.dns.address],
    });
    const calls: (typeof fake.requests)[] = [];
    for (const force of [false, true]) {
      const before = fake.requests.length;
      const log = captureLog();
      const report = await runLocal(config, { force, log, dns: () => dns });
      calls.push(fake.requests.slice(before));
      expect(report.results[0]?.error, log.lines.join('\n')).toBeUndefined();
      expect(report.results[0]?.status).toBe('renewed');
      expect(fake.txtValues(`_acme-challenge.${zone}`)).toEqual(['foreign-verification']);
    }
    const leaf = new X509Certificate(await readFile(join(dir, 'cf', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toContain(`DNS:*.${zone}`);
    // First run (a new account, so two pending authorizations): 1 zone listing + 2 creates +
    // 2 deletes. The renewal finds the zone cached: one create and one delete per authorization
    // Pebble did not reuse (it sometimes reuses one despite PEBBLE_AUTHZREUSE=0).
    const shape = (list: typeof fake.requests) =>
      list.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{32}/g, ':id')}`);
    expect(shape(calls[0] ?? []).sort()).toEqual([
      'DELETE /zones/:id/dns_records/:id',
      'DELETE /zones/:id/dns_records/:id',
      'GET /zones',
      'POST /zones/:id/dns_records',
      'POST /zones/:id/dns_records',
    ]);
    const renewal = shape(calls[1] ?? []);
    expect(renewal).not.toContain('GET /zones');
    expect(renewal.filter((c) => c.startsWith('POST')).length).toBe(
      renewal.filter((c) => c.startsWith('DELETE')).length,
    );
    expect(fake.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('a wrong token fails only its own certificate, as dns-provider, with cloudflare: first', async () => {
    const dir = await tempDir();
    const other = `other.${zone}`;
    const config = localConfig(
      pebble,
      dir,
      [
        { id: 'wrong-token', domains: [other] },
        { id: 'good', domains: [zone] },
      ],
      { resolvers: [fake.dns.address] },
    );
    const wrong = provider(fake.env('Wr0ngTokenWr0ngTokenWr0ngTokenWr0ngToken'));
    const report = await runLocal(config, { dns: (_real, id) => (id === 'wrong-token' ? wrong : dns) });
    const [bad, good] = report.results;
    expect(bad).toMatchObject({ id: 'wrong-token', status: 'failed', error: { class: 'dns-provider' } });
    expect(bad?.error?.message).toMatch(/^cloudflare: 10000 Authentication error/);
    expect(bad?.error?.hint).toMatch(/Zone → DNS → Edit/);
    expect(good).toMatchObject({ id: 'good', status: 'renewed' });
    expect(fake.records({ type: 'TXT' }).map((r) => r.content)).toEqual(['"foreign-verification"']);
  });
});
