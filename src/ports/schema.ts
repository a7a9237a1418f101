import * as z from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';

/**
 * zod building blocks shared by the core's config schema and the adapters' option shapes, so a
 * duration, a "host:port" or a URL is validated (and its message worded) the same everywhere.
 * Durations parse once, here: the parsed config holds milliseconds.
 */

export const DURATION_HELP = 'a duration like "90s", "10m", "2h" or "30d"';

/** "90s" → 90000. `abort` on the format check: a malformed value gets one message, not two. */
export function duration(what: string) {
  return z
    .string()
    .regex(DURATION_PATTERN, { error: `${what} must be ${DURATION_HELP}`, abort: true })
    .refine((s) => (parseDuration(s) ?? 0) > 0, { error: `${what} must be greater than zero` })
    .transform((s) => parseDuration(s) as number);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** A URL; https unless `httpsUnlessLoopback` lets loopback hosts use http (tests, local servers). */
export function httpUrl(what: string, opts: { httpsUnlessLoopback: boolean }) {
  return z.string().superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} is not a valid URL` });
      return;
    }
    if (u.protocol === 'https:') return;
    if (u.protocol === 'http:' && (!opts.httpsUnlessLoopback || isLoopbackHost(u.hostname))) return;
    ctx.addIssue({
      code: 'custom',
      message: `${what} must use https${opts.httpsUnlessLoopback ? ' (http only for loopback hosts)' : ''}`,
    });
  });
}

export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, {
    error: 'must be "host:port" (IPv6 as "[::1]:53")',
    abort: true,
  })
  .refine(
    (s) => {
      const port = Number(s.slice(s.lastIndexOf(':') + 1));
      return port > 0 && port < 65536;
    },
    { error: 'port must be between 1 and 65535' },
  );

/** `${env:NAME}` anywhere in a string (config syntax, substituted before validation). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
export const ENV_REF_EXAMPLE = '${env:NAME}';
export const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
export const ENV_REF_ONLY = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;
