/**
 * Logging port. Messages never carry key material: callers pass identifiers, names and
 * public values only. `fields` is structured context (certificate id, record names, …).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry these fields too (e.g. `{ certificate: id }`). */
  child(fields: Record<string, unknown>): Logger;
}
