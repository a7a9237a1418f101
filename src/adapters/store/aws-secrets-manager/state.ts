import {
  CreateSecretCommand,
  DescribeSecretCommand,
  type SecretsManagerClient,
  type Tag,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { StoreError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import {
  type AriState,
  type FailureState,
  parseAriState,
  parseFailureState,
  type RenewalState,
  type RenewalStatePatch,
} from '../../../ports/store.js';
import { awsErrorName, awsHint, describeAwsError } from '../../aws/errors.js';

/**
 * The renewal state of the Secrets Manager store (PRODUCT §3), kept as tags on the certificate's
 * own secret (`certkeeper:failures`, `certkeeper:ari-selected`, …). Weighed against a
 * `<secretId>.state` secret:
 * - cost: a secret is $0.40 a month, so a state secret would double what each certificate costs;
 *   tags are free, and reading them is one DescribeSecret per run;
 * - write rate: AWS advises at most one PutSecretValue per secret per 10 minutes (each makes a
 *   version; more than 100 within 24 h reach the version quota). Failure backoff starts at 1 minute
 *   and the window can be refetched hourly, so a state secret would approach that advice; tags
 *   make no versions, and never move AWSCURRENT or wake whatever watches the certificate's
 *   PutSecretValue events;
 * - concurrency: TagResource sets the keys it is given and leaves the others, so the failure part
 *   (written by the lease holder) and the ARI part (by any run that refreshed the window) never
 *   overwrite each other; within a part the last writer wins (see RenewalStatePatch). A state secret
 *   would have allowed a compare-and-swap, which nothing here needs;
 * - limits: 50 tags per secret (certkeeper uses 14, leaving 36 for `tags:`); values of at most 256
 *   letters, digits, spaces and `_ . : / = + - @`: ISO times and ARI ids fit as they are, an error
 *   message is cut and its other characters become spaces, an explanationURL that does not fit is
 *   kept base64url-encoded (`b64:…`), and dropped (logged) when even that is too long.
 * A part is removed by writing its tags empty, so no UntagResource permission is needed. When no
 * certificate is stored yet (a first issuance that keeps failing), the secret is created without a
 * value: reading it is then still "missing" (GetSecretValue finds no AWSCURRENT), and the first
 * certificate becomes its first version.
 */

const TAGS = {
  failures: {
    count: 'certkeeper:failures',
    lastClass: 'certkeeper:last-class',
    lastMessage: 'certkeeper:last-message',
    lastAttempt: 'certkeeper:last-attempt',
    nextAttempt: 'certkeeper:next-attempt',
  },
  ari: {
    certId: 'certkeeper:ari-cert-id',
    start: 'certkeeper:ari-start',
    end: 'certkeeper:ari-end',
    selected: 'certkeeper:ari-selected',
    nextFetch: 'certkeeper:ari-next-fetch',
    explanationURL: 'certkeeper:ari-explanation',
  },
} as const;

/** Tag values: 256 characters per the API, 255 in the tagging guide; stay within both. */
const MAX_TAG_VALUE = 255;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const NOT_TAG_CHARS = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]+/gu;

/** Free text as a tag value: other characters become spaces, cut to the limit. */
export function textTagValue(text: string): string {
  return text.replace(NOT_TAG_CHARS, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_TAG_VALUE);
}

/** A URL as a tag value: as it is when it fits, else base64url behind `b64:`; undefined when neither fits. */
export function urlTagValue(url: string): string | undefined {
  if (url.length <= MAX_TAG_VALUE && TAG_CHARS.test(url) && !url.startsWith('b64:')) return url;
  const encoded = `b64:${Buffer.from(url, 'utf8').toString('base64url')}`;
  return encoded.length <= MAX_TAG_VALUE ? encoded : undefined;
}

function urlFromTag(value: string): string {
  return value.startsWith('b64:') ? Buffer.from(value.slice(4), 'base64url').toString('utf8') : value;
}

const is = (error: unknown, ...names: string[]) => names.includes(awsErrorName(error));

function stateError(what: string, error: unknown): StoreError {
  const hint = awsHint(error);
  return new StoreError(`secrets-manager: ${what}: ${describeAwsError(error)}`, {
    cause: error,
    ...(hint ? { hint } : {}),
  });
}

export interface SecretsManagerStateOptions {
  client: SecretsManagerClient;
  secretId: string;
  certId: string;
  kmsKeyId?: string;
  /** The user's tags, for a secret this state has to create. */
  userTags?: Record<string, string>;
  logger: Logger;
}

export function failureTags(failures: FailureState | null): Tag[] {
  const t = TAGS.failures;
  if (!failures) return Object.values(t).map((Key) => ({ Key, Value: '' }));
  return [
    { Key: t.count, Value: String(failures.count) },
    { Key: t.lastClass, Value: failures.lastClass },
    { Key: t.lastMessage, Value: textTagValue(failures.lastMessage) },
    { Key: t.lastAttempt, Value: failures.lastAttempt },
    { Key: t.nextAttempt, Value: failures.nextAttempt },
  ];
}

export function ariTags(ari: AriState | null, logger?: Logger): Tag[] {
  const t = TAGS.ari;
  if (!ari) return Object.values(t).map((Key) => ({ Key, Value: '' }));
  let explanation = '';
  if (ari.explanationURL) {
    explanation = urlTagValue(ari.explanationURL) ?? '';
    if (!explanation)
      logger?.warn(
        `secrets-manager: the CA's explanationURL is too long to keep (${ari.explanationURL.length} characters)`,
      );
  }
  return [
    { Key: t.certId, Value: ari.certId },
    { Key: t.start, Value: ari.start },
    { Key: t.end, Value: ari.end },
    { Key: t.selected, Value: ari.selected },
    { Key: t.nextFetch, Value: ari.nextFetch },
    { Key: t.explanationURL, Value: explanation },
  ];
}

/** The state the tags describe; a part whose tags do not parse is left out. */
export function stateFromTags(tags: Tag[]): RenewalState {
  const get = (key: string) => tags.find((tag) => tag.Key === key)?.Value ?? '';
  const f = TAGS.failures;
  const a = TAGS.ari;
  const failures = get(f.count)
    ? parseFailureState({
        count: Number(get(f.count)),
        lastClass: get(f.lastClass),
        lastMessage: get(f.lastMessage),
        lastAttempt: get(f.lastAttempt),
        nextAttempt: get(f.nextAttempt),
      })
    : undefined;
  const ari = get(a.certId)
    ? parseAriState({
        certId: get(a.certId),
        start: get(a.start),
        end: get(a.end),
        selected: get(a.selected),
        nextFetch: get(a.nextFetch),
        ...(get(a.explanationURL) ? { explanationURL: urlFromTag(get(a.explanationURL)) } : {}),
      })
    : undefined;
  return { ...(failures ? { failures } : {}), ...(ari ? { ari } : {}) };
}

export function createSecretsManagerState(options: SecretsManagerStateOptions) {
  const { client, secretId, logger } = options;
  return {
    async read(signal?: AbortSignal): Promise<RenewalState> {
      try {
        const out = await client.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal: signal });
        return stateFromTags(out.Tags ?? []);
      } catch (error) {
        if (is(error, 'ResourceNotFoundException')) return {};
        throw stateError(`cannot read the renewal state of ${secretId}`, error);
      }
    },

    async write(patch: RenewalStatePatch, signal?: AbortSignal): Promise<void> {
      const tags = [
        ...(patch.failures !== undefined ? failureTags(patch.failures) : []),
        ...(patch.ari !== undefined ? ariTags(patch.ari, logger) : []),
      ];
      if (tags.length === 0) return;
      const tag = () =>
        client.send(new TagResourceCommand({ SecretId: secretId, Tags: tags }), { abortSignal: signal });
      try {
        try {
          await tag();
        } catch (error) {
          if (!is(error, 'ResourceNotFoundException')) throw error;
          // Nothing stored yet: a secret without a value holds the state until the first certificate.
          try {
            const merged = { ...(options.userTags ?? {}), 'certkeeper:id': options.certId };
            await client.send(
              new CreateSecretCommand({
                Name: secretId,
                Description: `certkeeper: TLS certificate ${options.certId} (certkeeper/v1 JSON)`,
                Tags: [...Object.entries(merged).map(([Key, Value]) => ({ Key, Value })), ...tags],
                ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
              }),
              { abortSignal: signal },
            );
            logger.info(`secrets-manager: created secret ${secretId} (no certificate yet) for its renewal state`);
          } catch (createError) {
            // Created meanwhile (the certificate, or another run's state): tag it as it is.
            if (!is(createError, 'ResourceExistsException')) throw createError;
            await tag();
          }
        }
      } catch (error) {
        throw stateError(`cannot write the renewal state of ${secretId}`, error);
      }
    },
  };
}
