import type { ConfigIssue } from '../../ports/errors.js';
import { ENV_REF } from '../../ports/schema.js';
import { formatPath } from './paths.js';

/**
 * Replaces `${env:NAME}` in every string; a reference to an unset variable is a config issue
 * (named by the path of the string that references it). `used` collects value → variable name,
 * so messages can be scrubbed of substituted values.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
  path: PropertyKey[] = [],
  used?: Map<string, string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      }
      used?.set(v, name);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, issues, [...path, i], used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, issues, [...path, k], used)]),
    );
  }
  return value;
}

/** Substituted values shorter than this are not scrubbed from messages (they would match everywhere). */
const MIN_SCRUB_LENGTH = 4;

/** Replaces every substituted environment value in a message by its `${env:NAME}` reference. */
export function scrubIssue(issue: ConfigIssue, usedEnv: Map<string, string>): ConfigIssue {
  let message = issue.message;
  // Longest first, so a value containing another is replaced whole.
  const values = [...usedEnv.keys()].filter((v) => v.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  for (const v of values) message = message.split(v).join(`\${env:${usedEnv.get(v)}}`);
  return message === issue.message ? issue : { path: issue.path, message };
}
