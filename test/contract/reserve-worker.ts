/**
 * One process drawing on an order budget, for the store contract's cross-process test. Argument:
 * JSON `{ store: 'file', dir } | { store: 'aws-secrets-manager' }` plus `directoryUrl`, `budget`,
 * `want` (orders per reservation), `rounds`, `owner`, `gate` (a file to wait for, so that both
 * processes start reserving at the same moment). Prints `{ "granted": [n, …] }`.
 */
import { access } from 'node:fs/promises';
import { createSecretsManagerAccountStore } from '../../src/adapters/store/aws-secrets-manager/account.js';
import { FileAccountStore } from '../../src/adapters/store/file/account.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import type { AccountStore, OrderBudget } from '../../src/ports/store.js';

interface Args {
  store: 'file' | 'aws-secrets-manager';
  dir?: string;
  directoryUrl: string;
  budget: OrderBudget;
  want: number;
  rounds: number;
  owner: string;
  gate: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const accounts: AccountStore =
  args.store === 'file'
    ? new FileAccountStore(args.dir as string, systemClock)
    : createSecretsManagerAccountStore({ type: 'aws-secrets-manager' }, { logger: quiet, clock: systemClock });

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
const granted: number[] = [];
for (let round = 0; round < args.rounds; round++) {
  const r = await accounts.reserveOrders(args.directoryUrl, args.want, args.budget, args.owner);
  granted.push(r.granted);
}
process.stdout.write(`${JSON.stringify({ granted })}\n`);
