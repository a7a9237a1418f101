import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../ports/clock.js';
import type { Config } from '../ports/config.js';
import { AcmeError, ConfigError, isTransientNetworkError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import { retry } from '../ports/retry.js';
import { ariNextFetch, parseRenewalInfo, type RenewalWindow } from './ari.js';

/**
 * The unauthenticated side of ACME: the directory (RFC 8555 §7.1.1) and renewalInfo (RFC 9773
 * §4.1). Apart from acme.ts, which loads acme-client (~1 MB) for signed requests, so a run that
 * only needs to ask the CA when to renew (ARI) or which profiles it offers never loads it and
 * never touches the account. The session reuses the directory fetched here.
 */

/** What certkeeper reads from the CA's directory (RFC 8555 §7.1.1, RFC 9773 §3, profiles draft §3). */
export interface AcmeDirectory {
  newOrder: string;
  /** Present when the CA offers ARI. */
  renewalInfo?: string;
  /** `meta.profiles`: name → description; absent when the CA lists none. */
  profiles?: Record<string, string>;
  caaIdentities?: string[];
  externalAccountRequired: boolean;
}

/** Why a renewalInfo request gave nothing to go by; never thrown, the threshold decides instead. */
export type RenewalInfoFailure = 'unsupported' | 'timeout' | 'network' | 'http' | 'malformed' | 'invalid-window';

export type RenewalInfoResult =
  | { ok: true; window: RenewalWindow; nextFetch: Date }
  | {
      ok: false;
      failure: RenewalInfoFailure;
      message: string;
      status?: number;
      /** When the CA said to come back (its Retry-After, clamped), if it said. */
      nextFetch?: Date;
    };

/** A directory or renewalInfo answer is small; anything longer is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
export const RENEWAL_INFO_TIMEOUT_MS = 10_000;
const DIRECTORY_TIMEOUT_MS = 15_000;

interface Problem {
  type?: string;
  detail?: string;
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** The directory as the CA sent it → the fields certkeeper uses; anything malformed is left out. */
export function readDirectory(raw: unknown): AcmeDirectory {
  const dir = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const meta = (typeof dir.meta === 'object' && dir.meta !== null ? dir.meta : {}) as Record<string, unknown>;
  if (typeof dir.newOrder !== 'string') throw new Error('the directory has no newOrder URL');
  const profiles = stringRecord(meta.profiles);
  const caa = Array.isArray(meta.caaIdentities) ? meta.caaIdentities.filter((c) => typeof c === 'string') : [];
  return {
    newOrder: dir.newOrder,
    ...(typeof dir.renewalInfo === 'string' && dir.renewalInfo ? { renewalInfo: dir.renewalInfo } : {}),
    ...(profiles ? { profiles } : {}),
    ...(caa.length ? { caaIdentities: caa } : {}),
    externalAccountRequired: meta.externalAccountRequired === true,
  };
}

/**
 * Class `config` when the directory lists profiles and `profile` is not among them, naming what
 * the CA offers; undefined when the profile is fine or the CA lists none (a CA before the profiles
 * draft ignores the field).
 */
export function unknownProfile(directory: AcmeDirectory, profile: string): AcmeError | undefined {
  const { profiles } = directory;
  if (!profiles || Object.hasOwn(profiles, profile)) return undefined;
  const offered = Object.keys(profiles);
  return new AcmeError(
    'config',
    `acme: the CA offers no profile "${profile}"; it offers ${offered.length ? offered.join(', ') : 'none'}`,
    { hint: `set acme.profile (or the certificate's profile) to one of: ${offered.join(', ')}` },
  );
}

const agents = new Map<string, Promise<HttpsAgent>>();

/**
 * One keep-alive agent per CA bundle for the process: the directory, renewalInfo and
 * acme-client's signed requests share its connections (one TLS handshake for the whole run).
 */
export function httpsAgent(caBundle: string | undefined): Promise<HttpsAgent> {
  const key = caBundle ?? '';
  let agent = agents.get(key);
  if (!agent) {
    agent = (async () => {
      let ca: string | undefined;
      if (caBundle) {
        try {
          ca = await readFile(caBundle, 'utf8');
        } catch (error) {
          throw new ConfigError(
            [{ path: 'acme.caBundle', message: `cannot read ${caBundle}: ${(error as NodeJS.ErrnoException).code}` }],
            { cause: error },
          );
        }
      }
      return new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) });
    })();
    agents.set(key, agent);
    agent.catch(() => agents.delete(key));
  }
  return agent;
}

/** One GET with a deadline, on the shared agent. */
function getText(
  url: URL,
  agent: HttpsAgent,
  timeoutMs: number,
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        ...(url.protocol === 'https:' ? { agent } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) {
            res.destroy(new Error(`answer longer than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface AcmeDirectoryDeps {
  clock: Clock;
  logger: Logger;
}

/** The CA's directory and renewalInfo for one run, without an account. */
export class AcmeDirectoryClient {
  private fetched: Promise<{ raw: unknown; directory: AcmeDirectory }> | undefined;

  constructor(
    private readonly config: Pick<Config['acme'], 'directoryUrl' | 'caBundle'>,
    private readonly deps: AcmeDirectoryDeps,
  ) {}

  /** The directory as sent (acme-client's cache takes it) and as read; fetched once, a failure is not kept. */
  fetch(): Promise<{ raw: unknown; directory: AcmeDirectory }> {
    this.fetched ??= (async () => {
      const url = this.config.directoryUrl;
      const agent = await httpsAgent(this.config.caBundle);
      try {
        const answer = await retry(() => getText(new URL(url), agent, DIRECTORY_TIMEOUT_MS), {
          clock: this.deps.clock,
          tries: 3,
          backoff: [250, 1000],
          retryable: (error) =>
            isTransientNetworkError(error) || ['TimeoutError', 'AbortError'].includes((error as Error).name),
          retryResult: (a) => a.status >= 500,
        });
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
        const raw: unknown = JSON.parse(answer.body);
        return { raw, directory: readDirectory(raw) };
      } catch (error) {
        throw new AcmeError('network', `acme: cannot read the directory ${url}: ${(error as Error).message}`, {
          cause: error,
          hint: `check acme.directory (${url}) and connectivity to it`,
        });
      }
    })();
    // A failed read is not kept: the next certificate of the run asks again.
    this.fetched.catch(() => {
      this.fetched = undefined;
    });
    return this.fetched;
  }

  async directory(): Promise<AcmeDirectory> {
    return (await this.fetch()).directory;
  }

  /**
   * The CA's renewal window for one certificate (RFC 9773 §4.1): an unauthenticated GET of
   * `<renewalInfo>/<certId>` with a short deadline. Never throws: every failure comes back as a
   * result to log and fall back from, because ARI must never block or delay a renewal.
   */
  async renewalInfo(certId: string, options: { timeoutMs?: number } = {}): Promise<RenewalInfoResult> {
    const timeoutMs = options.timeoutMs ?? RENEWAL_INFO_TIMEOUT_MS;
    const what = `acme: renewalInfo for ${certId}`;
    let base: string | undefined;
    try {
      base = (await this.directory()).renewalInfo;
    } catch (error) {
      return { ok: false, failure: 'network', message: (error as Error).message };
    }
    if (!base) return { ok: false, failure: 'unsupported', message: 'acme: the CA offers no renewalInfo' };
    let answer: Awaited<ReturnType<typeof getText>>;
    try {
      answer = await getText(
        new URL(`${base.replace(/\/+$/, '')}/${certId}`),
        await httpsAgent(this.config.caBundle),
        timeoutMs,
      );
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return { ok: false, failure: 'timeout', message: `${what}: no answer within ${timeoutMs / 1000} s` };
      }
      const code = (error as NodeJS.ErrnoException).code;
      return {
        ok: false,
        failure: 'network',
        message: `${what}: ${code ? `${code} ` : ''}${(error as Error).message}`,
      };
    }
    const now = this.deps.clock.now();
    if (answer.status !== 200) {
      let detail = '';
      try {
        detail = (JSON.parse(answer.body) as Problem).detail ?? '';
      } catch {
        // no problem document
      }
      return {
        ok: false,
        failure: 'http',
        status: answer.status,
        message: `${what}: HTTP ${answer.status}${detail ? `: ${detail}` : ''}`,
        ...(answer.retryAfter ? { nextFetch: ariNextFetch(answer.retryAfter, now) } : {}),
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return { ok: false, failure: 'malformed', message: `${what}: the answer is not JSON` };
    }
    const parsed = parseRenewalInfo(body);
    if (!parsed.ok) {
      const invalid = /ends .* before it starts/.test(parsed.problem);
      return { ok: false, failure: invalid ? 'invalid-window' : 'malformed', message: `${what}: ${parsed.problem}` };
    }
    return { ok: true, window: parsed.window, nextFetch: ariNextFetch(answer.retryAfter, now) };
  }
}
