/**
 * One process trying to take a certificate's lease, for the store contract's cross-process test.
 * Argument: JSON `{ store: 'file', dir } | { store: 'aws-secrets-manager' }` plus `id`, `owner` and
 * `gate` (a file to wait for, so that every process tries at the same moment). Prints `acquired`
 * or `locked` (and holds an acquired lease until it exits, so the others must see it).
 */
import { access } from 'node:fs/promises';
import { createSecretsManagerStore } from '../../src/adapters/store/aws-secrets-manager/store.js';
import { FileStore } from '../../src/adapters/store/file/store.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import type { CertificateStore } from '../../src/ports/store.js';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  store: 'file' | 'aws-secrets-manager';
  dir?: string;
  id: string;
  owner: string;
  gate: string;
};
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const store: CertificateStore =
  args.store === 'file'
    ? new FileStore(args.dir as string, args.id, systemClock)
    : createSecretsManagerStore(args.id, { type: 'aws-secrets-manager' }, { logger: quiet, clock: systemClock });

process.stdout.write('ready\n');
for (let i = 0; i < 6000; i++) {
  if (
    await access(args.gate).then(
      () => true,
      () => false,
    )
  )
    break;
  await new Promise((r) => setTimeout(r, 2));
}
const result = await store.acquireLease(args.owner, 60_000, async () => {});
process.stdout.write(`${result.kind}\n`);
