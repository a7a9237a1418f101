// A Node.js binary of one major line, for the test suite: the current one when it is of that
// line, else one npx already downloaded (`npx -p node@24` keeps the `node` package under the npm
// cache's _npx/), else npx downloads it. Looking in the cache first spares the ~1.5 s of CPU an
// `npx -p node@N node -p …` costs even when everything is cached.
import { execFile } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

function versionOf(text) {
  return String(JSON.parse(text).version ?? '')
    .split('.')
    .map(Number);
}

async function fromNpxCache(major) {
  const npx = join(process.env.npm_config_cache || join(homedir(), '.npm'), '_npx');
  let found;
  for (const dir of await readdir(npx).catch(() => [])) {
    const pkg = join(npx, dir, 'node_modules', 'node');
    try {
      const version = versionOf(await readFile(join(pkg, 'package.json'), 'utf8'));
      const bin = join(pkg, 'bin', 'node');
      await access(bin);
      if (version[0] !== major) continue;
      if (!found || version[1] > found.version[1] || (version[1] === found.version[1] && version[2] > found.version[2]))
        found = { path: bin, version };
    } catch {
      // not a node package, or no binary
    }
  }
  return found && { path: found.path, version: `v${found.version.join('.')}` };
}

/** `{ path, version }` of a Node `major`.x binary; throws when none can be had. */
export async function nodeLine(major) {
  if (Number(process.versions.node.split('.')[0]) === major)
    return { path: process.execPath, version: process.version };
  const cached = await fromNpxCache(major);
  if (cached) return cached;
  const { stdout } = await promisify(execFile)(
    'npx',
    ['-y', '-p', `node@${major}`, 'node', '-p', 'process.execPath + " " + process.version'],
    { timeout: 180_000 },
  );
  const [path, version] = stdout.trim().split(' ');
  if (!version?.startsWith(`v${major}.`)) throw new Error(`npx gave ${version}`);
  return { path, version };
}
