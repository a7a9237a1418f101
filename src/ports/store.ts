import type { TxtRecord } from './dns.js';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export interface IssuedBy {
  /** `import`: adopted from another tool (PRODUCT §6); runId is then `<tool>:<path>`. */
  via: 'github-action' | 'lambda' | 'cli' | 'import';
  runId: string;
  repository?: string;
}

/** The stored format `certkeeper/v1` (PRODUCT §2). */
export interface StoredCertificate {
  format: 'certkeeper/v1';
  id: string;
  domains: string[];
  certificate: string;
  chain: string;
  fullchain: string;
  privateKey: string;
  keyType: KeyType;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  issuer: string;
  issuedAt: string;
  issuedBy: IssuedBy;
  exports?: Record<string, string>;
}

export type ReadResult =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'found'; certificate: StoredCertificate; version?: string };

export interface WriteResult {
  /** Store-specific reference (secret ARN, directory path). */
  ref: string;
  /** Version id (Secrets Manager VersionId; file store: the serial). */
  version: string;
}

/** What a lease holds (PRODUCT §3): its owner, expiry, and the TXT records its holder wrote. */
export interface LeaseState {
  owner: string;
  expiresAt: string;
  records: TxtRecord[];
}

export interface Lease {
  readonly state: LeaseState;
  /** Persist the records written so far (before writing them to DNS) and push the expiry out. */
  update(records: TxtRecord[], ttlMs: number): Promise<void>;
  extend(ttlMs: number): Promise<void>;
  release(): Promise<void>;
}

export type AcquireResult =
  | { kind: 'acquired'; lease: Lease; broken?: LeaseState }
  | { kind: 'locked'; holder: LeaseState };

/** Called when an expired lease is found, before it is taken: remove the records it lists. */
export type BreakLease = (stale: LeaseState) => Promise<void>;

export interface CertificateStore {
  readonly type: string;
  /** Human/store reference, e.g. the secret id or directory. */
  readonly ref: string;
  read(signal?: AbortSignal): Promise<ReadResult>;
  /** Writes a new version atomically: all of it or none of it. */
  write(certificate: StoredCertificate, signal?: AbortSignal): Promise<WriteResult>;
  acquireLease(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult>;
  /**
   * The renewal state kept beside the certificate (ARI window, failure count), for stores that
   * keep one. Optional: `report` shows what is there and falls back to the threshold without it.
   */
  readRenewalState?(signal?: AbortSignal): Promise<RenewalState | undefined>;
}

/** What a store may keep about a certificate's renewals besides the certificate itself (PRODUCT §3). */
export interface RenewalState {
  /** The CA's suggested window (RFC 9773) and the time drawn in it, ISO times. */
  ari?: { start: string; end: string; selected?: string; explanationURL?: string; retryAfter?: string };
  /** Failed attempts since the last success. */
  failures?: { count: number; lastClass: string; lastMessage?: string; lastAt: string; nextAttemptAt?: string };
}

/** The ACME account, one per directory URL, kept in the first certificate's store kind. */
export interface AcmeAccount {
  directoryUrl: string;
  accountUrl: string;
  /** PKCS#8 PEM. */
  accountKey: string;
  createdAt: string;
}

export interface AccountStore {
  readonly ref: string;
  load(directoryUrl: string): Promise<AcmeAccount | null>;
  save(account: AcmeAccount): Promise<void>;
}

/** `<host>` or `<host>_<port>` when the port is not 443 (PRODUCT §2). */
export function accountName(directoryUrl: string): string {
  const url = new URL(directoryUrl);
  const port = url.port && url.port !== '443' ? `_${url.port}` : '';
  return `${url.hostname}${port}`;
}
