import { afterAll } from 'vitest';
import { type Clock, systemClock } from '../../src/ports/clock.js';

/**
 * Real time, but every sleep `factor` times shorter: backoffs (Route 53's 0.5–1 s, 1–2 s, … per
 * retry; the runner's 0.5 s, 2 s, 5 s store retries) and polls keep their shape, count and order
 * while a fault test stays short. `now()` is the real time, so deadlines stay real deadlines.
 */
export function timeLapse(factor: number): Clock {
  return { now: systemClock.now, sleep: (ms, signal) => systemClock.sleep(Math.ceil(ms / factor), signal) };
}

/**
 * Sets process variables for this test file (its own worker process) and restores them when it
 * ends. The AWS SDK reads AWS_ENDPOINT_URL(_<SERVICE>) when a client is built: call it before.
 */
export function useEnv(): (vars: Record<string, string>) => void {
  const saved: Record<string, string | undefined> = {};
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  return (vars) => {
    for (const [k, v] of Object.entries(vars)) {
      if (!(k in saved)) saved[k] = process.env[k];
      process.env[k] = v;
    }
  };
}
