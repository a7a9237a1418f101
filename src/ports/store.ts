import * as z from 'zod';
import type { TxtRecord } from './dns.js';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

/**
 * The stored formats as zod schemas, so every store validates what it reads the same way (and
 * says what is wrong without quoting the content, which holds a private key).
 */

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'is not a date' });

export const issuedBySchema = z.looseObject({
  via: z.string(),
  runId: z.string(),
  repository: z.string().optional(),
});

export interface IssuedBy {
  via: 'github-action' | 'lambda' | 'cli' | 'import';
  runId: string;
  repository?: string;
}

/** The stored format `certkeeper/v1` (PRODUCT §2). Unknown fields are kept (a newer certkeeper may add some). */
export const storedCertificateSchema = z.looseObject({
  format: z.literal('certkeeper/v1'),
  id: z.string(),
  domains: z.array(z.string()),
  certificate: z.string(),
  chain: z.string(),
  fullchain: z.string(),
  privateKey: z.string(),
  keyType: z.string(),
  serialNumber: z.string(),
  notBefore: isoDate,
  notAfter: isoDate,
  issuer: z.string(),
  issuedAt: isoDate,
  issuedBy: issuedBySchema,
  exports: z.record(z.string(), z.string()).optional(),
});

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

/**
 * Why `value` is not a certkeeper/v1 certificate (one short reason, never echoing content), or
 * undefined when it is one. `metaOnly`: the PEM fields live elsewhere (the file store's files).
 */
export function invalidStoredCertificate(value: unknown, opts: { metaOnly?: boolean } = {}): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const format = (value as { format?: unknown }).format;
  if (format !== 'certkeeper/v1') {
    return typeof format === 'string'
      ? `unknown format "${format.slice(0, 40)}"`
      : 'no "format": not a certkeeper secret';
  }
  const schema = opts.metaOnly
    ? storedCertificateSchema.omit({ certificate: true, chain: true, fullchain: true, privateKey: true })
    : storedCertificateSchema;
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const key = String(issue.path[0] ?? '');
  if (key === 'domains') return '"domains" is not a list of names';
  if (key === 'issuedBy') return '"issuedBy" is missing';
  if (issue.message === 'is not a date') return `"${key}" is not a date`;
  return `"${key}" is missing or not a string`;
}

export const leaseStateSchema = z.object({
  owner: z.string(),
  expiresAt: isoDate,
  records: z
    .array(z.unknown())
    .optional()
    .transform((rs) =>
      (rs ?? []).filter(
        (r): r is TxtRecord =>
          typeof (r as TxtRecord)?.name === 'string' && typeof (r as TxtRecord)?.value === 'string',
      ),
    ),
});

/** A lease as stored, or undefined when it is not one (garbage, half-written, another format). */
export function parseLeaseState(value: unknown): LeaseState | undefined {
  const r = leaseStateSchema.safeParse(value);
  return r.success ? { owner: r.data.owner, expiresAt: r.data.expiresAt, records: r.data.records } : undefined;
}

export const acmeAccountSchema = z.looseObject({
  directoryUrl: z.string(),
  accountUrl: z.string().min(1),
  accountKey: z.string().min(1),
  createdAt: z.string().optional(),
});

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
