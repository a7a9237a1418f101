/** Error classes of PRODUCT §3. Every error that leaves the core carries one. */
export type ErrorClass =
  | 'config'
  | 'acme-account'
  | 'acme-rate-limited'
  | 'acme-rejected'
  | 'dns-provider'
  | 'dns-propagation'
  | 'store'
  | 'hook'
  | 'network'
  | 'timeout'
  /** A defect in certkeeper (a TypeError, a broken invariant): never reported as `network`. */
  | 'internal';

export interface ErrorInfo {
  class: ErrorClass;
  message: string;
  hint?: string;
  /** ISO time, for `acme-rate-limited`. */
  retryAfter?: string;
}

export class CertkeeperError extends Error {
  readonly errorClass: ErrorClass;
  readonly hint: string | undefined;
  constructor(errorClass: ErrorClass, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CertkeeperError';
    this.errorClass = errorClass;
    this.hint = options?.hint;
  }
}

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends CertkeeperError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('config', issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'), {
      ...options,
      hint: 'fix the configuration; `certkeeper check-config` validates it without any network call',
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export class AcmeError extends CertkeeperError {
  /** The RFC 8555 problem type, e.g. `urn:ietf:params:acme:error:rateLimited`. */
  readonly problemType: string | undefined;
  readonly retryAfter: Date | undefined;
  readonly status: number | undefined;
  /** `account`: a rate limit on the whole account (new orders), not on this certificate's names. */
  readonly limitScope: 'account' | undefined;
  constructor(
    errorClass: ErrorClass,
    message: string,
    options?: {
      cause?: unknown;
      hint?: string;
      problemType?: string;
      retryAfter?: Date;
      status?: number;
      limitScope?: 'account';
    },
  ) {
    super(errorClass, message, options);
    this.name = 'AcmeError';
    this.problemType = options?.problemType;
    this.retryAfter = options?.retryAfter;
    this.status = options?.status;
    this.limitScope = options?.limitScope;
  }
}

export class DnsProviderError extends CertkeeperError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('dns-provider', message, options);
    this.name = 'DnsProviderError';
  }
}

export class PropagationError extends CertkeeperError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('dns-propagation', message, options);
    this.name = 'PropagationError';
  }
}

export class StoreError extends CertkeeperError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('store', message, options);
    this.name = 'StoreError';
  }
}

export class HookError extends CertkeeperError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('hook', message, options);
    this.name = 'HookError';
  }
}

export class TimeoutError extends CertkeeperError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('timeout', message, options);
    this.name = 'TimeoutError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** Classify anything thrown into the PRODUCT §3 shape. Messages are kept short and key-free. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof AcmeError) {
    return {
      class: error.errorClass,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.retryAfter ? { retryAfter: error.retryAfter.toISOString() } : {}),
    };
  }
  if (error instanceof CertkeeperError) {
    return { class: error.errorClass, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return {
      class: 'network',
      message: (error as Error).message,
      hint: 'check connectivity to the ACME CA, DNS provider and store',
    };
  }
  if ((error as Error | null)?.name === 'AbortError' || (error as Error | null)?.name === 'TimeoutError') {
    return { class: 'timeout', message: (error as Error).message };
  }
  // Anything else is a defect of ours, not the network's (PRODUCT §3); callers log the stack.
  return {
    class: 'internal',
    message: `internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    hint: 'this is a bug in certkeeper; the debug log (--verbose) has the stack; please report it',
  };
}

/** True when `error` (or a cause) is a network-level failure worth retrying. */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code) && !code.includes('CERT')) return true;
  }
  return false;
}
