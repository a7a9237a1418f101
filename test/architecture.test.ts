import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IMPORT_READERS } from '../src/adapters/import/readers.js';
import { cas, registry } from '../src/adapters/registry.js';

/**
 * The shape STYLE.md asks for, checked: imports flow entry points → core → ports ← adapters, and
 * the core names no vendor. A change that breaks either fails here, not in review.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The layer of a file under src/: ports, core, adapters, entrypoints, devstack. */
function layer(file: string): string {
  return relative(SRC, file).split('/')[0] as string;
}

/** Which layers each layer may import (besides itself and npm packages). */
const ALLOWED: Record<string, string[]> = {
  ports: [],
  core: ['ports'],
  adapters: ['ports'],
  devstack: ['ports'],
  entrypoints: ['core', 'ports', 'adapters', 'devstack'],
};

describe('architecture', () => {
  it('imports flow entry → core → ports ← adapters', async () => {
    const violations: string[] = [];
    for (const file of await sources(SRC)) {
      const from = layer(file);
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = resolve(dirname(file), m[1] as string);
        const to = layer(target);
        if (to === from || (ALLOWED[from] ?? []).includes(to)) continue;
        violations.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)} (${from} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the core names no adapter, CA or import source: everything vendor-specific comes from the registry', async () => {
    const names = [
      ...[...registry.dns, ...registry.store, ...registry.export, ...registry.hook, ...cas].map((d) => d.name),
      // The `pem` reader is named for the format, which node:crypto's `format: 'pem'` also names.
      ...IMPORT_READERS.map((r) => r.tool).filter((t) => t !== 'pem'),
    ];
    expect(names).toEqual(expect.arrayContaining(['route53', 'aws-secrets-manager', 'cloudflare', 'letsencrypt']));
    const hits: string[] = [];
    for (const file of await sources(join(SRC, 'core'))) {
      const code = (await readFile(file, 'utf8'))
        // Comments may mention an example; only code must not depend on one.
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1');
      for (const name of names) {
        if (new RegExp(`['"\`]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`).test(code)) {
          hits.push(`${relative(ROOT, file)}: '${name}'`);
        }
      }
    }
    expect(hits).toEqual([]);
  });
});
