import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileAccountStore } from '../../../../src/adapters/store/file/account.js';
import { FileStore } from '../../../../src/adapters/store/file/store.js';
import { renewalStateContract } from '../../../contract/store-state.js';
import { tempDir } from '../../../support/certkeeper.js';
import { fakeClock } from '../../../support/clock.js';

const dir = await tempDir('ck-file-state-');

renewalStateContract('file', () => {
  const clock = fakeClock(Date.now());
  return {
    store: async (id) => new FileStore(dir, id, clock),
    accounts: async () => new FileAccountStore(dir, clock),
    advance: (ms) => clock.advance(ms),
    now: () => clock.now(),
    worker: { store: 'file', dir },
  };
});

describe('file store: where the state lives', () => {
  it('beside the lease, one file per part; a broken file loses only its part', async () => {
    const d = await tempDir();
    const clock = fakeClock(Date.now());
    const store = new FileStore(d, 'site', clock);
    await store.writeState({
      failures: {
        count: 1,
        lastClass: 'network',
        lastMessage: 'x',
        lastAttempt: '2026-06-01T00:00:00.000Z',
        nextAttempt: '2026-06-01T00:01:00.000Z',
      },
      ari: {
        certId: 'a.b',
        start: '2026-06-01T00:00:00.000Z',
        end: '2026-06-02T00:00:00.000Z',
        selected: '2026-06-01T12:00:00.000Z',
        nextFetch: '2026-06-01T06:00:00.000Z',
      },
    });
    expect((await readdir(d)).sort()).toEqual(['site.ari.json', 'site.failures.json']);
    expect(JSON.parse(await readFile(join(d, 'site.failures.json'), 'utf8'))).toMatchObject({ count: 1 });
    await writeFile(join(d, 'site.ari.json'), '{"certId": ');
    expect(Object.keys(await store.readState())).toEqual(['failures']);
  });

  it('the order ledger is a numbered version per change, old ones pruned only after minutes', async () => {
    const d = await tempDir();
    const accounts = new FileAccountStore(d, fakeClock(Date.now()));
    const url = 'https://127.0.0.1:14000/dir';
    for (let i = 0; i < 7; i++) await accounts.reserveOrders(url, 1, { orders: 100, perMs: 3_600_000 }, 'r');
    const versions = (await readdir(join(d, '_account', '127.0.0.1_14000.orders'))).sort();
    // Seven versions, none older than ten minutes yet: all kept, so no number can come free again.
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `${String(n).padStart(12, '0')}.json`));
    const latest = JSON.parse(await readFile(join(d, '_account', '127.0.0.1_14000.orders', versions.at(-1)!), 'utf8'));
    expect(latest.reservations).toHaveLength(7);
  });
});
