import { ConfigError, type ConfigIssue } from '../../ports/errors.js';

export interface RunRequest {
  /** `run` (default) or `report` (PRODUCT §4, §7). */
  command: 'run' | 'report';
  dryRun: boolean;
  force: boolean;
  only: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The run options an invocation carries (PRODUCT §4): `dryRun`, `force`, `only`, at the event's
 * top level (EventBridge Scheduler passes its target Input as the event) or in `detail` (an
 * EventBridge rule's envelope). The top level wins. Every other field is the envelope's business
 * and ignored; a known field of the wrong type is an error, since guessing could renew (or skip)
 * what the caller did not mean.
 */
export function parseEvent(event: unknown): RunRequest {
  const top = isObject(event) ? event : {};
  const detail = isObject(top.detail) ? top.detail : {};
  const pick = (key: string): { value: unknown; path: string } =>
    key in top && top[key] !== undefined
      ? { value: top[key], path: `event.${key}` }
      : { value: detail[key], path: `event.detail.${key}` };

  const issues: ConfigIssue[] = [];
  const bool = (key: string): boolean => {
    const { value, path } = pick(key);
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    issues.push({ path, message: 'must be true or false' });
    return false;
  };
  const only = (): string[] => {
    const { value, path } = pick('only');
    if (value === undefined || value === null) return [];
    if (typeof value === 'string')
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      return value.map((s) => s.trim()).filter(Boolean);
    issues.push({ path, message: 'must be a list of certificate ids or a comma-separated string' });
    return [];
  };
  const command = (): RunRequest['command'] => {
    const { value, path } = pick('command');
    if (value === undefined || value === null || value === 'run') return 'run';
    if (value === 'report') return 'report';
    issues.push({ path, message: 'must be "run" or "report"' });
    return 'run';
  };
  const request = { command: command(), dryRun: bool('dryRun'), force: bool('force'), only: only() };
  if (issues.length) throw new ConfigError(issues);
  return request;
}
