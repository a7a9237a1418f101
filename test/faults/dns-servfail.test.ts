import { createSocket, type Socket } from 'node:dgram';
import { readdir } from 'node:fs/promises';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemToError } from '../../src/core/acme.js';
import { toErrorInfo } from '../../src/ports/errors.js';
import { captureLog, localConfig, runLocal, tempDir, txtValues, uniqueZone } from '../support/certkeeper.js';
import { getStack, routeZones } from '../support/stack.js';

/**
 * The CA's DNS answers SERVFAIL for one certificate's challenge names. The shared Pebble resolves
 * this file's zones (routeZones) through a tiny UDP DNS server of ours: SERVFAIL for TXT
 * `_acme-challenge.*` under the failing zone, everything else forwarded to the stack's challtestsrv. certkeeper's own
 * propagation check asks challtestsrv directly and sees the records, so only the CA's validation
 * fails — as with a broken delegation or a DNSSEC failure at the CA's resolver.
 */

interface ServfailDns {
  address: string;
  /** Names answered with SERVFAIL. */
  readonly servfails: string[];
  forwarded: number;
  stop(): Promise<void>;
}

/** `upstream()` is read at each query: the Pebble stack's challtestsrv is only known once it is up. */
async function startServfailDns(upstream: () => string, fails: (name: string) => boolean): Promise<ServfailDns> {
  const server = createSocket('udp4');
  const servfails: string[] = [];
  const state = { forwarded: 0 };
  const pending = new Set<Socket>();
  server.on('message', (msg, rinfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    const name = (q?.name ?? '').replace(/\.$/, '').toLowerCase();
    if (q && q.type === 'TXT' && name.startsWith('_acme-challenge.') && fails(name)) {
      servfails.push(name);
      const answer = dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2 /* SERVFAIL */,
        questions: query.questions ?? [],
      });
      server.send(answer, rinfo.port, rinfo.address);
      return;
    }
    // Forward as is; relay the answer (one socket per query: ids of different clients may clash).
    state.forwarded++;
    const up = createSocket('udp4');
    pending.add(up);
    const done = () => {
      clearTimeout(timer);
      pending.delete(up);
      up.close();
    };
    const timer = setTimeout(done, 3000);
    up.on('message', (answer) => {
      server.send(answer, rinfo.port, rinfo.address);
      done();
    });
    up.on('error', done);
    const to = upstream();
    up.send(msg, Number(to.slice(to.lastIndexOf(':') + 1)), to.slice(0, to.lastIndexOf(':')));
  });
  await new Promise<void>((ok) => server.bind(0, '127.0.0.1', () => ok()));
  return {
    address: `127.0.0.1:${server.address().port}`,
    servfails,
    get forwarded() {
      return state.forwarded;
    },
    stop: async () => {
      for (const s of pending) s.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

const bad = uniqueZone('sfbad');
const good1 = uniqueZone('sfok');
const good2 = uniqueZone('sfok');
const pebble = getStack();
let dns: ServfailDns;
let unroute: (() => Promise<void>) | undefined;

beforeAll(async () => {
  dns = await startServfailDns(
    () => pebble.dnsResolver,
    (name) => name.endsWith(`.${bad}`),
  );
  unroute = await routeZones([bad, good1, good2].map((zone) => ({ zone, address: dns.address })));
}, 60_000);

afterAll(async () => {
  await unroute?.();
  await dns?.stop();
});

describe('faults: the CA gets SERVFAIL for the challenge records', () => {
  it('a failed lookup at the CA is a DNS problem, whatever problem type the CA gives it', () => {
    const cls = (type: string, detail: string) =>
      toErrorInfo(problemToError({ type: `urn:ietf:params:acme:error:${type}`, detail }, 403, undefined, 'x')).class;
    // Pebble 2.4: `unauthorized`; Let's Encrypt (Boulder): `dns`.
    const pebble = `Error retrieving TXT records for DNS challenge ("DNS lookup for \\"_acme-challenge.a.example\\" returned an unsuccessful response: '\\x02'")`;
    expect(cls('unauthorized', pebble)).toBe('dns-propagation');
    expect(cls('dns', 'DNS problem: SERVFAIL looking up TXT for _acme-challenge.a.example')).toBe('dns-propagation');
    expect(cls('unauthorized', 'DNS problem: query timed out looking up TXT')).toBe('dns-propagation');
    // A record that was found but held another value stays a rejection.
    expect(cls('unauthorized', 'Correct value not found for DNS challenge')).toBe('acme-rejected');
    expect(cls('incorrectResponse', 'Incorrect TXT record "x" found at _acme-challenge.a.example')).toBe(
      'acme-rejected',
    );
  });

  it('fails that certificate with a classified error, removes its TXT values, and renews the others', async () => {
    const dir = await tempDir('ck-servfail-');
    const log = captureLog();
    const report = await runLocal(
      localConfig(pebble, dir, [
        { id: 'good-1', domains: [good1, `*.${good1}`] },
        { id: 'bad', domains: [bad, `*.${bad}`] },
        { id: 'good-2', domains: [good2] },
      ]),
      { log },
    );
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    const text = log.lines.join('\n');

    expect(byId['good-1']?.status, text).toBe('renewed');
    expect(byId['good-2']?.status, text).toBe('renewed');

    const failed = byId.bad;
    expect(failed?.status).toBe('failed');
    // The CA's `dns` problem: the CA could not resolve the record, although we saw it propagated.
    expect(failed?.error?.class).toBe('dns-propagation');
    expect(failed?.error?.message).toMatch(new RegExp(`^acme: validation of (\\*\\.)?${bad.replace(/\./g, '\\.')}: `));
    expect(failed?.error?.message).toMatch(/Error retrieving TXT records .*unsuccessful response/);
    expect(failed?.error?.hint).toMatch(/the CA could not resolve the challenge record/);
    expect(dns.servfails.length).toBeGreaterThan(0);
    expect(new Set(dns.servfails)).toEqual(new Set([`_acme-challenge.${bad}`]));
    expect(dns.forwarded).toBeGreaterThan(0);

    // Cleanup: the failed certificate's values are gone from DNS, and so are the others'.
    for (const zone of [bad, good1, good2]) {
      expect(await txtValues(pebble.dnsResolver, `_acme-challenge.${zone}`)).toEqual([]);
    }
    expect(text).toMatch(/removed TXT values/);
    // Nothing stored for it, and no lease left.
    const entries = await readdir(dir);
    expect(entries).not.toContain('bad');
    expect(entries.filter((e) => e.endsWith('.lock'))).toEqual([]);
  }, 30_000);
});
