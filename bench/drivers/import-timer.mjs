// Cold import of one bundle, timed inside a fresh process (bench/entrypoints.mjs):
//   node bench/drivers/import-timer.mjs <bundle> [argv for the bundle…]
// Writes { bootMs, importMs, error? } to $CK_BENCH_OUT: bootMs = performance.now() just before the
// import (Node's own start-up, from the process's time origin), importMs = the `await import()`.
// The bundle sees process.argv = [node, <bundle>, …args], as if started as `node <bundle> …`.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [node, , bundle, ...args] = process.argv;
process.argv = [node, bundle, ...args];
const t0 = performance.now();
let error;
try {
  await import(pathToFileURL(bundle).href);
} catch (e) {
  error = String(e?.stack ?? e).slice(0, 2000);
}
const t1 = performance.now();
writeFileSync(process.env.CK_BENCH_OUT, JSON.stringify({ bootMs: t0, importMs: t1 - t0, error }));
