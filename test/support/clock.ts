import type { Clock } from '../../src/ports/clock.js';

/**
 * The one fake clock of the suite: sleeps return at once and move time forward to when they
 * would have ended, so tests never really wait. Sleeps started together end together, as real
 * ones do; every sleep is recorded. `advance` moves time without a sleep (a run "a day later").
 */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
  set(time: Date | number): void;
}

export function fakeClock(start: Date | number = Date.parse('2026-01-01T00:00:00Z')): FakeClock {
  let now = typeof start === 'number' ? start : start.getTime();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
    set(time) {
      now = typeof time === 'number' ? time : time.getTime();
    },
    async sleep(ms, signal) {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      const wake = now + ms;
      // Yield, so servers, timers and other tasks get a turn, as during a real wait.
      await new Promise<void>((r) => setImmediate(r));
      now = Math.max(now, wake);
    },
  };
}

/**
 * Real time, sped up `factor` times: a 3 s sleep takes 3000/factor ms. For pollers running in
 * parallel against real servers, whose interleaving a jumping fake clock would distort.
 */
export function scaledClock(factor: number): Clock {
  const startReal = Date.now();
  return {
    now: () => new Date(startReal + (Date.now() - startReal) * factor),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        setTimeout(resolve, ms / factor);
      }),
  };
}
