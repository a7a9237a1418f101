import { Webhook } from 'standardwebhooks';
import type { Clock } from '../../../ports/clock.js';
import { formatDuration } from '../../../ports/duration.js';
import { HookError } from '../../../ports/errors.js';
import type { CertificateEvent, DeployHook, HookOutcome } from '../../../ports/hooks.js';
import { assertNoKeyMaterial } from '../../../ports/hooks.js';
import type { Logger } from '../../../ports/logger.js';
import { retry } from '../../../ports/retry.js';
import { isLoopbackHost } from '../../../ports/schema.js';
import { errorMessage, redactUrl, snippet, withTimeout } from '../common.js';
import type { WebhookConfig } from './descriptor.js';

export interface WebhookDeps {
  logger: Logger;
  /** Waits between tries go through the clock so tests never really wait. */
  clock: Clock;
  fetch?: typeof fetch;
}

const TRIES = 3;
/** Wait before try 2 and try 3. */
const BACKOFF_MS = [1_000, 4_000] as const;
/** A receiver's Retry-After is honoured up to this, so one slow receiver cannot hold the run for long. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * POSTs the event as JSON, signed per the Standard Webhooks spec (https://www.standardwebhooks.com):
 * `webhook-id` is the event id and stays the same across tries so receivers can de-duplicate,
 * `webhook-timestamp` is the time of each try, `webhook-signature` is `v1,<base64 HMAC-SHA256>`
 * of `id.timestamp.body`.
 */
export function createWebhookHook(config: WebhookConfig, deps: WebhookDeps): DeployHook {
  const url = checkUrl(config.url);
  const where = redactUrl(url);
  const timeoutMs = config.timeout;
  const signer = config.secret === undefined ? undefined : createSigner(config.secret);
  const doFetch = deps.fetch ?? fetch;
  const log = deps.logger.child({ hook: 'webhook', url: where });

  return {
    type: 'webhook',
    on: config.on,
    async run(event: CertificateEvent, _context, signal?: AbortSignal): Promise<HookOutcome> {
      assertNoKeyMaterial(event, 'webhook');
      const body = JSON.stringify(event);
      /** A try that may be retried: 5xx/429/408, a timeout, a dropped connection. */
      class RetryableTry extends Error {
        constructor(
          message: string,
          readonly retryAfterMs: number,
          options?: { cause?: unknown },
        ) {
          super(message, options);
        }
      }
      try {
        return await retry(
          async (attempt) => {
            const now = deps.clock.now();
            const headers: Record<string, string> = {
              'content-type': 'application/json',
              'user-agent': 'certkeeper',
              'webhook-id': event.id,
              'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            };
            if (signer) headers['webhook-signature'] = signer.sign(event.id, now, body);
            let response: Response;
            try {
              response = await doFetch(url, {
                method: 'POST',
                headers,
                body,
                // A redirect would re-send (or drop) the signed body to a host nobody configured.
                redirect: 'manual',
                signal: withTimeout(timeoutMs, signal),
              });
            } catch (error) {
              // The run itself was cancelled: stop, do not retry.
              if (signal?.aborted)
                throw new HookError(`webhook: cancelled while sending to ${where}`, { cause: error });
              const timedOut = (error as Error | null)?.name === 'TimeoutError';
              throw new RetryableTry(
                timedOut ? `no answer within ${formatDuration(timeoutMs)}` : errorMessage(error),
                0,
                {
                  cause: error,
                },
              );
            }
            const text = await response.text().catch(() => '');
            if (response.status >= 200 && response.status < 300) {
              log.info('webhook delivered', { status: response.status, attempt });
              return { status: 'ok' as const, message: `delivered to ${where} (HTTP ${response.status})` };
            }
            if (response.status >= 300 && response.status < 400) {
              throw new HookError(
                `webhook: ${where} answered HTTP ${response.status} (redirect); redirects are not followed`,
                { hint: 'configure the final URL of the receiver' },
              );
            }
            const detail = `HTTP ${response.status}${text ? `: ${snippet(text)}` : ''}`;
            if (!isRetryableStatus(response.status)) {
              throw new HookError(`webhook: ${where} rejected the event (${detail})`, {
                hint: response.status === 401 || response.status === 403 ? 'check the webhook secret' : undefined,
              });
            }
            throw new RetryableTry(detail, parseRetryAfter(response.headers.get('retry-after'), now));
          },
          {
            clock: deps.clock,
            tries: TRIES,
            backoff: BACKOFF_MS,
            maxAfterMs: MAX_RETRY_AFTER_MS,
            ...(signal ? { signal } : {}),
            retryable: (error) => (error instanceof RetryableTry ? { afterMs: error.retryAfterMs } : false),
            onRetry: (error, attempt, waitMs) =>
              log.warn('webhook try failed; retrying', { attempt, error: (error as Error).message, waitMs }),
          },
        );
      } catch (error) {
        if (!(error instanceof RetryableTry)) throw error;
        throw new HookError(`webhook: ${where} failed after ${TRIES} tries: ${error.message}`, {
          cause: error.cause,
          hint: 'the receiver was unreachable or answered 5xx/429 each time',
        });
      }
    },
  };
}

function checkUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new HookError('webhook: url is not a valid URL', { cause: error });
  }
  // Config validation enforces this too; checked again because the hook also gets built from
  // code paths (Action shortcut inputs, tests) and the event must never travel in clear text.
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  throw new HookError(`webhook: ${redactUrl(url)} must use https (http only for loopback hosts)`);
}

/**
 * `whsec_<base64>` is the Standard Webhooks secret format; any other secret is used as its raw
 * UTF-8 bytes, as receivers that predate the spec (GitHub-style HMAC secrets) expect.
 */
function createSigner(secret: string): Webhook {
  try {
    return secret.startsWith('whsec_')
      ? new Webhook(secret)
      : new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
  } catch (error) {
    // The library's message never echoes the secret, but ours is written to be sure.
    throw new HookError('webhook: secret starts with "whsec_" but the rest is not valid base64', {
      cause: error instanceof Error ? new Error(error.message) : undefined,
    });
  }
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function parseRetryAfter(value: string | null, now: Date): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now.getTime());
}
