import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type Tag,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { StoreError } from '../../../ports/errors.js';
import {
  type CertificateStore,
  invalidStoredCertificate,
  type ReadResult,
  type StoredCertificate,
  type WriteResult,
} from '../../../ports/store.js';
import { describeAwsError } from '../../aws/errors.js';
import {
  clientFor,
  domainsTagValue,
  is,
  MAX_SECRET_BYTES,
  parseJson,
  type SecretsManagerDeps,
  type SecretsManagerStoreConfig,
  sha256,
  storeError,
  tagList,
  versionToken,
} from './common.js';
import { createSecretsManagerLease } from './lease.js';
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

export function createSecretsManagerStore(
  certId: string,
  config: SecretsManagerStoreConfig,
  deps: SecretsManagerDeps,
): CertificateStore {
  const client = clientFor(config, deps);
  const { logger, clock } = deps;
  const secretId = config.secretId ?? `certkeeper/${certId}`;
  const kms = config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {};
  const leases = createSecretsManagerLease({ client, secretId, certId, config, logger, clock });
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
      const invalid = invalidStoredCertificate(parsed.value);
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

    acquireLease: (owner, ttlMs, onBreak) => leases.acquire(owner, ttlMs, onBreak),
  };
}
