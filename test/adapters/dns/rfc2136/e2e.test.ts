// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDnsServer } from '../../../../src/devstack/authdns.js';
import { startBind } from '../../../../src/devstack/bind.js';
import { localConfig, runLocal, tempDir } from '../../../support/certkeeper.js';
import { type DnsProxy, startDnsProxy } from '../../../support/dns-proxy.js';
import { getStack, routeZones } from '../../../support/stack.js';
import { registerKeys, testZone, txtValues } from '../selfhosted.js';

/**
 * Apex + wildcard from a Pebble that validates DNS-01 against BIND itself, from a config naming
 * `provider: rfc2136`: the records are written through a counting proxy (so the messages the
 * provider sends are measured), the propagation check asks BIND through another one.
 */

const zone = testZone('e2e-bind');
const challenge = `_acme-challenge.${zone}`;

let bind: AuthDnsServer;
/** The shared Pebble, validating this file's zone against its server (routeZones). */
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;
let providerProxy: DnsProxy;
let checkProxy: DnsProxy;

beforeAll(async () => {
  bind = await startBind({
    keys: [{ name: 'certkeeper', algorithm: 'hmac-sha256' }],
    zones: [{ name: zone, updateKeys: ['certkeeper'], records: ['_acme-challenge IN TXT "foreign-e2e"'] }],
  });
  registerKeys(bind);
  [unroute, providerProxy, checkProxy] = await Promise.all([
    routeZones([{ zone, address: bind.address }]),
    startDnsProxy(bind),
    startDnsProxy(bind),
  ]);
});

afterAll(async () => {
  await Promise.all([unroute?.(), providerProxy?.stop(), checkProxy?.stop()]);
  await bind?.stop();
});

describe('end to end: rfc2136 against BIND, validated by Pebble', () => {
  it('issues apex + wildcard, keeps the foreign value, leaves none of ours', async () => {
    const dir = await tempDir();
    const dns = {
      provider: 'rfc2136',
      server: providerProxy.address,
      tsig: { name: 'certkeeper', secret: '${env:TSIG_SECRET}' },
      propagation: { resolvers: [checkProxy.address], timeout: '20s', interval: '100ms' },
    };
    const started = performance.now();
    // Through the config and the registry: descriptor, ${env:…} secret, lazy create.
    const report = await runLocal(localConfig(pebble, dir, [{ id: 'site', domains: [zone, `*.${zone}`], dns }]), {
      env: { TSIG_SECRET: bind.key('certkeeper').secret },
    });
    const ms = Math.round(performance.now() - started);
    expect(report.results[0]).toMatchObject({ id: 'site', status: 'renewed' });
    const leaf = new X509Certificate(await readFile(join(dir, 'site', 'cert.pem'), 'utf8'));
    expect(leaf.subjectAltName).toContain(`DNS:${zone}`);
    expect(leaf.subjectAltName).toContain(`DNS:*.${zone}`);
    expect(await txtValues(bind.address, challenge)).toEqual(['foreign-e2e']);
    // SOA discovery, one UPDATE adding both values, one deleting them: all UDP.
    expect(providerProxy.counts).toEqual({ udp: 3, tcp: 0 });
    console.log(
      `[measure] rfc2136/BIND apex+wildcard: ${providerProxy.counts.udp + providerProxy.counts.tcp} provider DNS messages, ` +
        `${checkProxy.counts.udp + checkProxy.counts.tcp} propagation queries, ${ms} ms`,
    );
  });
});
