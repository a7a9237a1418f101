import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { type Clock, systemClock } from '../../../ports/clock.js';
import type { TxtRecord } from '../../../ports/dns.js';
import { StoreError } from '../../../ports/errors.js';
import {
  type AccountStore,
  type AcmeAccount,
  type AcquireResult,
  accountName,
  type BreakLease,
  type CertificateStore,
  type Lease,
  type LeaseState,
  type OrderBudget,
  type OrderReservation,
  type ReadResult,
  type RenewalState,
  type RenewalStatePatch,
  type StoredCertificate,
  type WriteResult,
} from '../../../ports/store.js';
import { FileOrderLedger } from './orders.js';
import { FileRenewalState } from './state.js';

/**
 * The file store (PRODUCT §2), the embedded default.
 *
 * `<dir>/<id>` is a symlink to `<dir>/.versions/<id>/<version>/` holding cert.pem, chain.pem,
 * fullchain.pem, privkey.pem (0600) and meta.json. A new version is written in full into a fresh
 * directory, then the symlink is swapped with one rename(2): a reader sees the old set or the new
 * set, never a mix (a plain per-file rename could pair a new cert with an old key). The previous
 * versions stay for rollback (certbot's archive/live layout does the same); the oldest are pruned.
 */

const KEEP_VERSIONS = 3;

/** Writes a new file (O_EXCL, 0600) and flushes it; for files that are then linked into place. */
async function writeFileAtomicNoRename(path: string, data: string): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

export class FileStore implements CertificateStore {
  readonly type = 'file';
  readonly ref: string;
  private readonly live: string;
  private readonly versions: string;
  private readonly lockPath: string;
  private readonly state: FileRenewalState;

  constructor(
    readonly dir: string,
    readonly id: string,
    private readonly clock: Clock,
  ) {
    this.live = join(dir, id);
    this.versions = join(dir, '.versions', id);
    this.lockPath = join(dir, `${id}.lock`);
    this.ref = this.live;
    this.state = new FileRenewalState(dir, id);
  }

  readState(): Promise<RenewalState> {
    return this.state.read();
  }

  writeState(patch: RenewalStatePatch): Promise<void> {
    return this.state.write(patch);
  }

  async read(): Promise<ReadResult> {
    // Resolve the live link once and read every file from that one version directory: reading
    // through the link file by file could pair a certificate with the next version's key.
    for (let attempt = 0; ; attempt++) {
      let versionDir: string;
      try {
        const st = await lstat(this.live);
        versionDir = st.isSymbolicLink() ? resolve(dirname(this.live), await readlink(this.live)) : this.live;
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR')) return { kind: 'missing' };
        return { kind: 'unreadable', reason: `cannot read ${this.live} (${(error as NodeJS.ErrnoException).code})` };
      }
      const result = await this.readVersion(versionDir);
      // A version pruned between readlink and the reads: the link has moved on, read again.
      if (result === 'gone' && attempt < 3) continue;
      return result === 'gone' ? { kind: 'missing' } : result;
    }
  }

  private async readVersion(dir: string): Promise<ReadResult | 'gone'> {
    let meta: string;
    try {
      meta = await readFile(join(dir, 'meta.json'), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return 'gone';
      return { kind: 'unreadable', reason: `cannot read meta.json (${(error as NodeJS.ErrnoException).code})` };
    }
    try {
      const parsed = JSON.parse(meta) as Partial<StoredCertificate>;
      if (parsed.format !== 'certkeeper/v1')
        return { kind: 'unreadable', reason: `unknown format ${String(parsed.format)}` };
      const [certificate, chain, fullchain, privateKey] = await Promise.all(
        ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map((f) => readFile(join(dir, f), 'utf8')),
      );
      return {
        kind: 'found',
        certificate: {
          ...(parsed as StoredCertificate),
          certificate: certificate!,
          chain: chain!,
          fullchain: fullchain!,
          privateKey: privateKey!,
        },
        version: parsed.serialNumber as string,
      };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return 'gone';
      return { kind: 'unreadable', reason: `broken store entry: ${(error as Error).message.split('\n')[0]}` };
    }
  }

  async write(cert: StoredCertificate): Promise<WriteResult> {
    try {
      const version = `${cert.issuedAt.replace(/[:.]/g, '-')}-${cert.serialNumber.slice(0, 16)}`;
      const target = join(this.versions, version);
      const staging = `${target}.tmp-${randomBytes(6).toString('hex')}`;
      await mkdir(staging, { recursive: true, mode: 0o700 });
      const { certificate, chain, fullchain, privateKey, ...meta } = cert;
      await Promise.all([
        writeFileAtomic(join(staging, 'cert.pem'), certificate, 0o644),
        writeFileAtomic(join(staging, 'chain.pem'), chain, 0o644),
        writeFileAtomic(join(staging, 'fullchain.pem'), fullchain, 0o644),
        writeFileAtomic(join(staging, 'privkey.pem'), privateKey, 0o600),
        writeFileAtomic(join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, 0o644),
      ]);
      try {
        await rename(staging, target);
      } catch (error) {
        // A retried write of the same version: it is complete already (renamed in whole).
        if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
        await rm(staging, { recursive: true, force: true });
      }
      await this.swapLive(target);
      await this.prune();
      return { ref: this.live, version };
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`file: cannot write ${this.live}: ${(error as Error).message}`, { cause: error });
    }
  }

  private async swapLive(target: string): Promise<void> {
    await mkdir(dirname(this.live), { recursive: true });
    try {
      const st = await lstat(this.live);
      if (!st.isSymbolicLink()) {
        // A real directory here (made by hand or another tool): keep it as a version, then link.
        await rename(this.live, join(this.versions, `legacy-${Date.now()}`));
      }
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    const tmpLink = join(dirname(this.live), `.${this.id}.link-${randomBytes(6).toString('hex')}`);
    await symlink(relative(dirname(this.live), target), tmpLink);
    await rename(tmpLink, this.live);
  }

  private async prune(): Promise<void> {
    const current = await readlink(this.live).catch(() => '');
    const names = (await readdir(this.versions).catch(() => [] as string[])).filter((n) => !n.includes('.tmp-')).sort();
    const old = names.slice(0, Math.max(0, names.length - KEEP_VERSIONS));
    for (const name of old) {
      if (current.endsWith(name)) continue;
      await rm(join(this.versions, name), { recursive: true, force: true });
    }
  }

  async acquireLease(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> {
    await mkdir(this.dir, { recursive: true });
    const state = (): LeaseState => ({
      owner,
      expiresAt: new Date(this.clock.now().getTime() + ttlMs).toISOString(),
      records: [],
    });
    const first = state();
    if (await this.createLock(first)) return { kind: 'acquired', lease: this.lease(first) };

    const holder = await this.readLock();
    if (holder && new Date(holder.expiresAt).getTime() > this.clock.now().getTime()) return { kind: 'locked', holder };
    // Expired (or unreadable, e.g. a half-written lock from a killed run): clean up after it, then take over.
    const stale: LeaseState = holder ?? { owner: 'unknown', expiresAt: new Date(0).toISOString(), records: [] };
    await onBreak(stale);
    // Move it aside rather than unlink: of two runs breaking at once, only one rename succeeds.
    const aside = `${this.lockPath}.broken-${randomBytes(6).toString('hex')}`;
    try {
      await rename(this.lockPath, aside);
      const moved = await readFile(aside, 'utf8').catch(() => '');
      if (holder && moved && moved !== JSON.stringify(holder)) {
        // We moved a lease someone took after our read: put it back (link fails if a new one exists).
        await link(aside, this.lockPath).catch(() => {});
        await unlink(aside).catch(() => {});
        const now = await this.readLock();
        return { kind: 'locked', holder: now ?? JSON.parse(moved) };
      }
      await unlink(aside).catch(() => {});
    } catch (error) {
      if (!isErrno(error, 'ENOENT'))
        throw new StoreError(`file: cannot break lease ${this.lockPath}`, { cause: error });
    }
    const second = state();
    if (await this.createLock(second)) return { kind: 'acquired', lease: this.lease(second), broken: stale };
    const winner = await this.readLock();
    return { kind: 'locked', holder: winner ?? stale };
  }

  private async createLock(state: LeaseState): Promise<boolean> {
    // Written in full to a file of our own (O_EXCL), then hard-linked to the lock name: link(2)
    // fails if the name exists, so exactly one creator wins, and the lock never exists half
    // written. (Creating the lock itself with O_EXCL and writing into it afterwards let a
    // competitor read an empty lock, take it for garbage and break it.)
    const tmp = `${this.lockPath}.new-${randomBytes(6).toString('hex')}`;
    try {
      await writeFileAtomicNoRename(tmp, JSON.stringify(state));
      await link(tmp, this.lockPath);
      return true;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      throw new StoreError(`file: cannot create lease ${this.lockPath}: ${(error as Error).message}`, { cause: error });
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  private async readLock(): Promise<LeaseState | null> {
    try {
      const parsed = JSON.parse(await readFile(this.lockPath, 'utf8')) as LeaseState;
      if (typeof parsed.owner !== 'string' || typeof parsed.expiresAt !== 'string') return null;
      return { ...parsed, records: Array.isArray(parsed.records) ? parsed.records : [] };
    } catch {
      return null;
    }
  }

  private lease(initial: LeaseState): Lease {
    let state = initial;
    const save = async (next: LeaseState) => {
      const onDisk = await this.readLock();
      if (onDisk && onDisk.owner !== state.owner) {
        throw new StoreError(`file: lease ${this.lockPath} was taken over by ${onDisk.owner}`);
      }
      await writeFileAtomic(this.lockPath, JSON.stringify(next), 0o600);
      state = next;
    };
    const expiry = (ttlMs: number) => new Date(this.clock.now().getTime() + ttlMs).toISOString();
    return {
      get state() {
        return state;
      },
      update: (records: TxtRecord[], ttlMs: number) => save({ ...state, records, expiresAt: expiry(ttlMs) }),
      extend: (ttlMs: number) => save({ ...state, expiresAt: expiry(ttlMs) }),
      release: async () => {
        const onDisk = await this.readLock();
        if (onDisk && onDisk.owner !== state.owner) return;
        await unlink(this.lockPath).catch((error) => {
          if (!isErrno(error, 'ENOENT')) throw error;
        });
      },
    };
  }
}

/** `<dir>/_account/<host>[_<port>].json`, mode 0600. */
export class FileAccountStore implements AccountStore {
  readonly ref: string;
  private readonly orders: FileOrderLedger;
  constructor(
    readonly dir: string,
    clock: Clock = systemClock,
  ) {
    this.ref = join(dir, '_account');
    this.orders = new FileOrderLedger(this.ref, clock);
  }

  reserveOrders(directoryUrl: string, want: number, budget: OrderBudget, owner: string): Promise<OrderReservation> {
    return this.orders.reserve(directoryUrl, want, budget, owner);
  }

  releaseOrders(directoryUrl: string, reservationId: string, count: number): Promise<void> {
    return this.orders.release(directoryUrl, reservationId, count);
  }

  private path(directoryUrl: string): string {
    return join(this.ref, `${accountName(directoryUrl)}.json`);
  }

  async load(directoryUrl: string): Promise<AcmeAccount | null> {
    let text: string;
    try {
      text = await readFile(this.path(directoryUrl), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw new StoreError(`file: cannot read the ACME account: ${(error as Error).message}`, { cause: error });
    }
    try {
      const account = JSON.parse(text) as AcmeAccount;
      // One file per host: a different directory path on the same host is another account.
      return account.directoryUrl === directoryUrl && account.accountKey && account.accountUrl ? account : null;
    } catch (error) {
      throw new StoreError(`file: the stored ACME account ${this.path(directoryUrl)} is not valid JSON`, {
        cause: error,
      });
    }
  }

  async save(account: AcmeAccount): Promise<void> {
    await mkdir(this.ref, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path(account.directoryUrl), `${JSON.stringify(account, null, 2)}\n`, 0o600);
  }
}
