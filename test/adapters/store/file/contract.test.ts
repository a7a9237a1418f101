import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore } from '../../../../src/adapters/store/file/store.js';
import { storeContract } from '../../../contract/store.js';
import { tempDir } from '../../../support/certkeeper.js';
import { fakeClock } from '../../../support/clock.js';

const dir = await tempDir('ck-file-contract-');

storeContract('file', () => {
  const clock = fakeClock(Date.now());
  return {
    clock,
    store: async (id) => new FileStore(dir, id, clock),
    corruptLock: async (id) => {
      await mkdir(dir, { recursive: true });
      // A killed run's half-written lock.
      await writeFile(join(dir, `${id}.lock`), '{"owner": "run-9", "expi');
    },
    worker: { store: 'file', dir },
  };
});
