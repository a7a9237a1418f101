import { describe, expect, it } from 'vitest';
import { mapWithSlots } from '../../src/core/runner.js';

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
  it('without early release it is a pool of `limit`, results in order', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapWithSlots([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5 + (n % 3)));
      active--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it('a released slot starts the next item while the first finishes; never more than 2 × limit in flight', async () => {
    const gates = Array.from({ length: 6 }, deferred);
    const finish = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const done = mapWithSlots([0, 1, 2, 3, 4, 5], 2, async (i, release) => {
      started.push(i);
      releases[i] = release;
      await gates[i]?.promise;
      release(); // "validated"
      release(); // twice is harmless
      await finish[i]?.promise;
      return i;
    });
    await tick();
    expect(started).toEqual([0, 1]);
    // 0 and 1 validate: their slots go to 2 and 3, while 0 and 1 still finish.
    gates[0]?.resolve();
    gates[1]?.resolve();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    // 2 and 3 validate too: 4 in flight already (2 × limit), so 4 and 5 wait for a finish.
    gates[2]?.resolve();
    gates[3]?.resolve();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    finish[0]?.resolve();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const d of [...gates, ...finish]) d.resolve();
    expect(await done).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a failing item gives its slot back and the error reaches the caller', async () => {
    const seen: number[] = [];
    await expect(
      mapWithSlots([1, 2, 3], 1, async (n) => {
        seen.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(seen).toContain(2);
  });
});
