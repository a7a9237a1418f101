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
  };
}

/** A deploy hook. Receives the event; only `command` hooks ever see key material (through files). */
export interface DeployHook {
  readonly type: string;
  readonly on: readonly ('renewed' | 'failed' | 'warning')[];
  run(event: CertificateEvent, context: HookContext, signal?: AbortSignal): Promise<HookOutcome>;
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
