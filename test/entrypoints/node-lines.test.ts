import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { localConfig, tempDir, uniqueZone } from '../support/certkeeper.js';
import { getStack } from '../support/stack.js';
import { ROOT } from './helpers.js';

const stack = getStack();

/** The CLI runs on every maintained Node.js line (PRODUCT §4): the built bundle, on 22 and on 24. */
describe.each([['22', inject('node22')] as const, ['24', inject('node24')] as const])(
  'the CLI on Node %s',
  (major, node) => {
    it('issues a certificate into the file store, then finds nothing due', async () => {
      expect(node.fallback, `node@${major} could not be had`).toBe(false);
      expect(node.version.startsWith(`v${major}.`)).toBe(true);
      const dir = await tempDir();
      const path = join(dir, 'certkeeper.json');
      await writeFile(
        path,
        JSON.stringify(localConfig(stack, join(dir, 'store'), [{ id: 'n', domains: [uniqueZone(`n${major}`)] }])),
      );
      const cli = (args: string[]) =>
        promisify(execFile)(node.path, [join(ROOT, 'dist/cli/index.js'), ...args], { cwd: dir, timeout: 60_000 });
      const first = JSON.parse((await cli(['run', '-c', path, '--json'])).stdout) as { results: { status: string }[] };
      expect(first.results.map((r) => r.status)).toEqual(['renewed']);
      const second = JSON.parse((await cli(['run', '-c', path, '--json'])).stdout) as { results: { status: string }[] };
      expect(second.results.map((r) => r.status)).toEqual(['skipped']);
    });
  },
);
