import { randomUUID as nodeRandomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import { HookError } from '../ports/errors.js';
import type { CertificateEvent, EventType } from '../ports/hooks.js';

export interface BuildEventDeps {
  clock: Clock;
  /** Injected so tests get stable ids; the id doubles as the webhook-id, so it must be unique per event. */
  randomUUID?: () => string;
}

/**
 * The PRODUCT §2 event: one fresh id and the clock's time, data as given. It does not check for key
 * material itself: `runHooks` and every sending hook call `assertNoKeyMaterial` at the point of sending.
 */
export function buildEvent(type: EventType, data: CertificateEvent['data'], deps: BuildEventDeps): CertificateEvent {
  const id = (deps.randomUUID ?? nodeRandomUUID)();
  return { type, id, timestamp: deps.clock.now().toISOString(), data };
}

/** Which `on:` selector of a hook receives an event type (PRODUCT §2 Hooks). */
export const EVENT_KIND: Record<EventType, 'renewed' | 'failed' | 'warning'> = {
  'certificate.renewed': 'renewed',
  'certificate.renewal_failed': 'failed',
  'certificate.expiring': 'warning',
};

const MARKER = 'PRIVATE KEY';

/**
 * Throws when any string (or key) inside `value` contains "PRIVATE KEY". Called on every event
 * before it leaves the process: a PEM pasted into an error message (an SDK echoing a request, a
 * user's mistake in config) must stop here rather than reach a webhook receiver or a log.
 * The error names where it was found, never the value.
 */
export function assertNoKeyMaterial(value: unknown, label = 'event'): void {
  const where = findKeyMaterial(value, '', new Set());
  if (where !== undefined) {
    throw new HookError(`${label}: refusing to send private key material (found at ${where || 'top level'})`, {
      hint: 'events carry public data only; this is a bug — please report it without the value',
    });
  }
}

function findKeyMaterial(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'string') return value.toUpperCase().includes(MARKER) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findKeyMaterial(value[i], `${path}[${i}]`, seen);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1').includes(MARKER)
      ? path
      : undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.toUpperCase().includes(MARKER)) return childPath;
    const hit = findKeyMaterial(child, childPath, seen);
    if (hit !== undefined) return hit;
  }
  return undefined;
}
