// One Lambda invocation in a fresh process, as the runtime does it (bench/entrypoints.mjs):
// import dist/lambda/index.mjs ($CK_BUNDLE), call handler(event, context) once.
// Writes { importMs, handlerMs, ok, value | name, message } to $CK_BENCH_OUT.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const t0 = performance.now();
const { handler } = await import(pathToFileURL(process.env.CK_BUNDLE).href);
const t1 = performance.now();
const deadline = Date.now() + 900_000;
const context = {
  awsRequestId: 'c0ffee00-0000-4000-8000-00000000beef',
  functionName: 'certkeeper',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:certkeeper',
  memoryLimitInMB: '512',
  logGroupName: '/aws/lambda/certkeeper',
  logStreamName: '2026/01/01/[$LATEST]bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const event = {
  version: '0',
  id: 'a1b2c3d4-0000-4000-8000-000000000000',
  'detail-type': 'Scheduled Event',
  source: 'aws.scheduler',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/default/certkeeper'],
  detail: {},
};
let outcome;
try {
  outcome = { ok: true, value: await handler(event, context) };
} catch (error) {
  outcome = { ok: false, name: error?.name, message: error?.message };
}
const t2 = performance.now();
writeFileSync(process.env.CK_BENCH_OUT, JSON.stringify({ importMs: t1 - t0, handlerMs: t2 - t1, ...outcome }));
