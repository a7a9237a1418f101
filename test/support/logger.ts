import type { Logger } from '../../src/ports/logger.js';

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

export type RecordingLogger = Logger & { lines: LogLine[]; text(): string };

/** The one recording logger of the suite: keeps every line, so tests can read what would have been printed. */
export function recordingLogger(lines: LogLine[] = []): RecordingLogger {
  const make = (base: Record<string, unknown>): RecordingLogger => {
    const at =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        lines.push({ level, message, fields: { ...base, ...fields } });
      };
    return {
      lines,
      text: () =>
        lines
          .map((l) => `${l.level} ${l.message} ${Object.keys(l.fields).length ? JSON.stringify(l.fields) : ''}`)
          .join('\n'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make({});
}
