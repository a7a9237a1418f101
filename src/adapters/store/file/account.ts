import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import {
  type AccountStore,
  type AcmeAccount,
  accountName,
  acmeAccountSchema,
  type OrderBudget,
  type OrderReservation,
} from '../../../ports/store.js';
import { isErrno, writeFileAtomic } from './fs.js';
import { FileOrderLedger } from './orders.js';

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

  ordersInWindow(directoryUrl: string, budget: OrderBudget): Promise<{ used: number; freesAt?: string }> {
    return this.orders.inWindow(directoryUrl, budget);
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StoreError(`file: the stored ACME account ${this.path(directoryUrl)} is not valid JSON`, {
        cause: error,
      });
    }
    const account = acmeAccountSchema.safeParse(parsed);
    // One file per host: a different directory path on the same host is another account.
    if (!account.success || account.data.directoryUrl !== directoryUrl) return null;
    const { accountUrl, accountKey, createdAt } = account.data;
    return { directoryUrl, accountUrl, accountKey, createdAt: createdAt ?? new Date(0).toISOString() };
  }

  async save(account: AcmeAccount): Promise<void> {
    await mkdir(this.ref, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path(account.directoryUrl), `${JSON.stringify(account, null, 2)}\n`, 0o600);
  }
}
