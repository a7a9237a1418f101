import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/core/certinfo.js';
import type {
  AccountStore,
  AriState,
  CertificateStore,
  FailureState,
  StoredCertificate,
} from '../../src/ports/store.js';
import { tempDir } from '../support/certkeeper.js';
import { registerSecret } from '../support/secrets-guard.js';
import { workerScript } from '../support/stack.js';

/**
 * The store contract for what a store keeps beside the certificate (PRODUCT §3): the renewal
 * state (failure backoff and the ARI window) and, in the account store, the order budget. Every
 * store kind runs it. `worker` describes how a separate process reaches the same store, for the
 * budget's cross-process test.
 */
export interface StoreStateHarness {
  /** A store for a certificate id of its own. */
  store(id: string): Promise<CertificateStore>;
  /** An account store whose clock the test moves (`advance`). */
  accounts(): Promise<AccountStore>;
  advance(ms: number): void;
  now(): Date;
  worker: { store: 'file'; dir: string } | { store: 'aws-secrets-manager' };
}

const failures = (over: Partial<FailureState> = {}): FailureState => ({
  count: 2,
  lastClass: 'dns-propagation',
  lastMessage: 'dns: _acme-challenge.example.com not visible at 127.0.0.1:53 after 120 s',
  lastAttempt: '2026-06-01T10:00:00.000Z',
  nextAttempt: '2026-06-01T10:10:00.000Z',
  ...over,
});

const ari = (over: Partial<AriState> = {}): AriState => ({
  certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
  start: '2026-06-20T00:00:00.000Z',
  end: '2026-06-22T00:00:00.000Z',
  selected: '2026-06-21T07:13:00.000Z',
  explanationURL: 'https://community.example/t/incident?id=42&lang=en#top',
  nextFetch: '2026-06-01T16:00:00.000Z',
  ...over,
});

/** A certificate without a subject (as tlsserver and shortlived issue them), with its key. */
export async function cnLessCertificate(id: string, domains: string[]): Promise<StoredCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const ca = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '7a01',
    subject: '',
    issuer: 'CN=Test CA',
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 160 * 3_600_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        domains.map((value) => ({ type: 'dns' as const, value })),
        true,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
    ],
  });
  const pem = `${leaf.toString('pem')}\n`;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const privateKey = `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`;
  registerSecret(privateKey);
  const info = parseCertificate(pem);
  return {
    format: 'certkeeper/v1',
    id,
    domains,
    certificate: pem,
    chain: '',
    fullchain: pem,
    privateKey,
    keyType: 'ec-p256',
    serialNumber: info.serialNumber,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    issuer: info.issuer,
    issuedAt: new Date(now).toISOString(),
    issuedBy: { via: 'cli', runId: 'test:1' },
  };
}

let counter = 0;
const uniqueId = (tag: string) => `${tag}-${process.pid}-${++counter}`;
const uniqueDirectory = () => `https://acme-${process.pid}-${++counter}.example/directory`;

/** Starts a worker; `ready` resolves once it waits at the gate, `done` with what it was granted. */
function runWorker(args: Record<string, unknown>): { ready: Promise<void>; done: Promise<number[]> } {
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const done = new Promise<number[]>((resolve, reject) => {
    const child = spawn(process.execPath, [workerScript('reserve-worker'), JSON.stringify(args)], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
      if (code !== 0) return reject(new Error(`reserve-worker exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve((JSON.parse(out.trim().split('\n').pop() ?? '') as { granted: number[] }).granted);
      } catch (error) {
        reject(new Error(`reserve-worker printed no result: ${out.slice(-500)} ${err.slice(-1500)}`, { cause: error }));
      }
    });
  });
  return { ready, done };
}

export function renewalStateContract(kind: string, harness: () => StoreStateHarness): void {
  describe(`${kind}: renewal state (store contract)`, () => {
    it('reads {} when nothing is kept, for a certificate that is not stored either', async () => {
      const store = await harness().store(uniqueId('empty'));
      expect(await store.readState()).toEqual({});
    });

    it('round-trips each part, and a write of one part keeps the other', async () => {
      const store = await harness().store(uniqueId('rt'));
      await store.writeState({ failures: failures() });
      expect(await store.readState()).toEqual({ failures: failures() });
      await store.writeState({ ari: ari() });
      expect(await store.readState()).toEqual({ failures: failures(), ari: ari() });
      await store.writeState({ failures: failures({ count: 3, lastClass: 'acme-rate-limited' }) });
      expect(await store.readState()).toEqual({
        failures: failures({ count: 3, lastClass: 'acme-rate-limited' }),
        ari: ari(),
      });
    });

    it('null removes a part and leaves the other', async () => {
      const store = await harness().store(uniqueId('rm'));
      await store.writeState({ failures: failures(), ari: ari() });
      await store.writeState({ failures: null });
      expect(await store.readState()).toEqual({ ari: ari() });
      await store.writeState({ ari: null });
      expect(await store.readState()).toEqual({});
    });

    it('concurrent writes of the two parts both land', async () => {
      const store = await harness().store(uniqueId('both'));
      // The parts race on an existing record: moto's CreateSecret checks and inserts without a lock, so
      // two creating at once can both "succeed" there (AWS's is atomic on the name); the first write
      // (an empty part) creates what a store needs.
      await store.writeState({ ari: null });
      expect(await store.readState()).toEqual({});
      for (let i = 1; i <= 3; i++) {
        await Promise.all([
          store.writeState({ failures: failures({ count: i }) }),
          store.writeState({ ari: ari({ selected: `2026-06-2${i}T00:00:00.000Z` }) }),
        ]);
        expect(await store.readState()).toEqual({
          failures: failures({ count: i }),
          ari: ari({ selected: `2026-06-2${i}T00:00:00.000Z` }),
        });
      }
    });

    it('keeps an ARI state without explanationURL, and a long message readable', async () => {
      const store = await harness().store(uniqueId('msg'));
      const { explanationURL: _, ...plain } = ari();
      const message = `acme: validation of a.example.com: "incorrect TXT" (got [x, y]; want z) ${'x'.repeat(400)}`;
      await store.writeState({ ari: plain, failures: failures({ lastMessage: message }) });
      const state = await store.readState();
      expect(state.ari).toEqual(plain);
      // A store may shorten the message (tags hold 255 characters) but keeps its words.
      expect(state.failures?.lastMessage).toMatch(/^acme: validation of a\.example\.com/);
      expect(state.failures?.lastMessage).toContain('incorrect TXT');
      expect({ ...state.failures, lastMessage: '' }).toEqual({ ...failures(), lastMessage: '' });
    });

    it('state kept before the first certificate leaves the certificate missing; a later write finds both', async () => {
      const id = uniqueId('first');
      const store = await harness().store(id);
      await store.writeState({ failures: failures({ count: 1 }) });
      expect(await store.read()).toEqual({ kind: 'missing' });
      const cert = await cnLessCertificate(id, [`${id}.example.com`]);
      await store.write(cert);
      const read = await store.read();
      expect(read.kind).toBe('found');
      expect(await store.readState()).toEqual({ failures: failures({ count: 1 }) });
    });

    it('stores and reads back a certificate without a subject CN', async () => {
      const id = uniqueId('nocn');
      const store = await harness().store(id);
      const cert = await cnLessCertificate(id, [`${id}.example.com`, `*.${id}.example.com`]);
      expect(cert.issuer).toBe('CN=Test CA');
      await store.write(cert);
      const read = await store.read();
      if (read.kind !== 'found') throw new Error(`expected the certificate, got ${read.kind}`);
      expect(read.certificate.certificate).toBe(cert.certificate);
      const info = parseCertificate(read.certificate.certificate);
      expect(info.subject).toBe('');
      expect(info.dnsNames).toEqual(cert.domains);
    });
  });

  describe(`${kind}: order budget (store contract)`, () => {
    const budget = { orders: 5, perMs: 3 * 3_600_000 };

    it('grants up to the budget, refuses past it with the time it frees, and frees as the window slides', async () => {
      const h = harness();
      const accounts = await h.accounts();
      const url = uniqueDirectory();
      const a = await accounts.reserveOrders(url, 3, budget, 'run-a');
      expect(a).toMatchObject({ granted: 3, used: 3 });
      expect(a.id).toBeTruthy();
      const startedAt = h.now();
      h.advance(60_000);
      expect(await accounts.reserveOrders(url, 5, budget, 'run-b')).toMatchObject({ granted: 2, used: 5 });
      const full = await accounts.reserveOrders(url, 1, budget, 'run-c');
      expect(full).toEqual({
        granted: 0,
        used: 5,
        freesAt: new Date(startedAt.getTime() + budget.perMs).toISOString(),
      });
      h.advance(budget.perMs - 60_000 + 1);
      // The first three left the window; the two of run-b are still in it.
      expect(await accounts.reserveOrders(url, 5, budget, 'run-d')).toMatchObject({ granted: 3, used: 5 });
    });

    it('gives back what a reservation did not use', async () => {
      const h = harness();
      const accounts = await h.accounts();
      const url = uniqueDirectory();
      const r = await accounts.reserveOrders(url, 5, budget, 'run-a');
      expect(r.granted).toBe(5);
      await accounts.releaseOrders(url, r.id as string, 2);
      expect(await accounts.reserveOrders(url, 5, budget, 'run-b')).toMatchObject({ granted: 2, used: 5 });
      // Releasing an unknown reservation (expired, or never granted) changes nothing.
      await accounts.releaseOrders(url, 'nobody:0', 3);
      expect(await accounts.reserveOrders(url, 1, budget, 'run-c')).toMatchObject({ granted: 0 });
    });

    it('reads what the window holds without reserving; a partial grant says when orders free up', async () => {
      const h = harness();
      const accounts = await h.accounts();
      const url = uniqueDirectory();
      expect(await accounts.ordersInWindow(url, budget)).toEqual({ used: 0 });
      const startedAt = h.now();
      const partial = await accounts.reserveOrders(url, 7, budget, 'run-a');
      expect(partial).toMatchObject({
        granted: 5,
        used: 5,
        freesAt: new Date(startedAt.getTime() + budget.perMs).toISOString(),
      });
      h.advance(1000);
      const usage = await accounts.ordersInWindow(url, budget);
      expect(usage).toEqual({ used: 5, freesAt: new Date(startedAt.getTime() + budget.perMs).toISOString() });
      // Reading took nothing: the full budget is still used by run-a alone, and frees as before.
      expect(await accounts.ordersInWindow(url, budget)).toEqual(usage);
      h.advance(budget.perMs);
      expect(await accounts.ordersInWindow(url, budget)).toEqual({ used: 0 });
    });

    it('is one budget per directory URL', async () => {
      const h = harness();
      const accounts = await h.accounts();
      const [one, two] = [uniqueDirectory(), uniqueDirectory()];
      expect((await accounts.reserveOrders(one, 5, budget, 'r')).granted).toBe(5);
      expect((await accounts.reserveOrders(two, 5, budget, 'r')).granted).toBe(5);
    });

    it('two processes reserving at once never get more than the budget together', async () => {
      const h = harness();
      const gate = join(await tempDir('ck-gate-'), 'go');
      const directoryUrl = uniqueDirectory();
      const shared = { ...h.worker, directoryUrl, budget: { orders: 23, perMs: 3_600_000 }, gate };
      const workers = [
        runWorker({ ...shared, want: 1, rounds: 20, owner: 'proc-a' }),
        runWorker({ ...shared, want: 2, rounds: 10, owner: 'proc-b' }),
      ];
      // Both are up (tsx and the SDK loaded) and waiting before either reserves.
      await Promise.all(workers.map((w) => w.ready));
      await writeFile(gate, 'go');
      const [a, b] = await Promise.all(workers.map((w) => w.done));
      // Both drew on the budget: they did overlap.
      expect(a?.some((n) => n > 0) && b?.some((n) => n > 0)).toBe(true);
      const total = [...(a as number[]), ...(b as number[])].reduce((x, y) => x + y, 0);
      // 40 asked for, 23 in the budget: exactly 23 granted, and the ledger agrees.
      expect(total).toBe(23);
      const accounts = await h.accounts();
      expect(await accounts.reserveOrders(directoryUrl, 1, shared.budget, 'check')).toMatchObject({
        granted: 0,
        used: 23,
      });
    }, 60_000);
  });
}
