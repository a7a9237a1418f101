import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChalltestsrvProvider } from '../../../src/adapters/dns/challtestsrv/provider.js';
import { createNodeDnsLookup } from '../../../src/adapters/resolver/node-dns.js';
import { FileStore } from '../../../src/adapters/store/file/store.js';
import { probePropagation } from '../../../src/core/doctor/probe.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DnsProvider } from '../../../src/ports/dns.js';
import { tempDir, txtValues, uniqueZone } from '../../support/certkeeper.js';
import { recordingLogger } from '../../support/logger.js';
import { getStack } from '../../support/stack.js';
import { startZoneDns, type ZoneDns } from '../../support/zone-dns.js';

/**
 * `dns.probe` against challtestsrv: the value is written through the provider, timed until the
 * resolvers see it, and removed in every outcome — when it propagates, when it never does, and
 * when its removal fails (then the lease keeps listing it, so the next run removes it).
 */

const stack = getStack();
let elsewhere: ZoneDns;
beforeAll(async () => {
  // A resolver that never sees what challtestsrv serves.
  elsewhere = await startZoneDns({ zones: () => [] });
});
afterAll(() => elsewhere?.stop());

const deps = { clock: systemClock, logger: recordingLogger(), lookup: createNodeDnsLookup() };
const provider = () => createChalltestsrvProvider({ url: stack.challtestsrvUrl });

async function request(overrides: { provider?: DnsProvider; resolvers?: string[]; timeoutMs?: number } = {}) {
  const dir = await tempDir('ck-doctor-probe-');
  const recordName = `_acme-challenge.${uniqueZone('dpr')}`;
  return {
    dir,
    recordName,
    req: {
      provider: overrides.provider ?? provider(),
      store: new FileStore(dir, 'web', systemClock),
      recordName,
      resolvers: overrides.resolvers ?? [stack.dnsResolver],
      timeoutMs: overrides.timeoutMs ?? 5_000,
      intervalMs: 50,
      owner: 'doctor:test',
      leaseTtlMs: 60_000,
    },
  };
}

describe('dns.probe', () => {
  it('reports how long until every resolver saw it, and removes it and the lease', async () => {
    const { req, recordName, dir } = await request();
    const v = await probePropagation(req, deps);
    expect(v.status).toBe('pass');
    expect(v.message).toMatch(
      /live at challtestsrv after \d+ ms and seen by all 1 resolver\(s\) .* after \d+ ms; removed$/,
    );
    expect(await txtValues(stack.dnsResolver, recordName)).toEqual([]);
    await expect(readFile(join(dir, 'web.lock'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a value no resolver sees within the timeout fails, and is removed all the same', async () => {
    const { req, recordName } = await request({ resolvers: [elsewhere.address], timeoutMs: 300 });
    const v = await probePropagation(req, deps);
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/TXT records not visible after 0 s: .*does not show/);
    expect(await txtValues(stack.dnsResolver, recordName)).toEqual([]);
  });

  it('when removing it fails, it says which value to remove, and the lease still lists it for the next run', async () => {
    const real = provider();
    let refused = 0;
    const failing: DnsProvider = {
      name: real.name,
      present: (r, s) => real.present(r, s),
      // A provider API that fails just then (no server here fails on cue).
      cleanup: async () => {
        refused++;
        throw new Error('challtestsrv: /clear-txt answered HTTP 503');
      },
    };
    const { req, recordName, dir } = await request({ provider: failing });
    const v = await probePropagation(req, deps);
    expect(refused).toBe(1);
    expect(v.status).toBe('fail');
    const [value] = await txtValues(stack.dnsResolver, recordName);
    expect(value).toMatch(/^certkeeper-doctor-[0-9a-f]{24}$/);
    expect(v.message).toContain(`the probe value "${value}" could NOT be removed`);
    expect(v.hint).toContain(`at ${recordName}`);
    const lease = JSON.parse(await readFile(join(dir, 'web.lock'), 'utf8'));
    expect(lease.records).toEqual([{ name: recordName, value }]);
    await real.cleanup([{ name: recordName, value: value as string }]);
  });

  it('a lease held by a run is not taken: nothing is written', async () => {
    const { req, recordName } = await request();
    const held = await req.store.acquireLease('cli:busy:1', 60_000, async () => {});
    expect(held.kind).toBe('acquired');
    const v = await probePropagation(req, deps);
    expect(v.status).toBe('warn');
    expect(v.message).toContain('a run holds the lease');
    expect(await txtValues(stack.dnsResolver, recordName)).toEqual([]);
  });
});
