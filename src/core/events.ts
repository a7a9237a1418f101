import { randomUUID as nodeRandomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
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
