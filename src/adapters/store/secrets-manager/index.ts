import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type Tag,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import type { StoreConfig } from '../../../core/config.js';
import type { Clock } from '../../../ports/clock.js';
import type { TxtRecord } from '../../../ports/dns.js';
import { StoreError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import {
  type AccountStore,
  type AcmeAccount,
  type AcquireResult,
  accountName,
  type BreakLease,
  type CertificateStore,
  type Lease,
  type LeaseState,
  type ReadResult,
  type StoredCertificate,
  type WriteResult,
} from '../../../ports/store.js';
import {
  type AwsClientFactory,
  awsErrorName,
  awsHint,
  defaultAwsClientFactory,
  describeAwsError,
} from '../../aws/clients.js';
import { createSecretsManagerOrderLedger } from './orders.js';
import { createSecretsManagerState } from './state.js';

/**
 * AWS Secrets Manager store (PRODUCT §2, §3).
 *
 * The certificate is one secret whose SecretString is the certkeeper/v1 JSON: each renewal is a new
 * version (AWSCURRENT; the previous one becomes AWSPREVIOUS, so a rollback is one
 * update-secret-version-stage). The version's ClientRequestToken is derived from the certificate
 * serial, so a retried write (lost response, runner retry) lands on the same version.
 *
 * The lease is a second secret, `<secretId>.lock`, made with CreateSecret (which fails when it
 * exists). Every later write to it is a compare-and-swap: its ClientRequestToken is derived from the
 * version it replaces, and Secrets Manager refuses a token reused with other content. Two runs
 * breaking the same expired lease therefore cannot both win, and a holder whose lease was broken
 * learns it on its next extension instead of overwriting the new holder.
 */

export type SecretsManagerStoreConfig = Extract<StoreConfig, { type: 'aws-secrets-manager' }>;

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
const MAX_TAG_VALUE = 255;

function clientFor(config: SecretsManagerStoreConfig, deps: SecretsManagerDeps): SecretsManagerClient {
  return (
    deps.client ??
    (deps.clients ?? defaultAwsClientFactory()).secretsManager({
      region: config.region,
      roleArn: config.roleArn,
      externalId: config.externalId,
    })
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `ck-` + 61 hex characters of sha256(serial): 64 characters, the most ClientRequestToken allows. */
export function versionToken(serialNumber: string): string {
  return `ck-${sha256(serialNumber.toLowerCase()).slice(0, 61)}`;
}

/** The token of the lease version that replaces `previousVersionId`. */
function leaseToken(previousVersionId: string): string {
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

function tagList(config: SecretsManagerStoreConfig, own: Record<string, string>): Tag[] {
  // The user's tags first, ours win: certkeeper reads its own tags back in dashboards and policies.
  const merged: Record<string, string> = { ...(config.tags ?? {}), ...own };
  return Object.entries(merged).map(([Key, Value]) => ({ Key, Value }));
}

const is = (error: unknown, ...names: string[]) => names.includes(awsErrorName(error));

/** Secrets Manager's answer for a secret scheduled for deletion (its name is still taken). */
function isPendingDeletion(error: unknown): boolean {
  return (
    is(error, 'InvalidRequestException') &&
    /(marked|scheduled) for deletion/i.test(error instanceof Error ? error.message : String(error))
  );
}

function storeError(what: string, error: unknown): StoreError {
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

/** Why `value` is not a certkeeper/v1 certificate, or undefined when it is one. Never echoes content. */
function invalidStored(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (v.format !== 'certkeeper/v1') {
    return typeof v.format === 'string'
      ? `unknown format "${v.format.slice(0, 40)}"`
      : 'no "format": not a certkeeper secret';
  }
  for (const key of [
    'id',
    'certificate',
    'chain',
    'fullchain',
    'privateKey',
    'keyType',
    'serialNumber',
    'notBefore',
    'notAfter',
    'issuer',
    'issuedAt',
  ]) {
    if (typeof v[key] !== 'string') return `"${key}" is missing or not a string`;
  }
  if (!Array.isArray(v.domains) || !v.domains.every((d) => typeof d === 'string'))
    return '"domains" is not a list of names';
  if (typeof v.issuedBy !== 'object' || v.issuedBy === null) return '"issuedBy" is missing';
  if (Number.isNaN(Date.parse(v.notAfter as string))) return '"notAfter" is not a date';
  return undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // JSON.parse's message quotes the input, which here holds a private key: say nothing of it.
    return { ok: false };
  }
}

function parseLease(text: string | undefined): LeaseState | undefined {
  if (text === undefined) return undefined;
  const parsed = parseJson(text);
  if (!parsed.ok) return undefined;
  const v = parsed.value as Partial<LeaseState> | null;
  if (!v || typeof v.owner !== 'string' || typeof v.expiresAt !== 'string' || Number.isNaN(Date.parse(v.expiresAt))) {
    return undefined;
  }
  const records = Array.isArray(v.records)
    ? v.records.filter((r): r is TxtRecord => typeof r?.name === 'string' && typeof r?.value === 'string')
    : [];
  return { owner: v.owner, expiresAt: v.expiresAt, records };
}

export function createSecretsManagerStore(
  certId: string,
  config: SecretsManagerStoreConfig,
  deps: SecretsManagerDeps,
): CertificateStore {
  const client = clientFor(config, deps);
  const { logger, clock } = deps;
  const secretId = config.secretId ?? `certkeeper/${certId}`;
  const lockId = `${secretId}.lock`;
  const kms = config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {};
  const state = createSecretsManagerState({
    client,
    secretId,
    certId,
    logger,
    ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
    ...(config.tags ? { userTags: config.tags } : {}),
  });

  async function put(body: string, token: string, signal?: AbortSignal) {
    const out = await client.send(
      new PutSecretValueCommand({ SecretId: secretId, SecretString: body, ClientRequestToken: token }),
      { abortSignal: signal },
    );
    return { arn: out.ARN ?? secretId, version: out.VersionId ?? token };
  }

  async function create(cert: StoredCertificate, body: string, token: string, tags: Tag[], signal?: AbortSignal) {
    const out = await client.send(
      new CreateSecretCommand({
        Name: secretId,
        Description: `certkeeper: TLS certificate ${cert.id} (certkeeper/v1 JSON)`,
        SecretString: body,
        ClientRequestToken: token,
        Tags: tags,
        ...kms,
      }),
      { abortSignal: signal },
    );
    logger.info(`secrets-manager: created secret ${secretId}`, { certificate: cert.id });
    return { arn: out.ARN ?? secretId, version: out.VersionId ?? token };
  }

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
    type: 'aws-secrets-manager',
    ref: secretId,
    readState: state.read,
    writeState: state.write,

    async read(signal) {
      let out: GetSecretValueCommandOutput;
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal });
      } catch (error) {
        if (is(error, 'ResourceNotFoundException')) return { kind: 'missing' };
        throw storeError(`cannot read ${secretId}`, error);
      }
      const unreadable = (reason: string): ReadResult => ({
        kind: 'unreadable',
        reason: `secrets-manager: ${secretId}: ${reason}`,
      });
      if (out.SecretString === undefined) return unreadable('holds binary data, not certkeeper/v1 JSON');
      const parsed = parseJson(out.SecretString);
      if (!parsed.ok) return unreadable('not JSON');
      const invalid = invalidStored(parsed.value);
      if (invalid) return unreadable(invalid);
      const certificate = parsed.value as StoredCertificate;
      if (certificate.id !== certId) return unreadable(`holds certificate "${certificate.id}", not "${certId}"`);
      return { kind: 'found', certificate, ...(out.VersionId ? { version: out.VersionId } : {}) };
    },

    async write(cert, signal): Promise<WriteResult> {
      const body = JSON.stringify(cert);
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_SECRET_BYTES) {
        throw new StoreError(
          `secrets-manager: certificate ${cert.id} is ${bytes} bytes as JSON, over the ${MAX_SECRET_BYTES}-byte SecretString limit`,
          { hint: 'fewer domains per certificate, or an EC key (smaller than RSA)' },
        );
      }
      const tags = tagList(config, {
        'certkeeper:id': cert.id,
        'certkeeper:not-after': cert.notAfter,
        'certkeeper:domains': domainsTagValue(cert.domains),
      });
      let token = versionToken(cert.serialNumber);
      let written: { arn: string; version: string };
      try {
        try {
          written = await put(body, token, signal);
        } catch (error) {
          if (is(error, 'ResourceNotFoundException')) {
            try {
              written = await create(cert, body, token, tags, signal);
            } catch (createError) {
              // Another run created it between our two calls: a plain new version then.
              if (!is(createError, 'ResourceExistsException')) throw createError;
              written = await put(body, token, signal);
            }
          } else if (is(error, 'ResourceExistsException')) {
            // This serial is stored already with other content (e.g. a rewrite after an export
            // added its ARN): a new version, with a token that still makes this rewrite idempotent.
            token = `ck-${sha256(`${cert.serialNumber.toLowerCase()}\n${sha256(body)}`).slice(0, 61)}`;
            written = await put(body, token, signal);
          } else {
            throw error;
          }
        }
      } catch (error) {
        throw storeError(`cannot write ${secretId}`, error);
      }
      try {
        await client.send(new TagResourceCommand({ SecretId: written.arn, Tags: tags }), { abortSignal: signal });
      } catch (error) {
        // The new version is stored; the tags only describe it. Do not fail the renewal for them.
        logger.warn(`secrets-manager: stored ${secretId}, but could not update its tags: ${describeAwsError(error)}`);
      }
      logger.info(`secrets-manager: stored ${secretId} version ${written.version}`, {
        certificate: cert.id,
        serialNumber: cert.serialNumber,
      });
      return { ref: written.arn, version: written.version };
    },

    async acquireLease(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult> {
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
