import { ConfigError, type ConfigIssue } from '../../ports/errors.js';

/** The event's `command` (PRODUCT §4, §5, §7). */
export const LAMBDA_COMMANDS = ['run', 'doctor', 'report'] as const;

export interface RunRequest {
  /** `run` (default), `doctor` or `report`. */
  command: (typeof LAMBDA_COMMANDS)[number];
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
    if (value === undefined || value === null) return 'run';
    if ((LAMBDA_COMMANDS as readonly unknown[]).includes(value)) return value as RunRequest['command'];
    issues.push({ path, message: `must be ${LAMBDA_COMMANDS.map((c) => `"${c}"`).join(', ')}` });
    return 'run';
  };
  const request = { command: command(), dryRun: bool('dryRun'), force: bool('force'), only: only() };
  if (issues.length) throw new ConfigError(issues);
  return request;
}

/** The doctor's `probe` (PRODUCT §5), read where `parseEvent` reads the run options (top level, else `detail`). */
export function parseProbe(event: unknown): boolean {
  const top = isObject(event) ? event : {};
  const detail = isObject(top.detail) ? top.detail : {};
  const inTop = 'probe' in top && top.probe !== undefined;
  const value = inTop ? top.probe : detail.probe;
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ConfigError([{ path: inTop ? 'event.probe' : 'event.detail.probe', message: 'must be true or false' }]);
}
