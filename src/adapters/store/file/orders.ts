import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import {
  emptyLedger,
  type OrderLedger,
  parseLedger,
  releaseInLedger,
  reserveInLedger,
  usedInLedger,
} from '../../../ports/order-ledger.js';
import { accountName, type OrderBudget, type OrderReservation } from '../../../ports/store.js';

/**
 * The order budget's ledger in the file store, beside the account: `<dir>/_account/<host>.orders/`
 * holds numbered versions `000000000001.json`, `…2.json`, …; the highest is current. A new version
 * is written in full to a file of our own and hard-linked to the next number: link(2) fails when
 * that name exists, so of two processes extending the same version exactly one wins and the other
 * reads again and retries (a compare-and-swap without a lock that a killed process could leave
 * behind). Old versions are pruned, but only minutes after they were superseded: a number must
 * not come free again while a writer that read the version before it may still try to take it.
 */

const KEEP = 4;
const PRUNE_AFTER_MS = 10 * 60_000;
const ATTEMPTS = 50;
const NAME = /^(\d{12})\.json$/;

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

export class FileOrderLedger {
  constructor(
    private readonly accountDir: string,
    private readonly clock: Clock,
  ) {}

  private dirFor(directoryUrl: string): string {
    return join(this.accountDir, `${accountName(directoryUrl)}.orders`);
  }

  private async current(dir: string, directoryUrl: string): Promise<{ seq: number; ledger: OrderLedger }> {
    for (let attempt = 0; ; attempt++) {
      const names = await readdir(dir).catch((error) => {
        if (isErrno(error, 'ENOENT')) return [] as string[];
        throw error;
      });
      const seq = Math.max(0, ...names.map((n) => Number(NAME.exec(n)?.[1] ?? 0)));
      if (seq === 0) return { seq, ledger: emptyLedger(directoryUrl) };
      try {
        const text = await readFile(join(dir, `${String(seq).padStart(12, '0')}.json`), 'utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        return { seq, ledger: parseLedger(parsed, directoryUrl) };
      } catch (error) {
        // Pruned between readdir and read: a newer version exists, look again.
        if (!isErrno(error, 'ENOENT') || attempt >= 5) throw error;
      }
    }
  }

  /** Writes `ledger` as version `seq`; false when another process wrote that version first. */
  private async put(dir: string, seq: number, ledger: OrderLedger): Promise<boolean> {
    const tmp = join(dir, `.new-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(ledger)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await link(tmp, join(dir, `${String(seq).padStart(12, '0')}.json`));
      return true;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      throw error;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  private async prune(dir: string, seq: number): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    // mtimes are the file system's wall clock, so compare with the wall clock, not the injected one.
    const cutoff = Date.now() - PRUNE_AFTER_MS;
    for (const name of names) {
      const n = Number(NAME.exec(name)?.[1] ?? Number.NaN);
      if (!(n <= seq - KEEP)) continue;
      const path = join(dir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      );
      if (modified < cutoff) await unlink(path).catch(() => {});
    }
  }

  /** Read, change, write the next version; again from the read when another process won. */
  private async swap(directoryUrl: string, change: (ledger: OrderLedger) => OrderLedger | undefined): Promise<void> {
    const dir = this.dirFor(directoryUrl);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const { seq, ledger } = await this.current(dir, directoryUrl);
        const next = change(ledger);
        if (!next) return;
        if (await this.put(dir, seq + 1, next)) {
          await this.prune(dir, seq + 1);
          return;
        }
      }
    } catch (error) {
      throw new StoreError(`file: cannot update the order budget in ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw new StoreError(`file: the order budget in ${dir} kept changing under ${ATTEMPTS} attempts`);
  }

  async reserve(directoryUrl: string, want: number, budget: OrderBudget, owner: string): Promise<OrderReservation> {
    let result: OrderReservation = { granted: 0, used: 0 };
    if (want <= 0) return result;
    const id = `${owner}:${randomBytes(4).toString('hex')}`;
    await this.swap(directoryUrl, (ledger) => {
      const { reservation, next } = reserveInLedger(ledger, want, budget, this.clock.now(), id);
      result = reservation;
      return next;
    });
    return result;
  }

  async release(directoryUrl: string, reservationId: string, count: number): Promise<void> {
    await this.swap(directoryUrl, (ledger) => releaseInLedger(ledger, reservationId, count));
  }

  /** Reads the current version only: no directory is made, nothing is written. */
  async inWindow(directoryUrl: string, budget: OrderBudget): Promise<{ used: number; freesAt?: string }> {
    const dir = this.dirFor(directoryUrl);
    try {
      const { ledger } = await this.current(dir, directoryUrl);
      return usedInLedger(ledger, budget, this.clock.now());
    } catch (error) {
      throw new StoreError(`file: cannot read the order budget in ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
