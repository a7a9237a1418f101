// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDnsServer } from '../../src/devstack/authdns.js';
import { startBind } from '../../src/devstack/bind.js';
import { type PowerDnsServer, startPowerDns } from '../../src/devstack/powerdns.js';
import { registerKeys, testZone, txtValues } from '../adapters/dns/selfhosted.js';
import { useMoto } from '../support/aws.js';
import { localConfig, runLocal, tempDir } from '../support/certkeeper.js';
import { type DnsRouter, startDnsRouter } from '../support/dns-router.js';
import { type FakeCloudflare, startFakeCloudflare } from '../support/fakes/cloudflare.js';
import { type Route53Dns, startRoute53Dns } from '../support/route53-dns.js';
import { registerSecret } from '../support/secrets-guard.js';
import { getStack, routeZones } from '../support/stack.js';

/**
 * One config, four DNS providers, one run (issue 10): Route 53 (moto, served over DNS by the
 * bridge), Cloudflare (the fake), RFC 2136 (real BIND) and PowerDNS (its real HTTP API). The shared
 * Pebble validates each zone against its server (routeZones); the propagation check asks a router
 * of this file that does the same. Every challenge name
 * holds a foreign TXT value beforehand; afterwards it holds exactly that, and none of ours.
 */

const aws = useMoto();
const zones = {
  route53: testZone('mix-r53'),
  cloudflare: testZone('mix-cf'),
  rfc2136: testZone('mix-bind'),
  powerdns: testZone('mix-pdns'),
};
const FOREIGN = 'foreign-verification-value';

let bind: AuthDnsServer;
let pdns: PowerDnsServer;
let cf: FakeCloudflare;
let bridge: Route53Dns;
let router: DnsRouter;
const pebble = getStack();
let unroute: (() => Promise<void>) | undefined;
let cfToken: string;

beforeAll(async () => {
  const admin = new Route53Client({});
  const zone = await admin.send(new CreateHostedZoneCommand({ Name: zones.route53, CallerReference: zones.route53 }));
  await admin.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.HostedZone?.Id,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: `_acme-challenge.${zones.route53}`,
              Type: 'TXT',
              TTL: 300,
              ResourceRecords: [{ Value: `"${FOREIGN}"` }],
            },
          },
        ],
      },
    }),
  );
  [bind, pdns, cf, bridge] = await Promise.all([
    startBind({
      keys: [{ name: 'certkeeper', algorithm: 'hmac-sha256' }],
      zones: [{ name: zones.rfc2136, updateKeys: ['certkeeper'], records: [`_acme-challenge IN TXT "${FOREIGN}"`] }],
    }),
    startPowerDns({ zones: [{ name: zones.powerdns, records: [`_acme-challenge IN TXT "${FOREIGN}"`] }] }),
    startFakeCloudflare(),
    startRoute53Dns({ endpoint: aws.moto.endpoint, only: (name) => name === zones.route53 }),
  ]);
  registerKeys(bind);
  registerSecret(pdns.apiKey);
  cf.addZone(zones.cloudflare);
  cf.addRecord(zones.cloudflare, { type: 'TXT', name: `_acme-challenge.${zones.cloudflare}`, content: `"${FOREIGN}"` });
  cfToken = cf.addToken();
  const routes = [
    { zone: zones.route53, address: bridge.address },
    { zone: zones.cloudflare, address: cf.dns.address },
    { zone: zones.rfc2136, address: bind.address },
    { zone: zones.powerdns, address: pdns.address },
  ];
  [router, unroute] = await Promise.all([startDnsRouter(routes), routeZones(routes)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([unroute?.(), router?.stop()]);
  await Promise.all([bind?.stop(), pdns?.stop(), cf?.stop(), bridge?.stop()]);
});

describe('one run over Route 53, Cloudflare, RFC 2136 and PowerDNS certificates', () => {
  it('renews all four, and leaves exactly the foreign value on every challenge name', async () => {
    const dir = await tempDir();
    const propagation = { resolvers: [router.address], timeout: '20s', interval: '100ms' };
    const cert = (id: keyof typeof zones, dns: Record<string, unknown>) => ({
      id,
      domains: [zones[id], `*.${zones[id]}`],
      dns: { ...dns, propagation },
    });
    const raw = localConfig(pebble, dir, [
      cert('route53', { provider: 'route53' }),
      cert('cloudflare', { provider: 'cloudflare', apiToken: '${env:CLOUDFLARE_API_TOKEN}' }),
      cert('rfc2136', {
        provider: 'rfc2136',
        server: bind.address,
        tsig: { name: 'certkeeper', secret: '${env:TSIG_SECRET}' },
      }),
      cert('powerdns', { provider: 'powerdns', url: pdns.apiUrl, apiKey: '${env:PDNS_API_KEY}' }),
    ]);
    const report = await runLocal(
      { ...raw, concurrency: 4 },
      {
        env: {
          ...cf.env(cfToken),
          TSIG_SECRET: bind.key('certkeeper').secret,
          PDNS_API_KEY: pdns.apiKey,
        },
      },
    );
    expect(report.results.map((r) => [r.id, r.status, r.error?.message])).toEqual([
      ['route53', 'renewed', undefined],
      ['cloudflare', 'renewed', undefined],
      ['rfc2136', 'renewed', undefined],
      ['powerdns', 'renewed', undefined],
    ]);
    for (const id of Object.keys(zones) as (keyof typeof zones)[]) {
      const leaf = new X509Certificate(await readFile(join(dir, id, 'cert.pem'), 'utf8'));
      expect(leaf.subjectAltName, id).toContain(`DNS:*.${zones[id]}`);
      expect(await txtValues(router.address, `_acme-challenge.${zones[id]}`), id).toEqual([FOREIGN]);
    }
  });
});
