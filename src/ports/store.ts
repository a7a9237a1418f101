import * as z from 'zod';
import type { TxtRecord } from './dns.js';
import type { ErrorClass } from './errors.js';

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
  /** `import`: adopted from another tool (PRODUCT §6); runId is then `<tool>:<path>`. */
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

/** Failed renewal attempts of one certificate since its last success (PRODUCT §3 failure backoff). */
export interface FailureState {
  /** Failed attempts in a row. */
  count: number;
  lastClass: ErrorClass;
  /** The last error's message, short and key-free (a store may shorten it further). */
  lastMessage: string;
  /** ISO times. */
  lastAttempt: string;
  /** No attempt before this (the backoff step, or the CA's Retry-After for `acme-rate-limited`). */
  nextAttempt: string;
}

/** The CA's renewal window (RFC 9773) for one certificate, as last fetched, and the time drawn in it. */
export interface AriState {
  /** The RFC 9773 id of the certificate the window belongs to: a state for another one is stale. */
  certId: string;
  /** ISO times: the suggested window, the time drawn in it once, and when to ask the CA again. */
  start: string;
  end: string;
  selected: string;
  explanationURL?: string;
  nextFetch: string;
}

/** What a certificate's store keeps beside the certificate and its lease (PRODUCT §3). */
export interface RenewalState {
  failures?: FailureState;
  ari?: AriState;
}

/**
 * A write of some parts of the state: a part given replaces the stored one (`null` removes it), a
 * part absent is left as it is. The parts have separate writers: `failures` only the lease holder
 * (after its attempt), `ari` any run that refreshed the window. A store must never lose one part
 * to a concurrent write of the other; within a part the last writer wins: lease holders are one at
 * a time, and any freshly fetched window with its own draw is as good as another.
 */
export interface RenewalStatePatch {
  failures?: FailureState | null;
  ari?: AriState | null;
}

export interface CertificateStore {
  readonly type: string;
  /** Human/store reference, e.g. the secret id or directory. */
  readonly ref: string;
  read(signal?: AbortSignal): Promise<ReadResult>;
  /** Writes a new version atomically: all of it or none of it. */
  write(certificate: StoredCertificate, signal?: AbortSignal): Promise<WriteResult>;
  acquireLease(owner: string, ttlMs: number, onBreak: BreakLease): Promise<AcquireResult>;
  /** The renewal state; `{}` when none is kept. A part that does not parse is left out. */
  readState(signal?: AbortSignal): Promise<RenewalState>;
  writeState(patch: RenewalStatePatch, signal?: AbortSignal): Promise<void>;
}

/** The ACME account, one per directory URL, kept in the first certificate's store kind. */
export interface AcmeAccount {
  directoryUrl: string;
  accountUrl: string;
  /** PKCS#8 PEM. */
  accountKey: string;
  createdAt: string;
}

/** `acme.orderBudget`: at most `orders` new orders in any window of `perMs` (a sliding window). */
export interface OrderBudget {
  orders: number;
  perMs: number;
}

export interface OrderReservation {
  /** Orders this reservation may place (0 when the budget is spent). */
  granted: number;
  /** Orders counted in the window, this reservation included. */
  used: number;
  /** ISO: when the oldest counted order leaves the window (set when the budget is full). */
  freesAt?: string;
  /** Names the reservation for `releaseOrders`; absent when nothing was granted. */
  id?: string;
}

export interface AccountStore {
  readonly ref: string;
  load(directoryUrl: string): Promise<AcmeAccount | null>;
  save(account: AcmeAccount): Promise<void>;
  /**
   * Reserves up to `want` new orders on the directory's account within `budget`, counted with the
   * account so that every run and fleet worker draws on one budget (PRODUCT §3). Correct under
   * concurrent reservations from several processes: the sum granted never exceeds the budget.
   */
  reserveOrders(directoryUrl: string, want: number, budget: OrderBudget, owner: string): Promise<OrderReservation>;
  /** Gives back `count` orders of a reservation that were not placed after all. */
  releaseOrders(directoryUrl: string, reservationId: string, count: number): Promise<void>;
  /**
   * Orders counted in the budget's current window, read without reserving or writing anything
   * (the doctor's `limits` check). `freesAt`: when the oldest counted order leaves the window.
   */
  ordersInWindow?(directoryUrl: string, budget: OrderBudget): Promise<{ used: number; freesAt?: string }>;
}

/** `<host>` or `<host>_<port>` when the port is not 443 (PRODUCT §2). */
export function accountName(directoryUrl: string): string {
  const url = new URL(directoryUrl);
  const port = url.port && url.port !== '443' ? `_${url.port}` : '';
  return `${url.hostname}${port}`;
}

const ERROR_CLASSES: ReadonlySet<string> = new Set<ErrorClass>([
  'config',
  'acme-account',
  'acme-rate-limited',
  'acme-rejected',
  'dns-provider',
  'dns-propagation',
  'store',
  'hook',
  'network',
  'timeout',
  'internal',
]);

const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** A stored failure state, or undefined when `value` is not one (a store never fails a run on it). */
export function parseFailureState(value: unknown): FailureState | undefined {
  const v = value as Partial<FailureState> | null;
  if (typeof v !== 'object' || v === null) return undefined;
  if (typeof v.count !== 'number' || !Number.isInteger(v.count) || v.count < 1) return undefined;
  if (typeof v.lastClass !== 'string' || !ERROR_CLASSES.has(v.lastClass)) return undefined;
  if (!isTime(v.lastAttempt) || !isTime(v.nextAttempt)) return undefined;
  return {
    count: v.count,
    lastClass: v.lastClass,
    lastMessage: typeof v.lastMessage === 'string' ? v.lastMessage : '',
    lastAttempt: v.lastAttempt,
    nextAttempt: v.nextAttempt,
  };
}

/** A stored ARI state, or undefined when `value` is not one. */
export function parseAriState(value: unknown): AriState | undefined {
  const v = value as Partial<AriState> | null;
  if (typeof v !== 'object' || v === null) return undefined;
  if (typeof v.certId !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(v.certId)) return undefined;
  if (!isTime(v.start) || !isTime(v.end) || !isTime(v.selected) || !isTime(v.nextFetch)) return undefined;
  return {
    certId: v.certId,
    start: v.start,
    end: v.end,
    selected: v.selected,
    ...(typeof v.explanationURL === 'string' && v.explanationURL ? { explanationURL: v.explanationURL } : {}),
    nextFetch: v.nextFetch,
  };
}
