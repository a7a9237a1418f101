import * as core from '@actions/core';
import type { Logger } from '../../ports/logger.js';

/**
 * The Logger port over @actions/core, for the GitHub Action. Lines go to the job log; the runner
 * timestamps them, so none is added here. Warnings and errors stay plain log lines: the Action
 * turns each result's warnings and failures into annotations once, from the report, and a
 * `::warning::` per log line would show the same problem twice.
 */
export function actionsLogger(fields: Record<string, unknown> = {}): Logger {
  const line = (message: string, extra?: Record<string, unknown>) => {
    // The certificate id already starts every core message; repeating it as a field is noise.
    const all: Record<string, unknown> = { ...fields, ...extra };
    delete all.certificate;
    const kv = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return kv ? `${message}  ${kv}` : message;
  };
  return {
    debug: (m, f) => core.debug(line(m, f)),
    info: (m, f) => core.info(line(m, f)),
    warn: (m, f) => core.info(`warning: ${line(m, f)}`),
    error: (m, f) => core.info(`error: ${line(m, f)}`),
    child: (more) => actionsLogger({ ...fields, ...more }),
  };
}
