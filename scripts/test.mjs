// `npm test`: vitest under a maintained Node.js line. certkeeper targets Node ≥ 22 (the Action runs
// on node24, Lambda on nodejs22.x/24.x); on an older Node (this machine has 20) the suite runs
// under Node 24 from the npm registry (`npx -p node@24`, cached after the first call), so tests
// see what users run. Arguments are passed on to vitest.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeLine } from './node-line.mjs';

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
let node = process.execPath;
if (major < 22) {
  try {
    node = (await nodeLine(24)).path;
  } catch (error) {
    console.error(`test: Node ${process.version} is older than 22 and node@24 could not be had: ${error.message}`);
    process.exit(1);
  }
}
// Node's compile cache (Node ≥ 22) for everything the suite runs on Node: vitest, its workers'
// natively loaded dependencies, and the many dist/ processes the bundle tests start (each would
// otherwise compile a 3 MB bundle afresh). Kept under node_modules/.cache, so a fresh clone starts
// cold; set NODE_COMPILE_CACHE yourself to move it, or to an empty string to turn it off.
const env = { ...process.env };
env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL('../node_modules/.cache/node-compile', import.meta.url));
if (env.NODE_COMPILE_CACHE === '') delete env.NODE_COMPILE_CACHE;
const child = spawn(node, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
