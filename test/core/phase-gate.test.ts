import { describe, expect, it } from 'vitest';
import { PhaseGate } from '../../src/core/phase-gate.js';

/** A task that runs until `finish` is called, recording when it entered. */
function task(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  return {
    fn: async () => {
      log.push(`${name} in`);
      await done;
      log.push(`${name} out`);
      return name;
    },
    finish,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PhaseGate', () => {
  it('runs requests of one phase together', async () => {
    const gate = new PhaseGate<'a' | 'b'>();
    const log: string[] = [];
    const [a1, a2] = [task(log, 'a1'), task(log, 'a2')];
    const runs = [gate.run('a', a1.fn), gate.run('a', a2.fn)];
    await tick();
    expect(log).toEqual(['a1 in', 'a2 in']);
    a1.finish();
    a2.finish();
    expect(await Promise.all(runs)).toEqual(['a1', 'a2']);
  });

  it('another phase waits until the running one drains, then all its waiters enter at once', async () => {
    const gate = new PhaseGate<'a' | 'b'>();
    const log: string[] = [];
    const [a1, a2, b1, b2] = [task(log, 'a1'), task(log, 'a2'), task(log, 'b1'), task(log, 'b2')];
    const runs = [gate.run('a', a1.fn), gate.run('a', a2.fn), gate.run('b', b1.fn), gate.run('b', b2.fn)];
    await tick();
    expect(log).toEqual(['a1 in', 'a2 in']);
    a1.finish();
    await tick();
    expect(log).toEqual(['a1 in', 'a2 in', 'a1 out']);
    a2.finish();
    await tick();
    expect(log).toEqual(['a1 in', 'a2 in', 'a1 out', 'a2 out', 'b1 in', 'b2 in']);
    b1.finish();
    b2.finish();
    await Promise.all(runs);
  });

  it('a waiting phase is not starved: later arrivals of the running phase queue behind it', async () => {
    const gate = new PhaseGate<'a' | 'b'>();
    const log: string[] = [];
    const [a1, b1, a2] = [task(log, 'a1'), task(log, 'b1'), task(log, 'a2')];
    const runs = [gate.run('a', a1.fn), gate.run('b', b1.fn)];
    await tick();
    runs.push(gate.run('a', a2.fn));
    await tick();
    expect(log).toEqual(['a1 in']);
    a1.finish();
    await tick();
    expect(log).toEqual(['a1 in', 'a1 out', 'b1 in']);
    b1.finish();
    await tick();
    expect(log).toEqual(['a1 in', 'a1 out', 'b1 in', 'b1 out', 'a2 in']);
    a2.finish();
    await Promise.all(runs);
  });

  it('an urgent phase joins itself while another waits, and goes first when the gate empties', async () => {
    const gate = new PhaseGate<'order' | 'authz'>('authz');
    const log: string[] = [];
    const [z1, o1, z2, o2, z3] = ['z1', 'o1', 'z2', 'o2', 'z3'].map((n) => task(log, n)) as ReturnType<typeof task>[];
    const runs = [gate.run('authz', z1!.fn), gate.run('order', o1!.fn)];
    await tick();
    runs.push(gate.run('authz', z2!.fn));
    await tick();
    expect(log).toEqual(['z1 in', 'z2 in']);
    z1!.finish();
    z2!.finish();
    await tick();
    expect(log).toEqual(['z1 in', 'z2 in', 'z1 out', 'z2 out', 'o1 in']);
    // The orders' turn: an urgent arrival waits for it (a later order waits behind the urgent one),
    // and is first once it drains.
    runs.push(gate.run('authz', z3!.fn), gate.run('order', o2!.fn));
    await tick();
    expect(log.slice(5)).toEqual([]);
    o1!.finish();
    await tick();
    expect(log.slice(5)).toEqual(['o1 out', 'z3 in']);
    z3!.finish();
    await tick();
    expect(log.slice(7)).toEqual(['z3 out', 'o2 in']);
    o2!.finish();
    await Promise.all(runs);
  });

  it('a request that throws leaves the gate and lets the next phase in', async () => {
    const gate = new PhaseGate<'a' | 'b'>();
    const failing = gate.run('a', async () => {
      throw new Error('boom');
    });
    const next = gate.run('b', async () => 'b ran');
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe('b ran');
    expect(await gate.run('a', async () => 'a again')).toBe('a again');
  });
});
