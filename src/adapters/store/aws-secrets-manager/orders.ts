import { createHash, randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import {
  emptyLedger,
  type OrderLedger,
  parseLedger,
  releaseInLedger,
  reserveInLedger,
  usedInLedger,
} from '../../../ports/order-ledger.js';
import { accountName, type OrderBudget, type OrderReservation } from '../../../ports/store.js';
import { awsErrorName, awsHint, describeAwsError } from '../../aws/errors.js';

/**
 * The order budget's ledger in Secrets Manager, beside the account: secret
 * `certkeeper/account/<host>[_<port>].orders`. Every change is a compare-and-swap, as the lease's:
 * the new version's ClientRequestToken is derived from the version it replaces, and Secrets Manager
 * refuses a token reused with other content (each reservation has an id of its own, so two
 * writers never send the same content). Of two processes extending one version, one wins; the
 * other reads again and retries. A lost answer retried by the SDK resends the same token and
 * content, which Secrets Manager takes as the same version. One write per reservation, not per
 * order: a run (or fleet worker) reserves what it needs at once, so the secret stays far from the
 * 100-versions-a-day quota.
 */

const ATTEMPTS = 20;
const is = (error: unknown, ...names: string[]) => names.includes(awsErrorName(error));

function ledgerToken(previousVersionId: string): string {
  return `ck-orders-${createHash('sha256').update(previousVersionId).digest('hex').slice(0, 54)}`;
}

function ledgerError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const hint = awsHint(error);
  return new StoreError(`secrets-manager: ${what}: ${describeAwsError(error)}`, {
    cause: error,
    ...(hint ? { hint } : {}),
  });
}

export interface SecretsManagerOrderLedgerOptions {
  client: SecretsManagerClient;
  clock: Clock;
  kmsKeyId?: string;
  userTags?: Record<string, string>;
  /** For the jitter between attempts (tests inject a seeded one). */
  random?: () => number;
}

export function createSecretsManagerOrderLedger(options: SecretsManagerOrderLedgerOptions) {
  const { client, clock } = options;
  const random = options.random ?? Math.random;
  const idFor = (directoryUrl: string) => `certkeeper/account/${accountName(directoryUrl)}.orders`;

  async function current(secretId: string, directoryUrl: string): Promise<{ ledger: OrderLedger; version?: string }> {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      let parsed: unknown;
      try {
        parsed = JSON.parse(out.SecretString ?? '');
      } catch {
        parsed = undefined;
      }
      return { ledger: parseLedger(parsed, directoryUrl), ...(out.VersionId ? { version: out.VersionId } : {}) };
    } catch (error) {
      if (is(error, 'ResourceNotFoundException')) return { ledger: emptyLedger(directoryUrl) };
      throw error;
    }
  }

  /** Writes `next` over `version` (none: creates the secret); false when another writer was first. */
  async function put(secretId: string, next: OrderLedger, version: string | undefined): Promise<boolean> {
    try {
      if (version === undefined) {
        const tags = { ...(options.userTags ?? {}), 'certkeeper:acme-directory': next.directoryUrl.slice(0, 255) };
        await client.send(
          new CreateSecretCommand({
            Name: secretId,
            Description: `certkeeper: new ACME orders of the last window on ${next.directoryUrl} (acme.orderBudget)`,
            SecretString: JSON.stringify(next),
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
            ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
          }),
        );
      } else {
        await client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            SecretString: JSON.stringify(next),
            ClientRequestToken: ledgerToken(version),
          }),
        );
      }
      return true;
    } catch (error) {
      if (is(error, 'ResourceExistsException')) return false;
      throw error;
    }
  }

  async function swap(directoryUrl: string, change: (ledger: OrderLedger) => OrderLedger | undefined): Promise<void> {
    const secretId = idFor(directoryUrl);
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const { ledger, version } = await current(secretId, directoryUrl);
        const next = change(ledger);
        if (!next) return;
        if (await put(secretId, next, version)) return;
        // Lost the race: back off a little (jittered) so that a crowd of fleet workers spreads out.
        await clock.sleep(20 + Math.floor(random() * 80 * (attempt + 1)));
      }
    } catch (error) {
      throw ledgerError(`cannot update the order budget ${secretId}`, error);
    }
    throw new StoreError(`secrets-manager: the order budget ${secretId} kept changing under ${ATTEMPTS} attempts`);
  }

  return {
    async reserve(directoryUrl: string, want: number, budget: OrderBudget, owner: string): Promise<OrderReservation> {
      let result: OrderReservation = { granted: 0, used: 0 };
      if (want <= 0) return result;
      const id = `${owner}:${randomBytes(4).toString('hex')}`;
      await swap(directoryUrl, (ledger) => {
        const { reservation, next } = reserveInLedger(ledger, want, budget, clock.now(), id);
        result = reservation;
        return next;
      });
      return result;
    },
    async release(directoryUrl: string, reservationId: string, count: number): Promise<void> {
      await swap(directoryUrl, (ledger) => releaseInLedger(ledger, reservationId, count));
    },
    /** One GetSecretValue; a missing ledger secret is an empty window. */
    async inWindow(directoryUrl: string, budget: OrderBudget): Promise<{ used: number; freesAt?: string }> {
      const secretId = idFor(directoryUrl);
      try {
        const { ledger } = await current(secretId, directoryUrl);
        return usedInLedger(ledger, budget, clock.now());
      } catch (error) {
        throw ledgerError(`cannot read the order budget ${secretId}`, error);
      }
    },
  };
}
