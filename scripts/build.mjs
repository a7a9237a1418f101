// One esbuild bundle per target (STYLE §9). The CLI bundle is ESM; acme-client and friends are
// CommonJS and `require` Node built-ins, so ESM bundles get a createRequire banner.

import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

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
};

const targets = process.argv.slice(2);
const all = {
  cli: { entryPoints: ['src/entrypoints/cli/index.ts'], outfile: 'dist/cli/index.js' },
};
for (const [name, opts] of Object.entries(all)) {
  if (targets.length && !targets.includes(name)) continue;
  await rm(`dist/${name}`, { recursive: true, force: true });
  await build({ ...common, ...opts });
}
