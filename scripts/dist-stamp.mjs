// A record of one full `npm run build`: the content hash of every file esbuild read (sources,
// node_modules, the build script, the lock file) and of every file it wrote under dist/. The test
// setup skips its build only when every input and every output still hashes the same, so the
// bundle tests never run a stale dist/ and a run after a small edit still rebuilds.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a full build writes its stamp and the test setup looks for it. */
export const DIST_STAMP = join(
  dirname(fileURLToPath(import.meta.url)),
  '../node_modules/.cache/certkeeper-dist-stamp.json',
);

async function hashFile(path) {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('base64url');
  } catch {
    return undefined;
  }
}

/** Every file under `dir`, depth first, names in locale order at each level; none when it is missing. */
export async function listFiles(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  const out = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

async function hashAll(paths) {
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await hashFile(p)])));
}

/** Writes the stamp of a build that read `inputs` and wrote the files under `outdirs`. */
export async function writeStamp(path, inputs, outdirs) {
  const files = inputs.filter((p) => !p.includes(':')).sort();
  const outputs = (await Promise.all(outdirs.map(listFiles))).flat();
  const stamp = { outdirs, inputs: await hashAll(files), outputs: await hashAll(outputs) };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(stamp));
}

/**
 * Whether dist/ is exactly what the stamped build wrote from inputs that have not changed since.
 * A missing or unreadable stamp, a changed or vanished input, an added, removed or changed output:
 * not current.
 */
export async function stampIsCurrent(path) {
  let stamp;
  try {
    stamp = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return false;
  }
  const same = (want, got) =>
    Object.keys(want).length === Object.keys(got).length &&
    Object.entries(want).every(([p, h]) => h !== undefined && got[p] === h);
  const outputs = (await Promise.all(stamp.outdirs.map(listFiles))).flat();
  if (!same(stamp.outputs, await hashAll(outputs))) return false;
  return same(stamp.inputs, await hashAll(Object.keys(stamp.inputs)));
}
