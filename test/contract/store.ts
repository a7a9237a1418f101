import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CertificateStore, LeaseState, StoredCertificate } from '../../src/ports/store.js';
import type { FakeClock } from '../support/clock.js';
import { makeCertificate } from '../support/fixtures.js';
import { workerScript } from '../support/stack.js';

/**
 * The contract every CertificateStore passes (STYLE §12; src/ports/store.ts). A new store is
 * "done" when it passes this, like a DNS provider passes test/contract/dns-provider.ts:
 * - read-your-write: a written version reads back whole;
 * - atomic write: a reader racing writers never sees one version's certificate with another's key;
 * - idempotent retry: writing the same version again changes nothing;
 * - lease exclusivity, within a process and across processes;
 * - an expired lease is broken only after its recorded TXT records are removed (a failing cleanup
 *   keeps it, for the next run to try again);
 * - a garbage lock (half-written, another tool's file, a killed run's leftovers) is handled.
 */

export interface StoreHarness {
  /** A store for certificate `id` on this harness's clock. */
  store(id: string): Promise<CertificateStore>;
  clock: FakeClock;
  /** Puts an unreadable lock where the store keeps the lease of `id`. */
  corruptLock(id: string): Promise<void>;
  /** What lease-worker.ts needs to open the same store in another process. */
  worker: Record<string, unknown>;
}

let seq = 0;
const uniqueId = (tag: string) => `${tag}-${process.pid}-${++seq}-${randomBytes(2).toString('hex')}`;

function matches(record: StoredCertificate): boolean {
  return new X509Certificate(record.certificate).checkPrivateKey(createPrivateKey(record.privateKey));
}

/** Starts a process that tries to take the lease of `id` once the gate file exists; resolves with its outcome. */
function leaseWorker(worker: Record<string, unknown>, id: string, owner: string, gate: string) {
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const done = new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [workerScript('lease-worker'), JSON.stringify({ ...worker, id, owner, gate })],
      { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) onReady();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      onReady();
      if (code !== 0) return reject(new Error(`lease-worker exited ${code}: ${err.slice(-2000)}`));
      resolve(out.trim().split('\n').pop() ?? '');
    });
  });
  return { ready, done };
}

export function storeContract(kind: string, harness: () => StoreHarness): void {
  describe(`CertificateStore contract: ${kind}`, () => {
    it('reads back what it wrote, whole, with the version the write returned', async () => {
      const h = harness();
      const id = uniqueId('ryw');
      const store = await h.store(id);
      expect(await store.read()).toEqual({ kind: 'missing' });
      const record = await makeCertificate(id, [`${id}.example.com`]);
      const written = await store.write(record);
      const read = await store.read();
      expect(read.kind).toBe('found');
      if (read.kind !== 'found') return;
      expect(read.certificate).toEqual(record);
      expect(read.version).toBe(written.version);
    });

    it('writing the same version again is idempotent: same version, nothing new', async () => {
      const h = harness();
      const id = uniqueId('idem');
      const store = await h.store(id);
      const record = await makeCertificate(id, [`${id}.example.com`]);
      const first = await store.write(record);
      const again = await store.write(record);
      expect(again.version).toBe(first.version);
      const read = await store.read();
      expect(read.kind === 'found' && read.certificate.serialNumber).toBe(record.serialNumber);
    });

    it('is atomic: readers racing new versions always see a certificate with its own key', async () => {
      const h = harness();
      const id = uniqueId('atomic');
      const store = await h.store(id);
      const versions = await Promise.all([1, 2, 3].map(() => makeCertificate(id, [`${id}.example.com`])));
      await store.write(versions[0] as StoredCertificate);
      let writing = true;
      const seen = new Set<string>();
      const reader = (async () => {
        let reads = 0;
        while (writing || reads < 3) {
          const r = await store.read();
          reads++;
          expect(r.kind).toBe('found');
          if (r.kind === 'found') {
            expect(matches(r.certificate)).toBe(true);
            seen.add(r.certificate.serialNumber);
          }
        }
      })();
      for (const v of versions.slice(1)) await store.write(v);
      writing = false;
      await reader;
      const last = await store.read();
      expect(last.kind === 'found' && last.certificate.serialNumber).toBe(versions[2]?.serialNumber);
      expect(seen.size).toBeGreaterThanOrEqual(1);
    });

    it('gives the lease to one holder at a time; the other sees it locked, with its holder', async () => {
      const h = harness();
      const id = uniqueId('lease');
      const [a, b] = [await h.store(id), await h.store(id)];
      const first = await a.acquireLease('run-a', 60_000, async () => {});
      const second = await b.acquireLease('run-b', 60_000, async () => {});
      expect(first.kind).toBe('acquired');
      expect(second).toMatchObject({ kind: 'locked', holder: { owner: 'run-a' } });
      if (first.kind !== 'acquired') return;
      await first.lease.release();
      const third = await b.acquireLease('run-b', 60_000, async () => {});
      expect(third.kind).toBe('acquired');
      if (third.kind === 'acquired') await third.lease.release();
    });

    it('gives the lease to exactly one of several processes trying at once', async () => {
      const h = harness();
      const id = uniqueId('procs');
      const dir = await mkdtemp(join(tmpdir(), 'ck-lease-gate-'));
      const gate = join(dir, 'go');
      try {
        const workers = ['p1', 'p2', 'p3'].map((owner) => leaseWorker(h.worker, id, owner, gate));
        await Promise.all(workers.map((w) => w.ready));
        await writeFile(gate, 'go');
        const outcomes = await Promise.all(workers.map((w) => w.done));
        expect(outcomes.filter((o) => o === 'acquired')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'locked')).toHaveLength(2);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('breaks an expired lease only after the records it lists are removed', async () => {
      const h = harness();
      const id = uniqueId('expired');
      const store = await h.store(id);
      const dead = await store.acquireLease('run-dead', 1_000, async () => {});
      if (dead.kind !== 'acquired') throw new Error('expected the lease');
      const records = [{ name: `_acme-challenge.${id}.example.com`, value: 'left-behind' }];
      await dead.lease.update(records, 1_000);
      h.clock.advance(5_000);

      // The cleanup fails: the lease is not taken, and still lists the records for the next run.
      const seenByFailing: LeaseState[] = [];
      await expect(
        store.acquireLease('run-2', 60_000, async (stale) => {
          seenByFailing.push(stale);
          throw new Error('dns: cleanup failed');
        }),
      ).rejects.toThrow(/cleanup failed/);
      expect(seenByFailing.map((s) => s.records)).toEqual([records]);

      const seen: LeaseState[] = [];
      const taken = await store.acquireLease('run-3', 60_000, async (stale) => {
        seen.push(stale);
      });
      expect(seen).toMatchObject([{ owner: 'run-dead', records }]);
      expect(taken.kind === 'acquired' && taken.lease.state.owner).toBe('run-3');
      expect(taken).toMatchObject({ kind: 'acquired', broken: { owner: 'run-dead' } });
      if (taken.kind === 'acquired') await taken.lease.release();
    });

    it('handles a garbage lock: treated as expired, broken with nothing to clean, then taken', async () => {
      const h = harness();
      const id = uniqueId('garbage');
      const store = await h.store(id);
      await h.corruptLock(id);
      const stale: LeaseState[] = [];
      const taken = await store.acquireLease('run-1', 60_000, async (s) => {
        stale.push(s);
      });
      expect(taken.kind).toBe('acquired');
      expect(stale).toHaveLength(1);
      expect(stale[0]?.records).toEqual([]);
      if (taken.kind === 'acquired') await taken.lease.release();
      expect((await store.acquireLease('run-2', 60_000, async () => {})).kind).toBe('acquired');
    });
  });
}
