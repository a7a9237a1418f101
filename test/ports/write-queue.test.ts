import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../src/ports/write-queue.js';

describe('WriteQueue', () => {
  it('sends what is submitted together as one batch, one batch at a time', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    const q = new WriteQueue<number>({
      write: async (batch) => {
        inFlight++;
        expect(inFlight).toBe(1);
        batches.push(batch);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return undefined;
      },
    });
    await Promise.all([q.submit(1), q.submit(2), q.submit(3)]);
    await Promise.all([q.submit(4), q.submit(5)]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('settles an item when its own promise does, while the next batch goes out', async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => {
      release = r;
    });
    const written: number[][] = [];
    const q = new WriteQueue<number>({
      write: async (batch) => {
        written.push(batch);
        return batch.map((n) => (n === 1 ? slow : undefined));
      },
    });
    const one = q.submit(1);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await q.submit(2);
    expect(written).toEqual([[1], [2]]);
    let settled = false;
    void one.then(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    release();
    await one;
  });

  it('takes batches by the given rule, fails a whole batch together, and drops a cancelled waiting item', async () => {
    const q = new WriteQueue<number>({
      take: (queue) => queue.slice(0, 2),
      write: async (batch) => {
        if (batch.includes(3)) throw new Error('refused');
        return undefined;
      },
    });
    const cancel = new AbortController();
    const results = await Promise.allSettled([
      q.submit(1),
      q.submit(2),
      q.submit(3),
      q.submit(4),
      q.submit(5, cancel.signal),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const waiting = new AbortController();
    const blocked = new WriteQueue<number>({ write: () => new Promise(() => {}) });
    void blocked.submit(1);
    await new Promise((r) => setImmediate(r));
    const second = blocked.submit(2, waiting.signal);
    waiting.abort(new Error('stop'));
    await expect(second).rejects.toThrow('stop');
  });

  it('leaves no listener on a long-lived signal once items settle', async () => {
    const run = new AbortController();
    const q = new WriteQueue<number>({ write: async () => undefined });
    for (let i = 0; i < 20; i++) await q.submit(i, run.signal);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });
});
