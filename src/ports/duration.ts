const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** "90s", "10m", "2h", "30d" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

export function formatDuration(ms: number): string {
  if (ms % UNITS.d! === 0) return `${ms / UNITS.d!}d`;
  if (ms % UNITS.h! === 0) return `${ms / UNITS.h!}h`;
  if (ms % UNITS.m! === 0) return `${ms / UNITS.m!}m`;
  if (ms % UNITS.s! === 0) return `${ms / UNITS.s!}s`;
  return `${ms}ms`;
}
