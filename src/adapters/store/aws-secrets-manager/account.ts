import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { StoreError } from '../../../ports/errors.js';
import { type AccountStore, type AcmeAccount, accountName } from '../../../ports/store.js';
import {
  clientFor,
  is,
  MAX_TAG_VALUE,
  parseJson,
  type SecretsManagerDeps,
  type SecretsManagerStoreConfig,
  storeError,
  tagList,
} from './common.js';
import { createSecretsManagerOrderLedger } from './orders.js';

interface StoredAccount extends AcmeAccount {
  format: 'certkeeper/account/v1';
}

/** The ACME account per directory URL, as secret `certkeeper/account/<host>[_<port>]` (PRODUCT §2). */
export function createSecretsManagerAccountStore(
  config: SecretsManagerStoreConfig,
  deps: SecretsManagerDeps,
): AccountStore {
  const client = clientFor(config, deps);
  const { logger } = deps;
  const idFor = (directoryUrl: string) => `certkeeper/account/${accountName(directoryUrl)}`;
  const orders = createSecretsManagerOrderLedger({
    client,
    clock: deps.clock,
    ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
    ...(config.tags ? { userTags: config.tags } : {}),
  });
  return {
    ref: 'certkeeper/account/',
    reserveOrders: orders.reserve,
    releaseOrders: orders.release,
    ordersInWindow: orders.inWindow,

    async load(directoryUrl) {
      const secretId = idFor(directoryUrl);
      let out: GetSecretValueCommandOutput;
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (error) {
        if (is(error, 'ResourceNotFoundException')) return null;
        throw storeError(`cannot read ${secretId}`, error);
      }
      const parsed = out.SecretString === undefined ? ({ ok: false } as const) : parseJson(out.SecretString);
      const v = (parsed.ok ? parsed.value : null) as Partial<StoredAccount> | null;
      if (
        v?.format !== 'certkeeper/account/v1' ||
        typeof v.accountUrl !== 'string' ||
        typeof v.accountKey !== 'string' ||
        typeof v.directoryUrl !== 'string'
      ) {
        // Not null: that would register a new account on every run (Let's Encrypt allows 10 per IP per 3 h).
        throw new StoreError(`secrets-manager: ${secretId} is not a certkeeper ACME account`, {
          hint: `delete it (aws secretsmanager delete-secret --secret-id ${secretId} --force-delete-without-recovery) to register a new account`,
        });
      }
      if (v.directoryUrl !== directoryUrl) {
        logger.warn(`secrets-manager: ${secretId} holds the account of ${v.directoryUrl}, not ${directoryUrl}`);
        return null;
      }
      return {
        directoryUrl: v.directoryUrl,
        accountUrl: v.accountUrl,
        accountKey: v.accountKey,
        createdAt: typeof v.createdAt === 'string' ? v.createdAt : new Date(0).toISOString(),
      };
    },

    async save(account) {
      const secretId = idFor(account.directoryUrl);
      const body = JSON.stringify({ format: 'certkeeper/account/v1', ...account } satisfies StoredAccount);
      try {
        try {
          await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: body }));
        } catch (error) {
          if (!is(error, 'ResourceNotFoundException')) throw error;
          try {
            await client.send(
              new CreateSecretCommand({
                Name: secretId,
                Description: `certkeeper: ACME account for ${account.directoryUrl}`,
                SecretString: body,
                Tags: tagList(config, { 'certkeeper:acme-directory': account.directoryUrl.slice(0, MAX_TAG_VALUE) }),
                ...(config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {}),
              }),
            );
          } catch (createError) {
            // A concurrent run created it first; ours is as good as theirs, store it as the latest.
            if (!is(createError, 'ResourceExistsException')) throw createError;
            await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: body }));
          }
        }
      } catch (error) {
        throw storeError(`cannot write ${secretId}`, error);
      }
      logger.info(`secrets-manager: saved the ACME account in ${secretId}`, { accountUrl: account.accountUrl });
    },
  };
}
