import { link, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../ports/clock.js';
import type { TxtRecord } from '../../../ports/dns.js';
import { StoreError } from '../../../ports/errors.js';
import {
  type AcquireResult,
  type BreakLease,
  type Lease,
  type LeaseState,
  parseLeaseState,
} from '../../../ports/store.js';
import { isErrno, tmpSuffix, writeFileAtomic, writeNewFile } from './fs.js';

/**
 * The file store's lease (PRODUCT §3): `<dir>/<id>.lock`, holding its owner, expiry and the TXT
 * records its holder wrote. Created by writing a file of our own in full and link(2)-ing it to the
 * lock name, which fails if the name exists: exactly one creator wins, and the lock is never seen
 * half written.
 */
export class FileLease {
  private readonly lockPath: string;

  constructor(
    private readonly dir: string,
    id: string,
    private readonly clock: Clock,
  ) {
    this.lockPath = join(dir, `${id}.lock`);
  }

  async acquire(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> {
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
    const aside = `${this.lockPath}.broken-${tmpSuffix()}`;
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
    const tmp = `${this.lockPath}.new-${tmpSuffix()}`;
    try {
      await writeNewFile(tmp, JSON.stringify(state));
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
    let text: string;
    try {
      text = await readFile(this.lockPath, 'utf8');
    } catch {
      return null;
    }
    try {
      return parseLeaseState(JSON.parse(text)) ?? null;
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
