import { createHash } from 'node:crypto';
import type { SecretsManagerClient, Tag } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../../ports/clock.js';
import { StoreError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { type AwsClientFactory, defaultAwsClientFactory } from '../../aws/clients.js';
import { awsErrorName, awsHint, describeAwsError } from '../../aws/errors.js';
import type { SecretsManagerStoreConfig } from './descriptor.js';

export type { SecretsManagerStoreConfig } from './descriptor.js';

export interface SecretsManagerDeps {
  logger: Logger;
  clock: Clock;
  /** A ready client (tests). Else one from `clients` for the config's region and role. */
  client?: SecretsManagerClient;
  clients?: AwsClientFactory;
}

/** Secrets Manager's SecretString limit; moto does not enforce it, so we do. */
export const MAX_SECRET_BYTES = 65_536;
/** Tag values: 256 per the API, 255 in the tagging guide; stay within both. */
export const MAX_TAG_VALUE = 255;

export function clientFor(config: SecretsManagerStoreConfig, deps: SecretsManagerDeps): SecretsManagerClient {
  return (
    deps.client ??
    (deps.clients ?? defaultAwsClientFactory()).secretsManager({
      region: config.region,
      roleArn: config.roleArn,
      externalId: config.externalId,
    })
  );
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `ck-` + 61 hex characters of sha256(serial): 64 characters, the most ClientRequestToken allows. */
export function versionToken(serialNumber: string): string {
  return `ck-${sha256(serialNumber.toLowerCase()).slice(0, 61)}`;
}

/** The token of the lease version that replaces `previousVersionId`. */
export function leaseToken(previousVersionId: string): string {
  return `ck-lease-${sha256(previousVersionId).slice(0, 55)}`;
}

/** Space-separated domains, cut at a whole domain with "+N more" when over the tag value limit. */
export function domainsTagValue(domains: string[]): string {
  const all = domains.join(' ');
  if (all.length <= MAX_TAG_VALUE) return all;
  for (let n = domains.length - 1; n > 0; n--) {
    const value = `${domains.slice(0, n).join(' ')} +${domains.length - n} more`;
    if (value.length <= MAX_TAG_VALUE) return value;
  }
  return `+${domains.length} domains`;
}

export function tagList(config: SecretsManagerStoreConfig, own: Record<string, string>): Tag[] {
  // The user's tags first, ours win: certkeeper reads its own tags back in dashboards and policies.
  const merged: Record<string, string> = { ...(config.tags ?? {}), ...own };
  return Object.entries(merged).map(([Key, Value]) => ({ Key, Value }));
}

export const is = (error: unknown, ...names: string[]) => names.includes(awsErrorName(error));

/** Secrets Manager's answer for a secret scheduled for deletion (its name is still taken). */
export function isPendingDeletion(error: unknown): boolean {
  return (
    is(error, 'InvalidRequestException') &&
    // AWS says "marked for deletion", moto "marked deleted".
    /(marked|scheduled) for deletion|marked deleted/i.test(error instanceof Error ? error.message : String(error))
  );
}

export function storeError(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const hint = isPendingDeletion(error)
    ? 'the secret is scheduled for deletion: restore it (aws secretsmanager restore-secret) or delete it for good (delete-secret --force-delete-without-recovery)'
    : is(error, 'DecryptionFailure', 'KMSAccessDeniedException', 'KMSInvalidStateException')
      ? 'the credentials cannot use the KMS key of this secret (kms:Decrypt / kms:GenerateDataKey)'
      : awsHint(error);
  return new StoreError(`secrets-manager: ${what}: ${describeAwsError(error)}`, {
    cause: error,
    ...(hint ? { hint } : {}),
  });
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // JSON.parse's message quotes the input, which here holds a private key: say nothing of it.
    return { ok: false };
  }
}
