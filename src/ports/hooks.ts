import { HookError } from './errors.js';

export type EventType = 'certificate.renewed' | 'certificate.renewal_failed' | 'certificate.expiring';

export interface CertificateEvent {
  type: EventType;
  id: string;
  timestamp: string;
  data: {
    certificate: string;
    domains: string[];
    serialNumber?: string;
    notBefore?: string;
    notAfter?: string;
    previous?: { serialNumber: string; notAfter: string };
    store?: { type: string; ref: string; version?: string };
    error?: { class: string; message: string };
    /** The CA's renewal window (ARI), when it made the certificate due or is known for it. */
    renewalWindow?: { start: string; end: string; selected: string; explanationURL?: string };
  };
}

/** A deploy hook. Receives the event; only `command` hooks ever see key material (through files). */
export interface DeployHook {
  readonly type: string;
  readonly on: readonly ('renewed' | 'failed' | 'warning')[];
  /** Hands the hook the PEMs, private key included (the `command` hook); every other hook gets none. */
  readonly receivesKeyMaterial?: boolean;
  run(event: CertificateEvent, context: HookContext, signal?: AbortSignal): Promise<HookOutcome>;
  /**
   * What each endpoint the hook deploys to serves now, against the stored certificate (the
   * doctor's `endpoint` check): one look, no waiting, nothing changed. Hooks without endpoints
   * (webhooks, commands) have none.
   */
  inspect?(
    expected: { serialNumber: string; domains: readonly string[] },
    signal?: AbortSignal,
  ): Promise<EndpointState[]>;
}

/** One endpoint as `DeployHook.inspect` found it. */
export interface EndpointState {
  /** As configured, e.g. "example.com:443". */
  endpoint: string;
  /** The serial of the leaf it served (lowercase hex), when the handshake succeeded. */
  servedSerial?: string;
  /** True when that serial is the expected one. */
  serves: boolean;
  /** Why nothing could be read (connection refused, handshake timeout, …). */
  error?: string;
}

export interface HookContext {
  /** PEMs, for `command` hooks only. */
  readonly pems?: { certificate: string; chain: string; fullchain: string; privateKey: string };
}

export interface HookOutcome {
  /** `warning` e.g. for verify-endpoint "renewed but not served". */
  status: 'ok' | 'warning';
  message?: string;
}

/** Which `on:` selector of a hook receives an event type (PRODUCT §2 Hooks). */
export const EVENT_KIND: Record<EventType, 'renewed' | 'failed' | 'warning'> = {
  'certificate.renewed': 'renewed',
  'certificate.renewal_failed': 'failed',
  'certificate.expiring': 'warning',
};

/** What every PEM private key's label ends with (PKCS#8, SEC1 `EC`, PKCS#1 `RSA`, `ENCRYPTED`). */
export const KEY_PEM_LABEL = 'PRIVATE KEY';
const MARKER = KEY_PEM_LABEL;

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
