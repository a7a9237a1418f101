import type { TestProject } from 'vitest/node';
import { startMoto } from '../../src/devstack/moto.js';
import { ensurePebbleInstalled, startPebbleStack } from '../../src/devstack/pebble.js';
import type { SharedStack } from './stack.js';

/** One Pebble stack and one moto for the whole run: starting them per file would dominate test time. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensurePebbleInstalled((line) => console.log(`[pebble install] ${line}`));
  const started = Date.now();
  const [pebble, moto] = await Promise.allSettled([startPebbleStack(), startMoto()]);
  if (pebble.status === 'rejected' || moto.status === 'rejected') {
    // Whichever did start must not outlive the failed setup.
    await Promise.all([
      pebble.status === 'fulfilled' ? pebble.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    throw pebble.status === 'rejected' ? pebble.reason : (moto as PromiseRejectedResult).reason;
  }
  const stack = pebble.value;
  const teardown = async () => {
    await Promise.all([stack.stop(), moto.value.stop()]);
  };
  try {
    const shared: SharedStack = {
      acmeDirectory: stack.acmeDirectory,
      caBundlePath: stack.caBundlePath,
      caBundlePem: stack.caBundlePem,
      managementUrl: stack.managementUrl,
      challtestsrvUrl: stack.challtestsrvUrl,
      dnsResolver: stack.dnsResolver,
      motoEndpoint: moto.value.endpoint,
      motoEnv: moto.value.env,
    };
    project.provide('stack', shared);
    project.provide('rootPem', await stack.rootPem());
  } catch (error) {
    await teardown();
    throw error;
  }
  if (process.env.CERTKEEPER_DEBUG_STACK) console.log(`[devstack] pebble + moto up in ${Date.now() - started} ms`);
  return teardown;
}
