// One esbuild bundle per target (STYLE §9). The CLI bundle is ESM; acme-client and friends are
// CommonJS and `require` Node built-ins, so ESM bundles get a createRequire banner.
//
//   node scripts/build.mjs [target…]     build all targets, or the named ones (cli, action, lambda)
//   node scripts/build.mjs --package     build all, then build/certkeeper-lambda.zip for Lambda uploads

import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import zlib from 'node:zlib';
import { build } from 'esbuild';
import { DIST_STAMP, listFiles, writeStamp } from './dist-stamp.mjs';

const banner = {
  js: "import { createRequire as __ckCreateRequire } from 'node:module'; const require = __ckCreateRequire(import.meta.url);",
};
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  banner,
  logLevel: 'warning',
  alias: { 'form-data': './scripts/stubs/form-data.cjs' },
};

/**
 * Every target is split into chunks: an entry loads the ACME client, the AWS SDKs, hooks and the
 * demo's dev stack only when a run needs them, so cold starts and no-op runs parse a fraction of
 * the code (Lambda cold import, `plan`, a scheduled run where nothing is due).
 */
function split(outdir, ext) {
  return {
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    outExtension: { '.js': ext },
  };
}

const args = process.argv.slice(2);
const packageZip = args.includes('--package');
const targets = args.filter((a) => !a.startsWith('--'));
// A full build also records what it read and wrote, by content hash, so the test setup can tell
// for certain that dist/ is what these sources build and skip its own build (scripts/dist-stamp.mjs).
const stampPath = targets.length ? undefined : DIST_STAMP;
const inputs = new Set(['scripts/build.mjs', 'package-lock.json']);
const all = {
  // Split into chunks: the CLI loads the ACME client, AWS SDKs, hooks and the demo's dev stack only
  // when a run needs them, so `plan`, `check-config` and no-op runs start fast.
  cli: { entryPoints: ['src/entrypoints/cli/index.ts'], ...split('dist/cli', '.js') },
  // action.yml `runs.using: node24`.
  action: {
    entryPoints: ['src/entrypoints/action/index.ts'],
    ...split('dist/action', '.js'),
    target: 'node24',
    mainFields: ['module', 'main'],
  },
  // Runtimes nodejs22.x and nodejs24.x. The AWS SDK is bundled rather than taken from the runtime,
  // so the function runs the versions it was tested with. `module` first: the SDK's ES builds
  // tree-shake; their CommonJS builds do not.
  lambda: {
    entryPoints: ['src/entrypoints/lambda/index.ts'],
    ...split('dist/lambda', '.mjs'),
    target: 'node22',
    mainFields: ['module', 'main'],
  },
};
for (const name of targets) {
  if (!(name in all)) throw new Error(`unknown target "${name}"; known: ${Object.keys(all).join(', ')}`);
}
for (const [name, opts] of Object.entries(all)) {
  if (targets.length && !targets.includes(name)) continue;
  await rm(`dist/${name}`, { recursive: true, force: true });
  const result = await build({ ...common, ...opts, metafile: Boolean(stampPath) });
  for (const input of Object.keys(result.metafile?.inputs ?? {})) inputs.add(input);
  const files = await listFiles(opts.outdir);
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  console.log(`${opts.outdir}/  ${files.length} files, ${(total / 1024).toFixed(0)} KB`);
}

if (stampPath) {
  await writeStamp(
    stampPath,
    [...inputs],
    Object.values(all).map((t) => t.outdir),
  );
}

if (packageZip) {
  await rm('build', { recursive: true, force: true });
  await mkdir('build', { recursive: true });
  const root = all.lambda.outdir;
  const files = await listFiles(root);
  const zip = zipFiles(
    await Promise.all(
      files.map(async (f) => ({ name: relative(root, f).split(sep).join('/'), data: await readFile(f) })),
    ),
  );
  await writeFile('build/certkeeper-lambda.zip', zip);
  console.log(`build/certkeeper-lambda.zip  ${(zip.length / 1024).toFixed(0)} KB (handler: index.handler)`);
}

/**
 * A minimal deflate zip, enough for a Lambda deployment package, so packaging needs neither the
 * `zip` tool nor a dependency. Fixed timestamps (1980-01-01) make the zip reproducible.
 */
function zipFiles(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const data = zlib.deflateRawSync(file.data, { level: 9 });
    const crc = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 — so the mode below is read
    local.copy(central, 6, 4, 30); // version needed … name length, same as the local header
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--: Lambda must be able to read it
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

function crc32(buf) {
  if (zlib.crc32) return zlib.crc32(buf);
  // Node < 20.15 has no zlib.crc32.
  let crc = ~0;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}
