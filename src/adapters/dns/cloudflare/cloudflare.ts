import { APIConnectionError, APIError, APIUserAbortError } from 'cloudflare/core/error';
import { BaseRecords } from 'cloudflare/resources/dns/records';
import { BaseZones, type Zone } from 'cloudflare/resources/zones/zones';
import { createClient } from 'cloudflare/tree-shakable';
import type { AdapterContext } from '../../../ports/adapter.js';
import type { Clock } from '../../../ports/clock.js';
import type { DnsLookup, DnsProvider, TxtRecord, ZoneInfo } from '../../../ports/dns.js';
import { DnsProviderError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { type BudgetOptions, sharedBucket, type TokenBucket } from './budget.js';
import type { CloudflareConfig } from './descriptor.js';
import { BASE_URL_ENV, TOKEN_ENV } from './env.js';
import { quoteTxt, txtText } from './txt-content.js';

/**
 * Cloudflare DNS-01 provider (PRODUCT §2). Cloudflare keeps same-name TXT records side by side,
 * so every value is a record of its own: present creates one per value, cleanup deletes exactly
 * those by id. Ids live only in this process; after a crash the lease still names the values, so
 * cleanup lists the TXT records at the name and deletes the ones whose text is one of ours.
 *
 * The SDK's own retries sleep on real timers and ignore the 1,200 requests / 5 min budget, so
 * they are off: every call goes through the shared token bucket, and 429 / 5xx / connection
 * failures are retried here on the injected clock (429 after its Retry-After).
 */

export const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';

/** Shown in the dashboard next to our records, so a stray one (a crash without rerun) has an owner. */
const COMMENT = 'certkeeper ACME DNS-01 challenge';
/** Cloudflare's largest page for zones; one page answers "which zones can this token see" for most tokens. */
const ZONES_PER_PAGE = 50;
const RECORDS_PER_PAGE = 100;
const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 16_000;

const CODE_IDENTICAL_RECORD = 81058;
const CODE_RECORD_MISSING = 81044;
const AUTH_CODES = new Set([1000, 6003, 6111, 9106, 9109, 10000, 10001]);
const BAD_ID_CODES = new Set([7000, 7003]);

export interface CloudflareTuning {
  /** The client-side request budget (default Cloudflare's 1,200 / 5 min, see budget.ts). */
  budget?: BudgetOptions;
  /** Tries per call for 429, 5xx and connection failures (default 5). */
  maxAttempts?: number;
}

interface ZoneRef {
  id: string;
  /** Absent only for a configured `zoneId` not read yet. */
  name?: string;
  nameServers?: string[];
}

/** A failed Cloudflare call, with the codes from its envelope for callers that accept some. */
export class CloudflareApiError extends DnsProviderError {
  constructor(
    message: string,
    readonly codes: number[],
    readonly status: number | undefined,
    options: { cause?: unknown; hint?: string },
  ) {
    super(message, options);
    this.name = 'CloudflareApiError';
  }
}

export function createCloudflareProvider(
  config: CloudflareConfig,
  ctx: AdapterContext,
  tuning: CloudflareTuning = {},
): CloudflareProvider {
  const token = config.apiToken ?? ctx.env[TOKEN_ENV];
  if (!token) {
    throw new DnsProviderError('cloudflare: no API token', {
      hint: `set dns.apiToken to \${env:NAME}, or set ${TOKEN_ENV}`,
    });
  }
  const baseUrl = (ctx.env[BASE_URL_ENV] || DEFAULT_BASE_URL).replace(/\/+$/, '');
  return new CloudflareProvider(config, ctx, token, baseUrl, tuning);
}

type Client = ReturnType<typeof makeClient>;

function makeClient(token: string, baseUrl: string, fetchImpl: typeof fetch | undefined) {
  return createClient({
    resources: [BaseZones, BaseRecords],
    apiToken: token,
    // Explicit nulls: the SDK would otherwise read these (and the base URL) from process.env.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: baseUrl,
    maxRetries: 0,
    logLevel: 'off',
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

export class CloudflareProvider implements DnsProvider {
  readonly name = 'cloudflare';
  private readonly client: Client;
  private readonly bucket: TokenBucket;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly lookup: DnsLookup;
  private readonly maxAttempts: number;
  /** Records this instance created: `name\nvalue` → where it is. */
  private readonly created = new Map<string, { zoneId: string; id: string }>();
  /** Every zone the token sees, when one page holds them all; `undefined` when there are more. */
  private listing: Promise<ZoneRef[] | undefined> | undefined;
  private readonly byName = new Map<string, Promise<ZoneRef | undefined>>();
  private readonly zoneOf = new Map<string, Promise<ZoneRef>>();
  private configured: Promise<ZoneRef> | undefined;

  constructor(
    private readonly config: CloudflareConfig,
    ctx: AdapterContext,
    token: string,
    private readonly baseUrl: string,
    tuning: CloudflareTuning,
  ) {
    this.client = makeClient(token, baseUrl, ctx.fetch);
    this.bucket = sharedBucket(baseUrl, token, tuning.budget);
    this.clock = ctx.clock;
    this.logger = ctx.logger;
    this.lookup = ctx.lookup;
    this.maxAttempts = tuning.maxAttempts ?? MAX_ATTEMPTS;
  }

  async present(records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    await settleAll(
      unique(records).map(async (r) => {
        const zone = await this.zoneFor(r.name, signal);
        try {
          const created = await this.call(
            `creating the TXT record at ${r.name}`,
            () =>
              this.client.dns.records.create(
                {
                  zone_id: zone.id,
                  type: 'TXT',
                  name: r.name,
                  content: quoteTxt(r.value),
                  ttl: this.config.ttl,
                  comment: COMMENT,
                },
                { signal },
              ),
            signal,
          );
          if (created.name.toLowerCase() !== r.name) {
            // Cloudflare appends the zone to a name outside it: only a configured zoneId gets here.
            await this.deleteRecord(zone.id, created.id, created.name, signal);
            const zoneName = created.name.toLowerCase().slice(r.name.length + 1);
            throw new DnsProviderError(`cloudflare: ${r.name} is not in zone ${zoneName || zone.id}`, {
              hint: 'dns.zoneId must name the zone holding the challenge names; leave it out to find the zone',
            });
          }
          this.created.set(key(r), { zoneId: zone.id, id: created.id });
        } catch (error) {
          // Already there (a retried create, or an earlier run's record): present either way;
          // cleanup finds it by content since its id is not ours.
          if (!(error instanceof CloudflareApiError && error.codes.includes(CODE_IDENTICAL_RECORD))) throw error;
        }
      }),
    );
  }

  async cleanup(records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    const byName = new Map<string, string[]>();
    for (const r of unique(records)) byName.set(r.name, [...(byName.get(r.name) ?? []), r.value]);
    await settleAll([...byName].map(([name, values]) => this.cleanName(name, values, signal)));
  }

  private async cleanName(name: string, values: string[], signal?: AbortSignal): Promise<void> {
    const deletions: Promise<void>[] = [];
    const unknown = new Set<string>();
    for (const value of values) {
      const known = this.created.get(key({ name, value }));
      if (!known) {
        unknown.add(value);
        continue;
      }
      deletions.push(
        this.deleteRecord(known.zoneId, known.id, name, signal).then(() => {
          this.created.delete(key({ name, value }));
        }),
      );
    }
    if (unknown.size > 0) {
      // Not created here (a crashed run, or an identical record that existed): find them again by
      // name and content; other values at the name are not ours and stay.
      const zone = await this.zoneFor(name, signal);
      for (const record of await this.listTxt(zone.id, name, signal)) {
        if (record.content !== undefined && unknown.has(txtText(record.content))) {
          deletions.push(this.deleteRecord(zone.id, record.id, name, signal));
        }
      }
    }
    await settleAll(deletions);
  }

  private async deleteRecord(zoneId: string, id: string, name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call(
        `deleting the TXT record at ${name}`,
        () => this.client.dns.records.delete(id, { zone_id: zoneId }, { signal }),
        signal,
      );
    } catch (error) {
      // Gone already (deleted by hand, or by a cleanup that raced us): that is clean.
      if (error instanceof CloudflareApiError && (error.codes.includes(CODE_RECORD_MISSING) || error.status === 404)) {
        return;
      }
      throw error;
    }
  }

  private async listTxt(
    zoneId: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<{ id: string; content?: string }[]> {
    const out: { id: string; content?: string }[] = [];
    for (let page = 1; ; page++) {
      const got = await this.call(
        `listing the TXT records at ${name}`,
        () =>
          this.client.dns.records.list(
            { zone_id: zoneId, type: 'TXT', name: { exact: name }, page, per_page: RECORDS_PER_PAGE },
            { signal },
          ),
        signal,
      );
      out.push(
        ...got.result.map((r) => ({ id: r.id, ...('content' in r && r.content ? { content: r.content } : {}) })),
      );
      if (lastPage(got.result.length, got.result_info, page, RECORDS_PER_PAGE)) return out;
    }
  }

  async describeZone(recordName: string, signal?: AbortSignal): Promise<ZoneInfo> {
    const zone = this.config.zoneId ? await this.configuredZone(signal) : await this.zoneFor(recordName, signal);
    return { name: zone.name ?? '', id: zone.id, nameServers: zone.nameServers ?? [] };
  }

  /** The zone's Cloudflare name servers: they answer as soon as the API has accepted a record. */
  async defaultResolvers(recordName: string, signal?: AbortSignal): Promise<string[]> {
    const { nameServers } = await this.describeZone(recordName, signal);
    const resolved = await Promise.all(
      nameServers.map((host) =>
        this.lookup.addresses(host).catch((error: Error) => {
          this.logger.debug(`cloudflare: cannot resolve name server ${host}: ${error.message}`);
          return [] as string[];
        }),
      ),
    );
    return resolved.flat().map((a) => (a.includes(':') ? `[${a}]:53` : `${a}:53`));
  }

  private zoneFor(recordName: string, signal?: AbortSignal): Promise<ZoneRef> {
    if (this.config.zoneId) return Promise.resolve({ id: this.config.zoneId });
    let zone = this.zoneOf.get(recordName);
    if (!zone) {
      zone = this.findZone(recordName, signal);
      this.zoneOf.set(recordName, zone);
      // A failure is not remembered: the next certificate of the run asks again.
      zone.catch(() => this.zoneOf.delete(recordName));
    }
    return zone;
  }

  /**
   * The longest suffix of `recordName` among the token's active zones. One page of zones answers
   * for every name when the token sees at most 50 (the usual case: one call per run); beyond that,
   * one exact-name query per suffix, longest first, each remembered for the run.
   */
  private async findZone(recordName: string, signal?: AbortSignal): Promise<ZoneRef> {
    const candidates = suffixes(recordName);
    if (!this.listing) {
      this.listing = this.listAllZones(signal);
      this.listing.catch(() => {
        this.listing = undefined;
      });
    }
    const all = await this.listing;
    let found: ZoneRef | undefined;
    if (all) {
      found = candidates.map((c) => all.find((z) => z.name === c)).find((z) => z !== undefined);
    } else {
      for (const candidate of candidates) {
        found = await this.zoneNamed(candidate, signal);
        if (found) break;
      }
    }
    if (!found) {
      throw new DnsProviderError(
        `cloudflare: no active zone for ${recordName} among the zones this API token can see`,
        {
          hint:
            'add the domain to Cloudflare, or give the token Zone → Zone → Read on its zone (with Zone → DNS → Edit); ' +
            'or name the zone with dns.zoneId',
        },
      );
    }
    this.logger.debug(`cloudflare: ${recordName} is in zone ${found.name} (${found.id})`);
    return found;
  }

  private async listAllZones(signal?: AbortSignal): Promise<ZoneRef[] | undefined> {
    const page = await this.call(
      'listing zones',
      () => this.client.zones.list({ per_page: ZONES_PER_PAGE }, { signal }),
      signal,
    );
    if (!lastPage(page.result.length, page.result_info, 1, ZONES_PER_PAGE)) return undefined;
    return page.result.filter(isActive).map(toRef);
  }

  private zoneNamed(name: string, signal?: AbortSignal): Promise<ZoneRef | undefined> {
    let zone = this.byName.get(name);
    if (!zone) {
      zone = this.call(
        `looking up zone ${name}`,
        () => this.client.zones.list({ name, per_page: 5 }, { signal }),
        signal,
      ).then((page) => {
        const z = page.result.find((x) => x.name.toLowerCase() === name && isActive(x));
        return z ? toRef(z) : undefined;
      });
      this.byName.set(name, zone);
      zone.catch(() => this.byName.delete(name));
    }
    return zone;
  }

  private configuredZone(signal?: AbortSignal): Promise<ZoneRef> {
    const id = this.config.zoneId as string;
    if (!this.configured) {
      this.configured = this.call(
        `reading zone ${id}`,
        () => this.client.zones.get({ zone_id: id }, { signal }),
        signal,
      ).then(toRef);
      this.configured.catch(() => {
        this.configured = undefined;
      });
    }
    return this.configured;
  }

  /** One API call: within the budget, retried on 429 / 5xx / connection failures. */
  private async call<T>(what: string, send: () => PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.bucket.acquire(this.clock, signal);
      try {
        return await send();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const wait = attempt < this.maxAttempts ? this.retryDelay(error, attempt) : undefined;
        if (wait === undefined) throw this.describe(error, what);
        this.logger.debug(`cloudflare: ${what} failed (${(error as Error).message}); retrying in ${wait} ms`);
        await this.clock.sleep(wait, signal);
      }
    }
  }

  private retryDelay(error: unknown, attempt: number): number | undefined {
    if (error instanceof APIUserAbortError || !(error instanceof APIError)) return undefined;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    if (error.status === 429) {
      const wait = retryAfterMs(error.headers, this.clock.now().getTime()) ?? backoff;
      // Every caller on this token waits: the window is the user's, not this request's.
      this.bucket.pause(this.clock.now().getTime() + wait);
      return wait;
    }
    if (error instanceof APIConnectionError || (error.status !== undefined && error.status >= 500)) return backoff;
    return undefined;
  }

  private describe(error: unknown, what: string): unknown {
    if (error instanceof APIConnectionError) {
      return new CloudflareApiError(
        `cloudflare: cannot reach ${this.baseUrl} (${what}): ${causeMessage(error)}`,
        [],
        undefined,
        {
          cause: error,
          hint: `check the network path to Cloudflare's API${this.baseUrl === DEFAULT_BASE_URL ? '' : ` (${BASE_URL_ENV} is ${this.baseUrl})`}`,
        },
      );
    }
    if (!(error instanceof APIError) || error.status === undefined) return error;
    const errors = envelopeErrors(error);
    const codes = errors.map((e) => e.code);
    const detail = errors.length > 0 ? errors.map(formatError).join('; ') : `HTTP ${error.status}`;
    return new CloudflareApiError(`cloudflare: ${detail} (${what}, HTTP ${error.status})`, codes, error.status, {
      cause: error,
      hint: this.hint(codes, error.status),
    });
  }

  private hint(codes: number[], status: number): string {
    if (codes.some((c) => AUTH_CODES.has(c)) || status === 401 || status === 403) {
      return (
        `check the API token (dns.apiToken or ${TOKEN_ENV}): it must be the token's secret value, with ` +
        'Zone → DNS → Edit on the zone and Zone → Zone → Read to find it'
      );
    }
    if (codes.some((c) => BAD_ID_CODES.has(c)) && this.config.zoneId) {
      return "check dns.zoneId: it is the zone's 32-character id from its Overview page in the dashboard";
    }
    if (status === 429) {
      return 'Cloudflare allows 1,200 API requests per 5 minutes per user, and other clients of this user spend it too; run again later';
    }
    if (status >= 500) return "Cloudflare's API failed; run again later (status: www.cloudflarestatus.com)";
    return 'Cloudflare rejected the request; its API reference lists the code';
  }
}

interface EnvelopeError {
  code: number;
  message: string;
  error_chain?: EnvelopeError[];
}

function envelopeErrors(error: APIError): EnvelopeError[] {
  return (error.errors as unknown[]).filter(
    (e): e is EnvelopeError => typeof e === 'object' && e !== null && typeof (e as EnvelopeError).code === 'number',
  );
}

function formatError(e: EnvelopeError): string {
  const chain = (e.error_chain ?? []).filter((c) => typeof c?.code === 'number');
  return `${e.code} ${e.message}${chain.length > 0 ? ` (${chain.map(formatError).join('; ')})` : ''}`;
}

function causeMessage(error: APIConnectionError): string {
  const cause = (error as { cause?: unknown }).cause;
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : error.message);
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(headers: Headers | undefined, now: number): number | undefined {
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Cloudflare's `result_info` has `total_pages`; without it, a short page is the last one. */
function lastPage(count: number, info: object | undefined, page: number, perPage: number): boolean {
  const total = (info as { total_pages?: unknown } | undefined)?.total_pages;
  return typeof total === 'number' ? page >= total : count < perPage;
}

function isActive(zone: Zone): boolean {
  return zone.status === undefined || zone.status === 'active';
}

function toRef(zone: Zone): ZoneRef {
  return {
    id: zone.id,
    name: zone.name.toLowerCase().replace(/\.$/, ''),
    nameServers: (zone.name_servers ?? []).map((n) => n.toLowerCase().replace(/\.$/, '')),
  };
}

/** `a.b.example.com` → itself, `b.example.com`, `example.com` (a zone is never a bare TLD here). */
function suffixes(name: string): string[] {
  const labels = name.split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

const key = (r: TxtRecord) => `${r.name}\n${r.value}`;

function unique(records: TxtRecord[]): TxtRecord[] {
  const seen = new Map<string, TxtRecord>();
  for (const r of records) seen.set(key(r), r);
  return [...seen.values()];
}

/** Runs every operation to its end, then throws the first failure: no record is left half-handled. */
async function settleAll(ops: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ops);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
