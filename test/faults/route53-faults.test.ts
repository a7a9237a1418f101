import { getEventListeners, getMaxListeners, setMaxListeners } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, runLocal, tempDir, uniqueZone } from '../support/certkeeper.js';
import { type FaultProxy, type Route53FaultPolicy, route53Faults, startFaultProxy } from '../support/fault-proxy.js';
import { type Route53Dns, startRoute53Dns } from '../support/route53-dns.js';
import { getStack, routeZones } from '../support/stack.js';
import { timeLapse, useEnv } from './helpers.js';

/**
 * Route 53 as it behaves on a busy day, in front of moto: a third of the provider's calls
 * (ChangeResourceRecordSets, ListResourceRecordSets, GetChange, ListHostedZonesByName) answered
 * with Throttling or PriorRequestNotComplete, and every change PENDING for its first GetChange
 * polls. The route53 provider is reached through the real config path: the registry builds it,
 * the default AWS client factory builds its client, and the SDK finds the proxy in
 * AWS_ENDPOINT_URL_ROUTE_53. The shared Pebble validates this file's zones against moto's
 * (route53-dns, routeZones), so a certificate is only issued if its TXT values really reached the zone.
 */

const stack = getStack();
const admin = new Route53Client({
  region: 'us-east-1',
  endpoint: stack.motoEndpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const setEnv = useEnv();
let proxy: FaultProxy;
let dns: Route53Dns;
let unroute: (() => Promise<void>) | undefined;
const zones: { name: string; id: string }[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy(stack.motoEndpoint);
  // The shared moto for everything; Route 53 through the proxy. Set before any client exists.
  setEnv({ ...stack.motoEnv, AWS_ENDPOINT_URL_ROUTE_53: proxy.endpoint });
  for (const tag of ['rfa', 'rfb']) {
    const name = uniqueZone(tag);
    const out = await admin.send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }));
    zones.push({ name, id: out.HostedZone?.Id as string });
  }
  // Only this file's zones: the shared moto holds every other file's zones too, and the bridge
  // reads the zones it serves at each query (slow enough under load for Pebble's lookup to time out).
  dns = await startRoute53Dns({ endpoint: stack.motoEndpoint, only: (name) => zones.some((z) => z.name === name) });
  unroute = await routeZones(zones.map((z) => ({ zone: z.name, address: dns.address })));
}, 60_000);

afterAll(async () => {
  await unroute?.();
  await dns?.stop();
  await proxy?.stop();
});

async function txtSets(zoneId: string) {
  const out = await admin.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (out.ResourceRecordSets ?? []).filter((s) => s.Type === 'TXT');
}

describe('faults: Route 53 throttling, PriorRequestNotComplete and slow INSYNC', () => {
  it('renews 6 apex + wildcard certificates in 2 zones, and leaves no _acme-challenge record', async () => {
    const policy: Route53FaultPolicy = route53Faults({ seed: 0xc3a7, rate: 1 / 3, pendingPolls: 2 });
    proxy.setPolicy(policy);
    const dir = await tempDir('ck-r53f-');
    const certificates = Array.from({ length: 6 }, (_, i) => {
      const zone = zones[i % 2]!.name;
      return { id: `r${i}`, domains: [`c${i}.${zone}`, `*.c${i}.${zone}`] };
    });
    const log = captureLog();
    const report = await runLocal(
      {
        version: 1,
        acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath },
        concurrency: 6,
        defaults: {
          dns: { provider: 'route53', propagation: { resolvers: [dns.address], timeout: '30s', interval: '200ms' } },
          store: { type: 'file', dir },
        },
        certificates,
      },
      // Sleeps 4× shorter: the registry gives the provider no other way to shorten its backoff.
      { log, clock: timeLapse(20) },
    );
    proxy.setPolicy(undefined);

    const problems = report.results.filter((r) => r.status !== 'renewed').map((r) => `${r.id}: ${r.error?.message}`);
    expect(problems, log.lines.slice(-40).join('\n')).toEqual([]);
    expect(report.summary.renewed).toBe(6);

    // The faults really happened, of both kinds, on every operation the provider depends on.
    expect(policy.injected.Throttling).toBeGreaterThan(0);
    expect(policy.injected.PriorRequestNotComplete).toBeGreaterThan(0);
    const faulted = new Set(proxy.log.filter((l) => l.fault).map((l) => l.call.operation));
    expect([...faulted].sort()).toEqual([
      'ChangeResourceRecordSets',
      'GetChange',
      'ListHostedZonesByName',
      'ListResourceRecordSets',
    ]);
    const faults = proxy.log.filter((l) => l.fault).length;
    const routed = proxy.log.filter((l) => l.call.service === 'route53').length;
    expect(faults / routed).toBeGreaterThan(0.15);
    // Every change was PENDING first. Each write that adds values waits for its own change's
    // INSYNC (two polls each), concurrently with the zone's next batches; a cleanup returns once
    // accepted and nobody waits for it. So there are polls, and fewer polled changes than changes.
    expect(policy.pending.changes).toBeGreaterThan(0);
    expect(policy.pending.polls).toBeGreaterThanOrEqual(2);
    expect(policy.pending.polls).toBeLessThanOrEqual(policy.pending.changes * 2);

    // Nothing left in the zones: every _acme-challenge value was removed despite the faults.
    for (const z of zones) expect(await txtSets(z.id)).toEqual([]);
    // No lease left behind either.
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
    for (const r of report.results) {
      expect((await readdir(join(dir, r.id))).sort()).toEqual([
        'cert.pem',
        'chain.pem',
        'fullchain.pem',
        'meta.json',
        'privkey.pem',
      ]);
    }
  }, 60_000);

  it('12 certificates in one zone at concurrency 12 under a run-wide signal: within its listener limit', async () => {
    // Only slow INSYNC: twelve certificates wait on the zone's queue and then on the CA at once,
    // each listening to the run's signal (as the CLI's Ctrl-C handler and the Lambda deadline
    // give it). Node prints "MaxListenersExceededWarning: Possible EventTarget memory leak" when
    // more listeners than getMaxListeners(signal) are added (default 10; vitest's workers do not
    // print it, so the test counts them and compares as Node does).
    proxy.setPolicy(route53Faults({ seed: 7, rate: 0, pendingPolls: 2 }));
    const dir = await tempDir('ck-r53l-');
    const zone = zones[0]!.name;
    const certificates = Array.from({ length: 12 }, (_, i) => ({
      id: `l${i}`,
      domains: [`l${i}.${zone}`, `*.l${i}.${zone}`],
    }));
    const { signal } = new AbortController();
    // What a signal starts with in the CLI's process (vitest's workers start them at 0, unlimited).
    setMaxListeners(10, signal);
    let peak = 0;
    const add = signal.addEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      add(...args);
      peak = Math.max(peak, getEventListeners(signal, 'abort').length);
    }) as typeof add;
    try {
      const report = await runLocal(
        {
          version: 1,
          acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath },
          concurrency: 12,
          defaults: {
            dns: { provider: 'route53', propagation: { resolvers: [dns.address], timeout: '30s', interval: '200ms' } },
            store: { type: 'file', dir },
          },
          certificates,
        },
        // Real time: the waits that listen to the signal (INSYNC, validation polls) overlap as in a fleet.
        { signal },
      );
      const problems = report.results.filter((r) => r.status !== 'renewed').map((r) => `${r.id}: ${r.error?.message}`);
      expect(problems).toEqual([]);
      expect(report.results.map((r) => r.status)).toEqual(certificates.map(() => 'renewed'));
    } finally {
      proxy.setPolicy(undefined);
    }
    // Many at once (more than Node's default of 10), all within the limit, none left behind.
    expect(peak).toBeGreaterThan(10);
    expect(peak).toBeLessThanOrEqual(getMaxListeners(signal));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  }, 60_000);
});
