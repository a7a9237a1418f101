import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../../../ports/errors.js';
import { parseAriState, parseFailureState, type RenewalState, type RenewalStatePatch } from '../../../ports/store.js';

/**
 * The renewal state of the file store (PRODUCT §3): beside the lease, one file per part,
 * `<dir>/<id>.failures.json` and `<dir>/<id>.ari.json`. One file per part because the parts have
 * separate writers (the lease holder writes failures, any run that refreshed the window writes
 * ARI): a write of one part can then never lose the other, without a lock. Each file is replaced
 * with one rename(2), so a reader sees the old or the new content, never a mix; the last writer of
 * a part wins (see RenewalStatePatch for why that is safe).
 */

const PARTS = { failures: parseFailureState, ari: parseAriState } as const;
type Part = keyof typeof PARTS;

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

export class FileRenewalState {
  constructor(
    private readonly dir: string,
    private readonly id: string,
  ) {}

  private path(part: Part): string {
    return join(this.dir, `${this.id}.${part}.json`);
  }

  async read(): Promise<RenewalState> {
    const state: RenewalState = {};
    await Promise.all(
      (Object.keys(PARTS) as Part[]).map(async (part) => {
        let text: string;
        try {
          text = await readFile(this.path(part), 'utf8');
        } catch (error) {
          if (isErrno(error, 'ENOENT', 'ENOTDIR')) return;
          throw new StoreError(`file: cannot read ${this.path(part)}: ${(error as Error).message}`, { cause: error });
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          // A broken state file (hand-edited, a full disk) only loses what it said: no backoff, no window.
          return;
        }
        const value = PARTS[part](parsed);
        if (value) (state as Record<Part, unknown>)[part] = value;
      }),
    );
    return state;
  }

  async write(patch: RenewalStatePatch): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await Promise.all(
        (Object.keys(PARTS) as Part[]).map(async (part) => {
          const value = patch[part];
          if (value === undefined) return;
          if (value === null) {
            await unlink(this.path(part)).catch((error) => {
              if (!isErrno(error, 'ENOENT')) throw error;
            });
            return;
          }
          const tmp = `${this.path(part)}.tmp-${randomBytes(6).toString('hex')}`;
          try {
            const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
            try {
              await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
              await fh.sync();
            } finally {
              await fh.close();
            }
            await rename(tmp, this.path(part));
          } catch (error) {
            await unlink(tmp).catch(() => {});
            throw error;
          }
        }),
      );
    } catch (error) {
      throw new StoreError(`file: cannot write the renewal state of ${this.id}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
