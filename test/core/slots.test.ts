import { describe, expect, it } from 'vitest';
import { mapLimit, mapWithSlots } from '../../src/core/runner.js';

/** A promise with its resolve handle. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('mapWithSlots (the run’s concurrency slots)', () => {
  it('mapLimit is a pool of `limit`, results in order', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5 + (n % 3)));
      active--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it('at most `limit` work towards a slot and at most `limit` hold one; the next ones work ahead while those hold theirs; a freed slot goes to the first waiting; never more than 2 × limit in flight', async () => {
    const ordered = Array.from({ length: 6 }, deferred); // "order placed": wants a slot
    const validated = Array.from({ length: 6 }, deferred);
    const finish = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    const holding = new Set<number>();
    let peakHolding = 0;
    const done = mapWithSlots([0, 1, 2, 3, 4, 5], 2, async (i, slot) => {
      started.push(i);
      await ordered[i]?.promise;
      await slot.acquire();
      await slot.acquire(); // twice is harmless
      holding.add(i);
      peakHolding = Math.max(peakHolding, holding.size);
      await validated[i]?.promise;
      holding.delete(i);
      slot.release();
      slot.release(); // twice is harmless
      await finish[i]?.promise;
      return i;
    });
    const settle = async () => {
      for (let k = 0; k < 4; k++) await tick();
    };
    await settle();
    // The first `limit` start alone: nothing else competes with them on the way to a slot.
    expect(started).toEqual([0, 1]);
    ordered[0]?.resolve();
    await settle();
    // 0 holds a slot: one more may work ahead.
    expect([...holding]).toEqual([0]);
    expect(started).toEqual([0, 1, 2]);
    // 2, then 1 ask for a slot: 2 gets the last one, 1 waits; 3 starts ahead.
    ordered[2]?.resolve();
    await settle();
    ordered[1]?.resolve();
    await settle();
    expect([...holding].sort()).toEqual([0, 2]);
    expect(started).toEqual([0, 1, 2, 3]);
    // 2 × limit in flight: 4 and 5 wait for an item to end, even with room to work ahead.
    ordered[3]?.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    // 0 is validated: its slot goes to 1 (waiting first), not to 3.
    validated[0]?.resolve();
    await settle();
    expect([...holding].sort()).toEqual([1, 2]);
    finish[0]?.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const d of [...ordered, ...validated, ...finish]) d.resolve();
    expect(await done).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peakHolding).toBe(2);
  });

  it('an item that never asks for a slot (nothing to validate) holds none', async () => {
    const gate = deferred();
    const order: string[] = [];
    const done = mapWithSlots(['skip', 'a', 'b'], 2, async (name, slot) => {
      if (name === 'skip') {
        await gate.promise;
        order.push('skip');
        return name;
      }
      await slot.acquire();
      order.push(name);
      await tick();
      return name;
    });
    for (let k = 0; k < 6; k++) await tick();
    // Both slots were free for 'a' and 'b' while 'skip' still runs.
    expect(order).toEqual(['a', 'b']);
    gate.resolve();
    expect(await done).toEqual(['skip', 'a', 'b']);
  });

  it('a failing item gives its slot back and the error reaches the caller', async () => {
    const seen: number[] = [];
    await expect(
      mapWithSlots([1, 2, 3], 1, async (n, slot) => {
        await slot.acquire();
        seen.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(seen).toContain(2);
  });
});
