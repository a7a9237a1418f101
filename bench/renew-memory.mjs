// `node bench/renew-memory.mjs` (Node 24, --expose-gc): the Lambda bundle's renew handler invoked ROUNDS times
// (default 8) in one process on one batch of 25 certificates (local Pebble + challtestsrv, file
// store), as a warm Lambda environment serves a Distributed Map's batches; after each invocation
// the heap after a full GC and the RSS. A heap that keeps growing is a leak; an RSS that plateaus is V8 keeping pages.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = new URL('../', import.meta.url).pathname;
const devstack = await tsImport(root + 'src/devstack/index.ts', import.meta.url);
const stack = await devstack.startPebbleStack({ env: { PEBBLE_VA_NOSLEEP: '1' } });
const dir = mkdtempSync(join(tmpdir(), 'leak-'));
const N = 25;
const certificates = Array.from({ length: N }, (_, i) => ({
  id: `c${i}`,
  domains: [`c${i}.leak.test`, `*.c${i}.leak.test`],
}));
const cfg = {
  version: 1,
  acme: { directory: stack.acmeDirectory, caBundle: stack.caBundlePath, email: 'a@leak.test' },
  concurrency: 10,
  defaults: {
    dns: {
      provider: 'challtestsrv',
      url: stack.challtestsrvUrl,
      propagation: { resolvers: [stack.dnsResolver], timeout: '20s', interval: '100ms' },
    },
    store: { type: 'file', dir },
  },
  certificates,
};
process.env.CERTKEEPER_CONFIG = JSON.stringify(cfg);
const bundle = await import(pathToFileURL(root + 'dist/lambda/index.mjs').href);
const ctx = () => ({ awsRequestId: 'x', functionName: 'f', getRemainingTimeInMillis: () => 900000 });
const ids = certificates.map((c) => c.id);
for (let i = 0; i < Number(process.env.ROUNDS ?? 8); i++) {
  const out = await bundle.renew({ ids, force: true }, ctx());
  const ok = out.results.filter((r) => r.status === 'renewed').length;
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stderr.write(
    `round ${i}: renewed ${ok}/${N} heapUsed ${(m.heapUsed / 1048576).toFixed(1)} MiB heapTotal ${(m.heapTotal / 1048576).toFixed(1)} rss ${(m.rss / 1048576).toFixed(1)} ext ${(m.external / 1048576).toFixed(1)} ab ${(m.arrayBuffers / 1048576).toFixed(1)}\n`,
  );
}
await stack.stop();
process.exit(0);
