export type { Env } from '../../ports/adapter.js';

/**
 * A URL as it may appear in logs and errors: scheme, host and port only. Webhook URLs often carry
 * their credential in the path or query (Slack, Teams, Discord "incoming webhook" URLs), and
 * PRODUCT §2 says secrets are never printed.
 */
export function redactUrl(url: URL): string {
  const more = url.pathname !== '/' || url.search !== '' ? '/…' : '';
  return `${url.protocol}//${url.host}${more}`;
}

/** The first `max` characters of an untrusted text, on one line, for an error message. */
export function snippet(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** `signal` and a timeout together; `AbortSignal.any` is in Node ≥ 20.3. */
export function withTimeout(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    // fetch() says only "fetch failed"; the reason (ECONNREFUSED, certificate errors…) is the cause.
    const cause = (error as { cause?: unknown }).cause;
    if (error.message === 'fetch failed' && cause instanceof Error) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}
