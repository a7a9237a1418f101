import type { Logger } from '../../ports/logger.js';

/**
 * Human log lines for the CLI (stderr, so `--json` keeps stdout clean). Fields are printed as
 * key=value; callers never pass key material.
 */
export function consoleLogger(
  opts: { verbose?: boolean; write?: (line: string) => void; fields?: Record<string, unknown> } = {},
): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = opts.fields ?? {};
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    const all = { ...base, ...fields };
    delete (all as Record<string, unknown>).certificate;
    const extra = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const time = new Date().toISOString().slice(11, 19);
    write(`${time} ${level.padEnd(5)} ${message}${extra ? `  ${extra}` : ''}`);
  };
  return {
    debug: (m, f) => {
      if (opts.verbose) emit('debug', m, f);
    },
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => consoleLogger({ ...opts, write, fields: { ...base, ...fields } }),
  };
}
