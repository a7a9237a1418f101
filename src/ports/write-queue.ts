/**
 * The write queue of the DNS providers that merge record sets (Route 53, Google Cloud DNS, Azure
 * DNS): writes to one zone (or record set) go out one batch at a time, and what is submitted
 * together — a certificate's names, concurrent certificates — leaves in one batch. A submit can
 * be cancelled while it waits in the queue (a batch on the wire completes regardless: the cleanup
 * the core always runs is queued behind it); its abort listener is removed once it settles, so a
 * run-wide signal does not collect one listener per operation.
 */

export interface WriteQueueOptions<T> {
  /**
   * Writes one batch. Resolves when the next batch may go; it may return, per item, a promise that
   * settles when that item is done beyond the write (e.g. Route 53's INSYNC), so the queue goes on
   * while those wait. Items without one are done when the write is.
   */
  write(batch: T[]): Promise<readonly (Promise<void> | undefined)[] | undefined>;
  /** Takes the next batch: a prefix of the queue (default: everything queued). */
  take?(queue: T[]): T[];
}

interface Entry<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

export class WriteQueue<T> {
  private readonly queue: Entry<T>[] = [];
  private running = false;

  constructor(private readonly options: WriteQueueOptions<T>) {}

  submit(item: T, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason);
      };
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const entry: Entry<T> = {
        item,
        resolve: () => {
          settle();
          resolve();
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      if (!this.running) {
        this.running = true;
        // Start on the next turn of the event loop, so what is submitted together leaves in one batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private take(): Entry<T>[] {
    if (!this.options.take) return this.queue.splice(0);
    const items = this.options.take(this.queue.map((e) => e.item));
    return this.queue.splice(0, items.length);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        let done: readonly (Promise<void> | undefined)[] | undefined;
        try {
          done = await this.options.write(batch.map((e) => e.item));
        } catch (error) {
          for (const e of batch) e.reject(error);
          continue;
        }
        for (const [i, e] of batch.entries()) {
          const pending = done?.[i];
          if (pending) pending.then(e.resolve, e.reject);
          else e.resolve();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
