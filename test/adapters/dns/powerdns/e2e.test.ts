// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type PowerDnsServer, startPowerDns } from '../../../../src/devstack/powerdns.js';
import { localConfig, runLocal, tempDir } from '../../../support/certkeeper.js';
import { registerSecret } from '../../../support/secrets-guard.js';
import { getStack, routeZones } from '../../../support/stack.js';
import { testZone, txtValues } from '../selfhosted.js';

/** Apex + wildcard from a Pebble that validates DNS-01 against PowerDNS, from a config naming `provider: powerdns`. */

const zone = testZone('e2e-pdns');
const challenge = `_acme-challenge.${zone}`;

let pdns: PowerDnsServer;
/** The shared Pebble, validating this file's zone against its server (routeZones). */
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;

beforeAll(async () => {
  pdns = await startPowerDns({ zones: [{ name: zone, records: ['_acme-challenge IN TXT "foreign-e2e"'] }] });
  registerSecret(pdns.apiKey);
  unroute = await routeZones([{ zone, address: pdns.address }]);
});

afterAll(async () => {
  await unroute?.();
  await pdns?.stop();
});

describe('end to end: powerdns API, validated by Pebble', () => {
  it('issues apex + wildcard, keeps the foreign value, leaves none of ours', async () => {
    const dir = await tempDir();
    const dns = {
      provider: 'powerdns',
      url: pdns.apiUrl,
      apiKey: '${env:PDNS_API_KEY}',
      propagation: { resolvers: [pdns.address], timeout: '20s', interval: '100ms' },
    };
    // Counts the provider's calls; they still go to the real server (ACME goes through axios, not fetch).
    const spy = vi.spyOn(globalThis, 'fetch');
    const started = performance.now();
    let report: Awaited<ReturnType<typeof runLocal>>;
    let calls: string[];
    try {
      // Through the config and the registry: descriptor, ${env:…} secret, lazy create.
      report = await runLocal(localConfig(pebble, dir, [{ id: 'site', domains: [zone, `*.${zone}`], dns }]), {
        env: { PDNS_API_KEY: pdns.apiKey },
      });
      calls = spy.mock.calls
        .map(([input, init]) => `${init?.method ?? 'GET'} ${String(input)}`)
        .filter((c) => c.includes(pdns.apiUrl));
    } finally {
      spy.mockRestore();
    }
    const ms = Math.round(performance.now() - started);
    expect(report.results[0]).toMatchObject({ id: 'site', status: 'renewed' });
    const leaf = new X509Certificate(await readFile(join(dir, 'site', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toContain(`DNS:${zone}`);
    expect(leaf.subjectAltName).toContain(`DNS:*.${zone}`);
    expect(await txtValues(pdns.address, challenge)).toEqual(['foreign-e2e']);
    // List zones once; per write: read the rrset, PATCH it, read it again.
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['GET', 'GET', 'PATCH', 'GET', 'GET', 'PATCH', 'GET']);
    console.log(`[measure] powerdns API apex+wildcard: ${calls.length} HTTP calls, ${ms} ms`);
  });
});
