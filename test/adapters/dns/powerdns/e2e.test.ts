import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPowerDnsProvider } from '../../../../src/adapters/dns/powerdns/powerdns.js';
import { type PowerDnsServer, startPowerDns } from '../../../../src/devstack/powerdns.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { localConfig, runLocal, tempDir } from '../../../support/certkeeper.js';
import { registerSecret } from '../../../support/secrets-guard.js';
import { type PebbleStack, startOwnPebble } from '../../../support/stack.js';
import { testZone, txtValues } from '../selfhosted.js';

/** Apex + wildcard from a Pebble that validates DNS-01 against PowerDNS, written through its HTTP API. */

const zone = testZone('e2e-pdns');
const challenge = `_acme-challenge.${zone}`;

let pdns: PowerDnsServer;
let pebble: PebbleStack;

beforeAll(async () => {
  pdns = await startPowerDns({ zones: [{ name: zone, records: ['_acme-challenge IN TXT "foreign-e2e"'] }] });
  registerSecret(pdns.apiKey);
  pebble = await startOwnPebble({ dnsServer: pdns.address });
});

afterAll(async () => {
  await pebble?.stop();
  await pdns?.stop();
});

describe('end to end: powerdns API, validated by Pebble', () => {
  it('issues apex + wildcard, keeps the foreign value, leaves none of ours', async () => {
    const dir = await tempDir();
    const calls: string[] = [];
    const provider = createPowerDnsProvider(
      { url: pdns.apiUrl, apiKey: pdns.apiKey, serverId: 'localhost' },
      {
        clock: systemClock,
        fetch: (input, init) => {
          calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
          return fetch(input, init);
        },
      },
    );
    const started = performance.now();
    const report = await runLocal(
      localConfig(pebble, dir, [{ id: 'site', domains: [zone, `*.${zone}`] }], { resolvers: [pdns.address] }),
      { dns: () => provider },
    );
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
