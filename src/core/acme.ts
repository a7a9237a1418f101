import acmeAxios from 'acme-client/src/axios.js';
// acme-client's modules are imported one by one: its index also loads node-forge (~300 KB), which
// certkeeper never uses, and every run pays for what it loads.
import Client from 'acme-client/src/client.js';
import { createCsr as acmeCreateCsr } from 'acme-client/src/crypto/index.js';
import type { Clock } from '../ports/clock.js';
import type { Config } from '../ports/config.js';
import { AcmeError, isTransientNetworkError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import { poll, retry } from '../ports/retry.js';
import type { AccountStore, AcmeAccount } from '../ports/store.js';
import {
  type AcmeDirectory,
  AcmeDirectoryClient,
  httpsAgent,
  type RenewalInfoResult,
  unknownProfile,
} from './acme-directory.js';
import { generatePrivateKey } from './certinfo.js';
import { PhaseGate } from './phase-gate.js';

/**
 * ACME on top of acme-client. acme-client does the JWS signing, nonces (badNonce retried),
 * directory and EAB; the protocol flow is ours so that we keep the problem type and Retry-After
 * of every error (acme-client flattens them into a message) and poll fast: acme-client waits at
 * least 5 s between polls, while a CA usually validates in well under a second.
 */

const PROBLEM = 'urn:ietf:params:acme:error:';

/**
 * Requests kept apart by the session's PhaseGate: the ones Pebble serves holding its store's read
 * lock while they read-lock authorizations (a new order's reuse search, and reading an order's
 * status for a new order, an order fetch or a finalize), and the ones that lock an authorization
 * before they read the store.
 */
type AcmePhase = 'order' | 'authorization';

interface Problem {
  type?: string;
  detail?: string;
  subproblems?: { type?: string; detail?: string; identifier?: { value: string } }[];
}

interface AcmeResponse<T = unknown> {
  status: number;
  headers: Record<string, string | undefined>;
  data: T;
}

export interface AcmeOrder {
  url: string;
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: Problem;
}

export interface AcmeAuthorization {
  url: string;
  status: string;
  identifier: { type: string; value: string };
  wildcard?: boolean;
  challenges: { type: string; url: string; token: string; status: string; error?: Problem }[];
}

export interface AcmeDeps {
  clock: Clock;
  logger: Logger;
}

export type { AcmeDirectory, RenewalInfoFailure, RenewalInfoResult } from './acme-directory.js';

export interface NewOrderOptions {
  /** RFC 9773 §5: the id of the certificate this order replaces. */
  replaces?: string;
  /** An ACME profile (draft-aaron-acme-profiles); checked against the directory's `meta.profiles`. */
  profile?: string;
}

export interface PlacedOrder {
  order: AcmeOrder;
  /** What became of `replaces` when one was given: accepted, or refused (the order went without it). */
  replaces?: { certId: string; accepted: true } | { certId: string; accepted: false; refusal: string };
}

/**
 * Whether a CA's refusal of an order carrying `replaces` is worth one more try without it. The
 * wording of such refusals is the CA's (Boulder: 409 `alreadyReplaced`, 404 `malformed` "did not
 * match a known issuer" after a CA change, 403 `unauthorized` "requester account did not request
 * the certificate being replaced"; newer Pebble: 500 "could not find an order for the given
 * certificate"), so any problem qualifies except those a second order cannot fix: a rate limit
 * (the limit applies with or without `replaces`; retrying spends a request inside it), an account
 * problem and an unknown profile.
 */
function refusesReplaces(error: unknown): error is AcmeError {
  return (
    error instanceof AcmeError &&
    error.status !== undefined &&
    error.status >= 400 &&
    error.errorClass !== 'acme-rate-limited' &&
    error.errorClass !== 'acme-account' &&
    error.errorClass !== 'config'
  );
}

/** Retry-After (seconds or HTTP date) → Date, relative to `now`. */
export function parseRetryAfter(value: string | undefined, now: Date): Date | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return new Date(now.getTime() + seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : new Date(date);
}

function problemText(p: Problem | undefined): string {
  if (!p) return 'unknown error';
  const sub = (p.subproblems ?? []).map((s) => `${s.identifier?.value ?? '?'}: ${s.detail ?? s.type ?? ''}`).join('; ');
  return [p.detail ?? p.type ?? 'unknown error', sub].filter(Boolean).join(' — ');
}

/** Problem details that say the CA's DNS lookup failed, rather than that it saw another value. */
const LOOKUP_FAILED =
  /error retrieving TXT records|DNS problem|SERVFAIL|unsuccessful response|server misbehaving|i\/o timeout/i;

/** Maps an RFC 8555 problem to an error class (PRODUCT §3). */
export function problemToError(
  p: Problem | undefined,
  status: number,
  retryAfter: Date | undefined,
  what: string,
): AcmeError {
  const type = p?.type ?? '';
  const named = type.startsWith(PROBLEM) ? type.slice(PROBLEM.length) : type;
  // The CA could not look the record up at all (SERVFAIL, timeout): a DNS problem, not a wrong value,
  // even where the CA reports it as `unauthorized` (Pebble does; Let's Encrypt says `dns`).
  const short =
    (named === 'unauthorized' || named === 'incorrectResponse') && LOOKUP_FAILED.test(p?.detail ?? '') ? 'dns' : named;
  const message = `acme: ${what}: ${problemText(p)}`;
  const base = { problemType: type, status, ...(retryAfter ? { retryAfter } : {}) };
  switch (short) {
    case 'rateLimited':
      return new AcmeError('acme-rate-limited', message, {
        ...base,
        hint: retryAfter
          ? `the CA asks to retry after ${retryAfter.toISOString()}`
          : 'wait before retrying; use a staging directory for tests',
      });
    case 'accountDoesNotExist':
    case 'externalAccountRequired':
    case 'invalidContact':
    case 'unsupportedContact':
    case 'userActionRequired':
    case 'badPublicKey':
      return new AcmeError('acme-account', message, {
        ...base,
        hint: 'check acme.email / acme.eab and the CA account',
      });
    case 'dns':
      return new AcmeError('dns-propagation', message, {
        ...base,
        hint: 'the CA could not resolve the challenge record; check the zone delegation and DNS provider',
      });
    case 'invalidProfile':
      return new AcmeError('config', message, {
        ...base,
        hint: "set acme.profile (or the certificate's profile) to one the CA offers, or remove it",
      });
    case 'serverInternal':
      return new AcmeError('network', message, {
        ...base,
        hint: 'the CA had an internal error; a later run will retry',
      });
    default:
      if (status >= 500)
        return new AcmeError('network', message, { ...base, hint: 'the CA is unavailable; a later run will retry' });
      return new AcmeError('acme-rejected', message, {
        ...base,
        hint:
          short === 'unauthorized' || short === 'incorrectResponse'
            ? 'the CA saw a different TXT value: check for stale records, CNAMEs and the hosted zone'
            : short === 'caa'
              ? 'a CAA record forbids this CA from issuing for the domain'
              : short === 'rejectedIdentifier'
                ? 'the CA will not issue for one of the names'
                : undefined,
      });
  }
}

/**
 * A new-order rate limit that names the account (Let's Encrypt: "too many new orders (300) from
 * this account in the last 3h0m0s") rather than one of the order's names ("too many certificates
 * (50) already issued for "example.com"") stops every further order of the run, not just this one.
 */
function accountWide(error: unknown, domains: string[]): unknown {
  if (!(error instanceof AcmeError) || error.errorClass !== 'acme-rate-limited') return error;
  const text = error.message.toLowerCase();
  if (!/\baccount\b/.test(text) || domains.some((d) => text.includes(d.replace(/^\*\./, '')))) return error;
  return new AcmeError(error.errorClass, error.message, {
    cause: error.cause,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.problemType ? { problemType: error.problemType } : {}),
    ...(error.retryAfter ? { retryAfter: error.retryAfter } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    limitScope: 'account',
  });
}

/**
 * acme-client keeps one axios instance per process. We take over its retry policy: ours keeps
 * problem types and never sleeps for a rate limit's Retry-After (which can be hours). Its retry
 * interceptors are removed rather than set to zero attempts: with retries off they turn every
 * network error into a TypeError (they read the `config` of a response that never came), which
 * lost the error code, so no network failure was classified as such or retried. acme-client asks
 * axios to resolve every status (`validateStatus: null`), so nothing else depends on them.
 */
async function configureHttp(caBundle: string | undefined): Promise<void> {
  acmeAxios.interceptors.request.clear();
  acmeAxios.interceptors.response.clear();
  acmeAxios.defaults.httpsAgent = await httpsAgent(caBundle);
  // A CA that accepts the connection and never answers must not hang the run.
  acmeAxios.defaults.timeout = 30_000;
}

interface DirectoryCache {
  directoryCache: unknown;
  directoryTimestamp: number;
}

/** acme-client's HttpClient, as far as the session takes over its nonces. */
interface NonceHttp extends DirectoryCache {
  getNonce(): Promise<string>;
  request(url: string, method: string, opts?: unknown): Promise<AcmeResponse>;
}

/** Nonces kept for later requests: a few suffice (each request brings the next). */
const NONCE_POOL = 16;

interface InnerClient {
  api: {
    accountUrl: string | null;
    apiRequest(url: string, payload: unknown, valid?: number[]): Promise<AcmeResponse>;
    apiResourceRequest(
      resource: string,
      payload: unknown,
      valid: number[],
      opts: { includeJwsKid: boolean; includeExternalAccountBinding: boolean },
    ): Promise<AcmeResponse>;
  };
  http: { maxBadNonceRetries: number };
}

/**
 * What the CA says of a stored account (POST-as-GET on its URL, RFC 8555 §7.3): its `status`
 * (`valid`, `deactivated`, `revoked`), or the problem it answered with (a deactivated account's
 * requests are refused as `unauthorized`; one it forgot, `accountDoesNotExist`).
 */
export type AccountStatus = { ok: true; status: string } | { ok: false; error: AcmeError };

/** One account on one directory for one run; shared by all certificates of the run. */
export class AcmeSession {
  private client!: Client;
  private reRegistering: Promise<void> | undefined;
  private warnedNoProfiles = false;
  /** New orders the CA created in this session (what the order budget counts). */
  ordersCreated = 0;
  /** Unused Replay-Nonce values from the CA's answers, newest last; each is taken once. */
  private readonly nonces: string[] = [];
  /** Order and authorization requests never overlap: see PhaseGate (a Pebble deadlock). */
  private readonly gate = new PhaseGate<AcmePhase>('authorization');

  private constructor(
    private readonly config: Config['acme'],
    /** Absent for a read-only session (the doctor), which must never register an account. */
    private readonly accounts: AccountStore | undefined,
    private readonly deps: AcmeDeps,
    private readonly ca: AcmeDirectoryClient,
    private readonly rawDirectory: unknown,
  ) {}

  /**
   * A session that only reads (the doctor): the directory, and what the CA says of a stored
   * account. It has no account store, so nothing it does can register or save an account.
   */
  static async readOnly(
    config: Config['acme'],
    deps: AcmeDeps,
    ca: AcmeDirectoryClient = new AcmeDirectoryClient(config, deps),
  ): Promise<AcmeSession> {
    await configureHttp(config.caBundle);
    const { raw } = await ca.fetch();
    const session = new AcmeSession(config, undefined, deps, ca, raw);
    // acme-client wants a key to build a client; this one never signs anything that is sent.
    session.useAccount(await generatePrivateKey('ec-p256'), undefined);
    return session;
  }

  /**
   * POST-as-GET on the stored account's URL, signed with its key: its status at the CA, or the
   * problem the CA answers. Never registers: unlike `request`, an `accountDoesNotExist` is
   * reported, not answered with a new account.
   */
  async accountStatus(account: Pick<AcmeAccount, 'accountUrl' | 'accountKey'>): Promise<AccountStatus> {
    this.useAccount(account.accountKey, account.accountUrl);
    const resp = await this.withRetries('read account', () => this.inner.api.apiRequest(account.accountUrl, null, []));
    if (resp.status < 400) {
      const status = (resp.data as { status?: unknown } | undefined)?.status;
      return { ok: true, status: typeof status === 'string' ? status : 'unknown' };
    }
    return { ok: false, error: this.toError(resp, 'read account') };
  }

  /**
   * Loads the stored account or registers one (and stores it). Never registers when one is stored.
   * `ca`: the run's directory client, whose directory the session reuses (one fetch per run).
   */
  static async open(
    config: Config['acme'],
    accounts: AccountStore,
    deps: AcmeDeps,
    ca: AcmeDirectoryClient = new AcmeDirectoryClient(config, deps),
  ): Promise<AcmeSession> {
    await configureHttp(config.caBundle);
    const { raw } = await ca.fetch();
    const session = new AcmeSession(config, accounts, deps, ca, raw);
    const stored = await accounts.load(config.directoryUrl);
    if (stored) {
      deps.logger.debug('acme: using stored account', { account: stored.accountUrl });
      session.useAccount(stored.accountKey, stored.accountUrl);
    } else {
      await session.register();
    }
    return session;
  }

  private useAccount(accountKey: string, accountUrl: string | undefined): void {
    this.client = new Client({
      directoryUrl: this.config.directoryUrl,
      accountKey,
      ...(accountUrl ? { accountUrl } : {}),
      ...(this.config.eab ? { externalAccountBinding: this.config.eab } : {}),
    });
    // Under heavy nonce rejection (PEBBLE_WFE_NONCEREJECT=50) five retries fail ~3 % of requests.
    this.inner.http.maxBadNonceRetries = 20;
    // acme-client would fetch the directory again; it gets the one this run already has (its
    // cache ages on the wall clock, hence Date.now).
    const http = (this.client as unknown as { http: NonceHttp }).http;
    http.directoryCache = this.rawDirectory;
    http.directoryTimestamp = Math.floor(Date.now() / 1000);
    this.reuseNonces(http);
  }

  /**
   * Signs each request with the Replay-Nonce of an earlier answer (RFC 8555 §7.2: the server
   * sends a fresh one with every response, for the client's next request). acme-client would ask
   * newNonce (a HEAD) before every request: twice the round trips, and against a CA whose HEAD
   * answer has no Content-Length (Pebble's, Go's default), Node does not keep that connection
   * alive, so every request paid a new TLS handshake too. Only successful answers are pooled: a
   * badNonce answer's nonce is the one acme-client retries with. A stale nonce costs one badNonce
   * retry, as before.
   */
  private reuseNonces(http: NonceHttp): void {
    const fetchNonce = http.getNonce.bind(http);
    const request = http.request.bind(http);
    http.getNonce = async () => this.nonces.pop() ?? fetchNonce();
    http.request = async (url, method, opts) => {
      const resp = await request(url, method, opts);
      const nonce = resp.headers['replay-nonce'];
      if (nonce && method !== 'head' && resp.status < 400) {
        this.nonces.push(nonce);
        if (this.nonces.length > NONCE_POOL) this.nonces.shift();
      }
      return resp;
    };
  }

  private get inner(): InnerClient {
    return this.client as unknown as InnerClient;
  }

  private async register(): Promise<void> {
    const { logger } = this.deps;
    const accounts = this.accounts;
    if (!accounts) throw new AcmeError('internal', 'acme: a read-only session cannot register an account');
    const accountKey = await generatePrivateKey('ec-p256');
    this.useAccount(accountKey, undefined);
    const payload = {
      termsOfServiceAgreed: true,
      ...(this.config.email ? { contact: [`mailto:${this.config.email}`] } : {}),
    };
    const resp = await this.withRetries('register account', () =>
      this.inner.api.apiResourceRequest('newAccount', payload, [], {
        includeJwsKid: false,
        includeExternalAccountBinding: Boolean(this.config.eab),
      }),
    );
    if (resp.status !== 200 && resp.status !== 201) {
      const err = this.toError(resp, 'register account');
      throw new AcmeError('acme-account', err.message, {
        cause: err,
        problemType: err.problemType,
        status: err.status,
        hint: err.hint ?? 'check acme.email and acme.eab',
      });
    }
    const accountUrl = resp.headers.location;
    if (!accountUrl) throw new AcmeError('acme-account', 'acme: the CA returned no account URL');
    this.inner.api.accountUrl = accountUrl;
    const account: AcmeAccount = {
      directoryUrl: this.config.directoryUrl,
      accountUrl,
      accountKey,
      createdAt: this.deps.clock.now().toISOString(),
    };
    await accounts.save(account);
    logger.info('acme: registered a new account', { account: accountUrl });
  }

  private toError(resp: AcmeResponse, what: string): AcmeError {
    const retryAfter = parseRetryAfter(resp.headers['retry-after'], this.deps.clock.now());
    return problemToError(resp.data as Problem, resp.status, retryAfter, what);
  }

  /**
   * Network errors, badNonce and 5xx (unless `retryServerErrors` is off) are retried a few times;
   * any other answer is returned as is.
   */
  private async withRetries(
    what: string,
    fn: () => Promise<AcmeResponse>,
    retryServerErrors = true,
  ): Promise<AcmeResponse> {
    const retryableResponse = (resp: AcmeResponse) =>
      (retryServerErrors && resp.status >= 500) || (resp.data as Problem | undefined)?.type === `${PROBLEM}badNonce`;
    try {
      return await retry(fn, {
        clock: this.deps.clock,
        tries: 4,
        backoff: [250, 1000, 3000],
        retryable: (error) => isTransientNetworkError(error),
        retryResult: (resp) => retryableResponse(resp),
        onRetry: (reason, attempt) =>
          this.deps.logger.debug(`acme: ${what}: retrying`, {
            attempt,
            status: (reason as AcmeResponse | undefined)?.status,
          }),
      });
    } catch (error) {
      if (error instanceof AcmeError) throw error;
      throw new AcmeError('network', `acme: ${what}: ${(error as Error).message}`, {
        cause: error,
        hint: `cannot reach the ACME directory ${this.config.directoryUrl}`,
      });
    }
  }

  /** A signed request; throws a classified AcmeError on any problem document. */
  async request<T>(
    url: string,
    payload: unknown,
    what: string,
    options: { retryServerErrors?: boolean; phase?: AcmePhase } = {},
  ): Promise<AcmeResponse<T>> {
    const { phase } = options;
    const send = phase
      ? () => this.gate.run(phase, () => this.inner.api.apiRequest(url, payload, []))
      : () => this.inner.api.apiRequest(url, payload, []);
    const resp = await this.withRetries(what, send, options.retryServerErrors);
    if (resp.status < 400) return resp as AcmeResponse<T>;
    const err = this.toError(resp, what);
    if (err.problemType === `${PROBLEM}accountDoesNotExist`) {
      // The CA forgot the account (e.g. a test CA restarted): register once and replace it.
      this.deps.logger.warn('acme: the CA does not know the stored account; registering a new one');
      this.reRegistering ??= this.register().finally(() => {
        this.reRegistering = undefined;
      });
      await this.reRegistering;
      const again = await this.withRetries(what, send, options.retryServerErrors);
      if (again.status < 400) return again as AcmeResponse<T>;
      throw this.toError(again, what);
    }
    throw err;
  }

  /** A new order as given; throws the CA's refusal classified. See `placeOrder` for the checks around it. */
  async newOrder(domains: string[], options: NewOrderOptions = {}): Promise<AcmeOrder> {
    const { newOrder } = await this.directory();
    const payload = {
      identifiers: domains.map((value) => ({ type: 'dns', value })),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.replaces ? { replaces: options.replaces } : {}),
    };
    let resp: AcmeResponse<Omit<AcmeOrder, 'url'>>;
    try {
      // With `replaces`, a 5xx is not retried as such: placeOrder retries it without `replaces`
      // (newer Pebble answers 500 for a certificate it does not know).
      resp = await this.request<Omit<AcmeOrder, 'url'>>(newOrder, payload, 'new order', {
        retryServerErrors: !options.replaces,
        phase: 'order',
      });
    } catch (error) {
      throw accountWide(error, domains);
    }
    const url = resp.headers.location;
    if (!url) throw new AcmeError('acme-rejected', 'acme: the CA returned no order URL');
    this.ordersCreated++;
    return { ...resp.data, url };
  }

  /**
   * A new order with the checks around it: the profile must be one the directory lists (class
   * `config` before any order, naming what the CA offers), and a `replaces` the CA refuses is
   * dropped and the order placed once more without it: a renewal must never be stopped by it.
   */
  async placeOrder(domains: string[], options: NewOrderOptions = {}): Promise<PlacedOrder> {
    if (options.profile) await this.checkProfile(options.profile);
    if (!options.replaces) return { order: await this.newOrder(domains, options) };
    try {
      return { order: await this.newOrder(domains, options), replaces: { certId: options.replaces, accepted: true } };
    } catch (error) {
      if (!refusesReplaces(error)) throw error;
      const refusal = `${error.problemType ?? `HTTP ${error.status}`}: ${error.message}`;
      this.deps.logger.warn(`acme: the CA refused replaces=${options.replaces}; ordering without it`, {
        problem: error.problemType,
        status: error.status,
      });
      const { replaces: _, ...rest } = options;
      const order = await this.newOrder(domains, rest);
      return { order, replaces: { certId: options.replaces, accepted: false, refusal } };
    }
  }

  /** Throws class `config` when the directory lists profiles and `profile` is not among them. */
  async checkProfile(profile: string): Promise<void> {
    const directory = await this.directory();
    if (!directory.profiles) {
      // A CA without profiles ignores the field (Pebble 2.4, CAs before the draft): say so once.
      if (!this.warnedNoProfiles)
        this.deps.logger.warn(`acme: the CA lists no profiles; it may ignore profile "${profile}"`);
      this.warnedNoProfiles = true;
      return;
    }
    const unknown = unknownProfile(directory, profile);
    if (unknown) throw unknown;
  }

  /** The CA's directory, fetched once per run. */
  directory(): Promise<AcmeDirectory> {
    return this.ca.directory();
  }

  /** See AcmeDirectoryClient.renewalInfo: never throws. */
  renewalInfo(certId: string, options: { timeoutMs?: number } = {}): Promise<RenewalInfoResult> {
    return this.ca.renewalInfo(certId, options);
  }

  async getAuthorization(url: string): Promise<AcmeAuthorization & { retryAfter?: Date }> {
    const resp = await this.request<Omit<AcmeAuthorization, 'url'>>(url, null, 'get authorization', {
      phase: 'authorization',
    });
    const retryAfter = parseRetryAfter(resp.headers['retry-after'], this.deps.clock.now());
    return { ...resp.data, url, ...(retryAfter ? { retryAfter } : {}) };
  }

  async getOrder(url: string): Promise<AcmeOrder & { retryAfter?: Date }> {
    const resp = await this.request<Omit<AcmeOrder, 'url'>>(url, null, 'get order', { phase: 'order' });
    const retryAfter = parseRetryAfter(resp.headers['retry-after'], this.deps.clock.now());
    return { ...resp.data, url, ...(retryAfter ? { retryAfter } : {}) };
  }

  /** The dns-01 TXT value for a challenge token (acme-client returns the digest for dns-01). */
  async dnsTxtValue(challenge: { type: string; token: string; url: string; status: string }): Promise<string> {
    return this.client.getChallengeKeyAuthorization(challenge as never);
  }

  async respondToChallenge(url: string): Promise<void> {
    await this.request(url, {}, 'answer challenge');
  }

  async deactivateAuthorization(url: string): Promise<void> {
    await this.request(url, { status: 'deactivated' }, 'deactivate authorization', { phase: 'authorization' });
  }

  async finalize(order: AcmeOrder, csrPem: string): Promise<AcmeOrder> {
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const resp = await this.request<Omit<AcmeOrder, 'url'>>(
      order.finalize,
      { csr: der.toString('base64url') },
      'finalize order',
      { phase: 'order' },
    );
    return { ...resp.data, url: order.url };
  }

  async downloadCertificate(url: string): Promise<string> {
    const resp = await this.request<string | Buffer>(url, null, 'download certificate');
    return Buffer.isBuffer(resp.data) ? resp.data.toString('utf8') : String(resp.data);
  }

  /**
   * CSR for the domains with the given key. The CN is the first name when it fits in 64 chars and
   * `commonName` is not false: CAs without profiles may insist on a subject (enterprise ACME CAs
   * refuse CSRs without one). With a profile the CA decides the subject (Let's Encrypt's classic
   * promotes the first name itself, tlsserver and shortlived drop it whatever the CSR asks), so the
   * caller leaves it out, as uacme and certbot do.
   */
  async createCsr(domains: string[], privateKeyPem: string, options: { commonName?: boolean } = {}): Promise<string> {
    const cn = options.commonName !== false && domains[0] && domains[0].length <= 64 ? domains[0] : undefined;
    const [, csr] = await acmeCreateCsr({ ...(cn ? { commonName: cn } : {}), altNames: domains }, privateKeyPem);
    return csr.toString();
  }
}

export interface AcmePollOptions {
  timeoutMs: number;
  /** First delay; grows ×1.5 up to maxDelayMs, unless the CA sends Retry-After. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called about every 10 s of waiting, so a slow CA shows progress instead of silence. */
  onProgress?: (elapsedMs: number) => void;
}

/**
 * Polls an ACME resource until `done` returns a value. Starts fast (250 ms) because CAs usually
 * finish in under a second, backs off to bound load, honours Retry-After within the deadline.
 */
export function pollAcme<T extends { retryAfter?: Date }, R>(
  fetch: () => Promise<T>,
  done: (item: T) => R | undefined,
  what: string,
  clock: Clock,
  options: AcmePollOptions,
): Promise<R> {
  return poll(fetch, done, {
    clock,
    timeoutMs: options.timeoutMs,
    initialDelayMs: options.initialDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 4000,
    retryAfter: (item) => item.retryAfter,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onTimeout: (elapsed) =>
      new AcmeError('timeout', `acme: ${what}: still not done after ${Math.round(elapsed / 1000)} s`, {
        hint: 'the CA is slow; a later run will retry',
      }),
  });
}
