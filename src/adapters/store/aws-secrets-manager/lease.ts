import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import {
  type AcquireResult,
  type BreakLease,
  type Lease,
  type LeaseState,
  parseLeaseState,
} from '../../../ports/store.js';
import {
  is,
  isPendingDeletion,
  leaseToken,
  parseJson,
  type SecretsManagerStoreConfig,
  storeError,
  tagList,
} from './common.js';

/**
 * The lease is a second secret, `<secretId>.lock`, made with CreateSecret (which fails when it
 * exists). Every later write to it is a compare-and-swap: its ClientRequestToken is derived from the
 * version it replaces, and Secrets Manager refuses a token reused with other content. Two runs
 * breaking the same expired lease therefore cannot both win, and a holder whose lease was broken
 * learns it on its next extension instead of overwriting the new holder.
 */

function parseLease(text: string | undefined): LeaseState | undefined {
  if (text === undefined) return undefined;
  const parsed = parseJson(text);
  return parsed.ok ? parseLeaseState(parsed.value) : undefined;
}

export function createSecretsManagerLease(opts: {
  client: SecretsManagerClient;
  secretId: string;
  certId: string;
  config: SecretsManagerStoreConfig;
  logger: Logger;
  clock: Clock;
}): { acquire(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> } {
  const { client, secretId, certId, config, logger, clock } = opts;
  const lockId = `${secretId}.lock`;
  const kms = config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {};

  async function writeLeaseState(
    state: LeaseState,
    previousVersion: string,
  ): Promise<{ ok: true; version: string } | { ok: false }> {
    const token = leaseToken(previousVersion);
    try {
      const out = await client.send(
        new PutSecretValueCommand({ SecretId: lockId, SecretString: JSON.stringify(state), ClientRequestToken: token }),
      );
      return { ok: true, version: out.VersionId ?? token };
    } catch (error) {
      // Token reused with other content: someone else wrote the version that follows ours.
      if (is(error, 'ResourceExistsException', 'ResourceNotFoundException')) return { ok: false };
      throw storeError(`cannot write lease ${lockId}`, error);
    }
  }

  async function readLock(): Promise<{ state: LeaseState | undefined; versionId: string } | 'missing'> {
    let out: GetSecretValueCommandOutput;
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: lockId }));
    } catch (error) {
      if (is(error, 'ResourceNotFoundException')) return 'missing';
      if (isPendingDeletion(error)) {
        // Someone deleted the lock with a recovery window; its name stays taken until purged.
        await forceDeleteLock();
        return 'missing';
      }
      throw storeError(`cannot read lease ${lockId}`, error);
    }
    return { state: parseLease(out.SecretString), versionId: out.VersionId ?? '' };
  }

  async function forceDeleteLock(): Promise<void> {
    try {
      // Without ForceDeleteWithoutRecovery the name stays taken for the recovery window (7–30 days),
      // and the next run's CreateSecret would fail.
      await client.send(new DeleteSecretCommand({ SecretId: lockId, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!is(error, 'ResourceNotFoundException')) throw storeError(`cannot delete lease ${lockId}`, error);
    }
  }

  function lease(owner: string, initial: LeaseState, initialVersion: string): Lease {
    let state = initial;
    let version = initialVersion;
    const save = async (next: LeaseState) => {
      let result = await writeLeaseState(next, version);
      if (!result.ok) {
        const current = await readLock();
        // Our previous write may have landed without us hearing back: then the lease is still ours.
        if (current !== 'missing' && current.state?.owner === owner && current.versionId !== version) {
          version = current.versionId;
          result = await writeLeaseState(next, version);
        }
        if (!result.ok) {
          const holder = current === 'missing' ? 'nobody (it was deleted)' : (current.state?.owner ?? 'unknown');
          throw new StoreError(`secrets-manager: lease ${lockId} was taken over by ${holder}`, {
            hint: 'this run took longer than leaseTtl without extending; raise leaseTtl',
          });
        }
      }
      version = result.version;
      state = next;
    };
    const expiry = (ttlMs: number) => new Date(clock.now().getTime() + ttlMs).toISOString();
    return {
      get state() {
        return state;
      },
      update: (records, ttlMs) => save({ ...state, records, expiresAt: expiry(ttlMs) }),
      extend: (ttlMs) => save({ ...state, expiresAt: expiry(ttlMs) }),
      async release() {
        const current = await readLock();
        if (current === 'missing') return;
        if (current.state?.owner !== owner) {
          logger.warn(
            `secrets-manager: not releasing lease ${lockId}: it is held by ${current.state?.owner ?? 'unknown'} now`,
          );
          return;
        }
        await forceDeleteLock();
      },
    };
  }

  return {
    async acquire(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> {
      const fresh = (): LeaseState => ({
        owner,
        expiresAt: new Date(clock.now().getTime() + ttlMs).toISOString(),
        records: [],
      });
      // A few rounds: the lock can vanish (released) or appear (taken) between our calls.
      for (let round = 0; round < 4; round++) {
        const mine = fresh();
        try {
          const out = await client.send(
            new CreateSecretCommand({
              Name: lockId,
              Description: `certkeeper: renewal lease for ${secretId}; deleted when its run ends`,
              SecretString: JSON.stringify(mine),
              Tags: tagList(config, { 'certkeeper:id': certId }),
              ...kms,
            }),
          );
          return { kind: 'acquired', lease: lease(owner, mine, out.VersionId ?? '') };
        } catch (error) {
          if (isPendingDeletion(error)) {
            await forceDeleteLock();
            continue;
          }
          if (!is(error, 'ResourceExistsException')) throw storeError(`cannot create lease ${lockId}`, error);
        }

        const current = await readLock();
        if (current === 'missing') continue;
        const holder = current.state;
        if (holder?.owner === owner && holder.records.length === 0) {
          // Our own CreateSecret landed but its answer was lost (the SDK retried it): it is ours.
          return { kind: 'acquired', lease: lease(owner, holder, current.versionId) };
        }
        if (holder && Date.parse(holder.expiresAt) > clock.now().getTime()) return { kind: 'locked', holder };

        // Expired (or unreadable, which no live holder writes): clean up after it, then take it over.
        const stale: LeaseState = holder ?? { owner: 'unknown', expiresAt: new Date(0).toISOString(), records: [] };
        logger.warn(`secrets-manager: lease ${lockId} of ${stale.owner} expired at ${stale.expiresAt}; breaking it`);
        await onBreak(stale);
        const taken = fresh();
        const result = await writeLeaseState(taken, current.versionId);
        if (result.ok) return { kind: 'acquired', lease: lease(owner, taken, result.version), broken: stale };
        // Another run broke it first.
        const winner = await readLock();
        if (winner === 'missing') continue;
        return {
          kind: 'locked',
          holder: winner.state ?? { owner: 'unknown', expiresAt: new Date(0).toISOString(), records: [] },
        };
      }
      throw new StoreError(`secrets-manager: cannot take lease ${lockId}: it keeps changing hands`);
    },
  };
}
