// One Lambda execution environment for the fleet bench (bench/fleet-scale.mjs): imports
// dist/lambda/index.mjs ($CK_BUNDLE) once, then invokes the handler each IPC message names, one
// invocation at a time, as a warm Lambda container would (a Distributed Map iteration per batch).
// Message in: { seq, handler: 'plan' | 'renew' | 'report', event }; out: { seq, ms, ok, value |
// name, message, maxRssKb } (maxRssKb: this process's ru_maxrss so far). Exits when the parent
// disconnects. The handlers' logs (Powertools JSON on stdout) go wherever the parent sends stdout.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const t0 = performance.now();
const bundle = await import(pathToFileURL(process.env.CK_BUNDLE).href);
const importMs = performance.now() - t0;
let invocations = 0;

function context(seq) {
  const deadline = Date.now() + 900_000; // Lambda's 15-minute limit, per invocation
  return {
    awsRequestId: `c0ffee00-0000-4000-8000-${String(process.pid).padStart(6, '0')}${String(seq).padStart(6, '0')}`,
    functionName: 'certkeeper-fleet',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:certkeeper-fleet',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/certkeeper-fleet',
    logStreamName: `2026/01/01/[$LATEST]bench-${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

process.on('message', async ({ seq, handler, event }) => {
  const t1 = performance.now();
  let outcome;
  try {
    outcome = { ok: true, value: await bundle[handler](event, context(seq)) };
  } catch (error) {
    outcome = { ok: false, name: error?.name, message: error?.message };
  }
  invocations++;
  process.send({
    seq,
    ms: performance.now() - t1,
    importMs: invocations === 1 ? importMs : 0,
    maxRssKb: process.resourceUsage().maxRSS,
    ...outcome,
  });
});
process.send({ ready: true, importMs });
