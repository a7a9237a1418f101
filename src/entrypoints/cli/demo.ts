import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitPemChain } from '../../core/certinfo.js';
import { ensurePebbleInstalled, startPebbleStack } from '../../devstack/pebble.js';
import { parseConfigText } from '../config.js';
import type { CliIo } from './main.js';
import { runAndReport } from './main.js';

/** examples/demo.yml, found from wherever this module runs (src/ under tsx, dist/ when built). */
function findDemoConfig(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'examples', 'demo.yml');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('examples/demo.yml not found next to the certkeeper package');
}

/**
 * `certkeeper demo`: Pebble + challtestsrv on loopback, a forced renewal of examples/demo.yml into
 * .certkeeper/, a check that the chain verifies against Pebble's root and the key matches, then a
 * second run that skips (nothing due), then everything it started is stopped.
 */
export async function demo(opts: { io: CliIo; json: boolean; verbose: boolean }): Promise<number> {
  const { io } = opts;
  const say = (s: string) => io.stderr(`${s}\n`);
  await ensurePebbleInstalled(say);
  say('demo: starting Pebble and challtestsrv on 127.0.0.1 …');
  const stack = await startPebbleStack({ maxLifetimeSec: 600, validityPeriodSec: 90 * 86_400 });
  try {
    const env = {
      ...io.env,
      CERTKEEPER_DEMO_DIRECTORY: stack.acmeDirectory,
      CERTKEEPER_DEMO_CA_BUNDLE: stack.caBundlePath,
      CERTKEEPER_DEMO_CHALLTESTSRV: stack.challtestsrvUrl,
      CERTKEEPER_DEMO_RESOLVER: stack.dnsResolver,
    };
    const path = findDemoConfig();
    const config = parseConfigText(await readFile(path, 'utf8'), { env, source: path, entry: 'cli' });
    const common = {
      io: { ...io, env },
      dryRun: false,
      only: [],
      json: opts.json,
      verbose: opts.verbose,
      failOn: 'error' as const,
    };

    say(`demo: pass 1 — renew ${config.certificates.map((c) => c.id).join(', ')} (forced) from ${stack.acmeDirectory}`);
    const first = await runAndReport(config, { ...common, force: true });
    if (first !== 0) return first;

    const root = new X509Certificate(await stack.rootPem());
    for (const cert of config.certificates) {
      if (cert.store.type !== 'file') continue;
      const dir = resolve(String(cert.store.dir), cert.id);
      const chain = splitPemChain(await readFile(join(dir, 'fullchain.pem'), 'utf8')).map(
        (p) => new X509Certificate(p),
      );
      const key = createPrivateKey(await readFile(join(dir, 'privkey.pem'), 'utf8'));
      let ok = chain.length > 0 && chain[0]!.checkPrivateKey(key);
      for (let i = 0; ok && i + 1 < chain.length; i++) ok = chain[i]!.verify(chain[i + 1]!.publicKey);
      const top = chain[chain.length - 1];
      ok = ok && top?.verify(root.publicKey) === true;
      say(
        ok
          ? `demo: ${dir}: chain verifies against Pebble's root, private key matches (serial ${chain[0]!.serialNumber.toLowerCase()})`
          : `demo: ${dir}: VERIFICATION FAILED`,
      );
      if (!ok) return 1;
    }

    say('demo: pass 2 — run again: nothing is due, so it skips');
    return await runAndReport(config, { ...common, force: false });
  } finally {
    await stack.stop();
    say('demo: stopped Pebble and challtestsrv');
  }
}
