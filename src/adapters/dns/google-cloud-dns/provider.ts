import { lookup as systemLookup } from 'node:dns/promises';
import { DNS, type DNSOptions, type Record as RecordSet, type Zone } from '@google-cloud/dns';
import type { Change } from '@google-cloud/dns/build/src/change.js';
import type { AdapterContext } from '../../../ports/adapter.js';
import type { Clock } from '../../../ports/clock.js';
import type { DnsCommon } from '../../../ports/config.js';
import type { DnsLookup, DnsProvider, TxtRecord, ZoneInfo } from '../../../ports/dns.js';
import { DnsProviderError, isTransientNetworkError, PropagationError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { backoffDelay, poll, retry } from '../../../ports/retry.js';
import { WriteQueue } from '../../../ports/write-queue.js';

/**
 * Google Cloud DNS DNS-01 provider (PRODUCT §2), on the vendor SDK `@google-cloud/dns`.
 *
 * Cloud DNS replaces whole rrsets, and a Change is atomic: it carries the deletion of the TXT
 * rrset exactly as we read it and the addition of the merged one. If anyone changed the rrset in
 * between, Cloud DNS refuses the whole Change (412 conditionNotMet when our deletion no longer
 * matches, 409 alreadyExists when someone created the rrset we add, 404 when they deleted the one
 * we delete) and we read again. So apex + wildcard values, other runs' values and foreign values
 * all survive. Inside one process writes to a zone are queued and coalesced, so concurrent
 * certificates sharing `_acme-challenge.<d>` send one Change instead of racing each other.
 */

export interface GoogleCloudDnsOptions {
  project: string;
  managedZone?: string;
  /** API base URL (`https://host[:port][/path]`), for tests and private endpoints. */
  endpoint?: string;
}

export type GoogleCloudDnsConfig = GoogleCloudDnsOptions & DnsCommon;

export interface GoogleCloudDnsDeps {
  clock: Clock;
  logger: Logger;
  env: AdapterContext['env'];
  lookup?: DnsLookup;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
}

export const PROVIDER = 'google-cloud-dns';
/** Retries of rate limits, 5xx and network failures: tries, first delay, cap. */
const MAX_TRIES = 6;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** Re-reads after a concurrent writer changed an rrset between our read and our Change. */
const MAX_CONFLICT_ROUNDS = 6;
/** Names per Change: Cloud DNS allows 1000 additions/deletions per Change; we use two per name. */
const MAX_NAMES_PER_CHANGE = 100;
const REQUEST_TIMEOUT_MS = 30_000;
const PROGRESS_EVERY_MS = 15_000;

interface ManagedZone {
  /** The managed zone's resource name (`example-com`), what the API addresses it by. */
  name: string;
  /** Lowercase, no trailing dot. */
  dnsName: string;
  private: boolean;
  nameServers: string[];
}

interface TxtValue {
  /** As Cloud DNS returns it (presentation format, quoted). */
  raw: string;
  text: string;
}

interface Op {
  kind: 'present' | 'cleanup';
  records: TxtRecord[];
}

/** The next Change: ops from the front of the queue, up to MAX_NAMES_PER_CHANGE names. */
function takeBatch(queue: Op[]): Op[] {
  const names = new Set<string>();
  const ops: Op[] = [];
  for (const next of queue) {
    const added = next.records.filter((r) => !names.has(r.name)).length;
    if (ops.length > 0 && names.size + added > MAX_NAMES_PER_CHANGE) break;
    ops.push(next);
    for (const r of next.records) names.add(r.name);
  }
  return ops;
}

interface Ctx {
  config: GoogleCloudDnsConfig;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** The fields of a googleapis error (`ApiError` of @google-cloud/common, `GaxiosError` of google-auth-library). */
interface GoogleErrorLike {
  code?: unknown;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number; statusCode?: number; data?: unknown };
}

export const fqdn = (name: string) => `${name.replace(/\.$/, '')}.`;
export const normalizeName = (name: string) => name.replace(/\.$/, '').toLowerCase();

const TXT_CHUNK = 255;

/** `"value"` in 255-character strings with `"` and `\` escaped (RFC 1035 character-strings). */
export function quoteTxt(value: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < value.length || i === 0; i += TXT_CHUNK) chunks.push(value.slice(i, i + TXT_CHUNK));
  return chunks.map((c) => `"${c.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(' ');
}

/** The text of a TXT rrdata as Cloud DNS presents it: quoted strings (with \" \\ \ddd escapes), joined. */
export function parseTxt(raw: string): string {
  const strings = [...raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
  if (strings.length === 0) return raw;
  const bytes: number[] = [];
  for (const s of strings) {
    const chars = [...s];
    for (let i = 0; i < chars.length; i++) {
      // \DDD is decimal in DNS presentation format (RFC 1035 §5.1).
      const digits = chars.slice(i + 1, i + 4).join('');
      if (chars[i] === '\\' && /^[0-9]{3}$/.test(digits)) {
        bytes.push(Number.parseInt(digits, 10));
        i += 3;
      } else {
        bytes.push(...Buffer.from(chars[i] === '\\' ? (chars[++i] ?? '') : (chars[i] as string), 'utf8'));
      }
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function statusOf(error: unknown): number | undefined {
  const e = error as GoogleErrorLike | null;
  if (typeof e?.code === 'number') return e.code;
  return e?.response?.status ?? e?.response?.statusCode;
}

function reasonOf(error: unknown): string | undefined {
  const e = error as GoogleErrorLike | null;
  // v1 (apiary) bodies name a reason per error; newer ones (IAM credentials) only a status.
  const status = (e?.response?.data as { error?: { status?: unknown } } | undefined)?.error?.status;
  return e?.errors?.find((x) => x.reason)?.reason ?? (typeof status === 'string' ? status : undefined);
}

/** An OAuth error body (`{ error, error_description }`) from a token endpoint, if that is what failed. */
function oauthErrorOf(error: unknown): { error: string; description?: string } | undefined {
  const data = (error as GoogleErrorLike | null)?.response?.data as
    | { error?: unknown; error_description?: unknown }
    | undefined;
  if (data && typeof data.error === 'string') {
    return {
      error: data.error,
      ...(typeof data.error_description === 'string' ? { description: data.error_description } : {}),
    };
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  // ApiError joins several messages on separate lines; one line reads better in a summary.
  return raw.replace(/\s*\n\s*/g, ' ').trim();
}

/** True for the HTTP-level failures worth retrying (the SDK's own list: 408, 429, 5xx, rate-limit reasons). */
function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined && [408, 429, 500, 502, 503, 504].includes(status)) return true;
  const reason = reasonOf(error);
  if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded') return true;
  return isTransientNetworkError(error);
}

/** Our Change lost a race with another writer of one of its rrsets: read again and retry. */
function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 412 || status === 409) return true;
  // A deletion of an rrset someone else removed meanwhile: 404 naming the Change's deletions.
  return status === 404 && /entity\.change\.deletions/.test(messageOf(error));
}

export const ROLE_HINT =
  'grant roles/dns.admin (on the project or the managed zone), or a custom role with dns.changes.create, ' +
  'dns.changes.get, dns.resourceRecordSets.list, dns.resourceRecordSets.create, dns.resourceRecordSets.update, ' +
  'dns.resourceRecordSets.delete and dns.managedZones.list (dns.managedZones.get when dns.managedZone is set)';

function hintFor(error: unknown, config: GoogleCloudDnsConfig): string | undefined {
  const status = statusOf(error);
  const reason = reasonOf(error);
  const oauth = oauthErrorOf(error);
  const message = messageOf(error);
  if ((error as { code?: unknown } | null)?.code === 'ENOENT') {
    return 'GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist (in GitHub Actions: run google-github-actions/auth first)';
  }
  if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) {
    return 'no Application Default Credentials: set GOOGLE_APPLICATION_CREDENTIALS (in GitHub Actions: google-github-actions/auth with workload identity federation), or run on Google Cloud with a service account';
  }
  if (/unable to impersonate|iam\.serviceAccounts\.getAccessToken/i.test(message)) {
    return 'the federated identity may not impersonate the service account: grant the pool principal roles/iam.workloadIdentityUser on that service account';
  }
  if (oauth) {
    return "the credentials in GOOGLE_APPLICATION_CREDENTIALS were refused: check the workload identity pool provider (audience, attribute condition) and that the file is this run's";
  }
  if (reason === 'accessNotConfigured')
    return `enable the Cloud DNS API (dns.googleapis.com) in project ${config.project}`;
  if (status === 401) return 'the access token was refused: check the credentials in GOOGLE_APPLICATION_CREDENTIALS';
  if (status === 403) return ROLE_HINT;
  if (status === 404) {
    return config.managedZone
      ? `check dns.project (${config.project}) and dns.managedZone (${config.managedZone})`
      : `check dns.project (${config.project})`;
  }
  if (status === 429) return 'Cloud DNS quota exceeded: retry later, or raise the project’s Cloud DNS API quota';
  return undefined;
}

/**
 * `google-cloud-dns: <status> <reason>: <message> (<what>)`. The SDK error itself is not kept as
 * the cause: it carries the request, whose Authorization header holds the access token.
 */
function toProviderError(error: unknown, what: string, config: GoogleCloudDnsConfig, tries = 1): DnsProviderError {
  if (error instanceof DnsProviderError) return error;
  const status = statusOf(error);
  const oauth = oauthErrorOf(error);
  let head: string;
  if (oauth) {
    head = `credentials: ${[status, oauth.error].filter((x) => x !== undefined).join(' ')}${oauth.description ? `: ${oauth.description}` : ''}`;
  } else if (status !== undefined) {
    head = `${status} ${reasonOf(error) ?? 'error'}: ${messageOf(error)}`;
  } else {
    head = messageOf(error);
  }
  const hint = hintFor(error, config);
  const cause = new Error(head);
  cause.name = (error as Error | null)?.name ?? 'Error';
  if (typeof (error as { code?: unknown } | null)?.code === 'string') {
    (cause as { code?: unknown }).code = (error as { code: string }).code;
  }
  return new DnsProviderError(`${PROVIDER}: ${head} (${what}${tries > 1 ? `, after ${tries} tries` : ''})`, {
    cause,
    ...(hint ? { hint } : {}),
  });
}

const BACKOFF = { baseMs: BASE_DELAY_MS, maxMs: MAX_DELAY_MS, jitter: 'equal' } as const;

/** Runs `fn`, retrying what is worth retrying; errors `passThrough` accepts are rethrown as they are. */
async function withRetry<T>(
  ctx: Ctx,
  what: string,
  fn: () => Promise<T>,
  options: { signal?: AbortSignal; passThrough?: (error: unknown) => boolean } = {},
): Promise<T> {
  let tries = 0;
  try {
    return await retry(
      (attempt) => {
        tries = attempt;
        return fn();
      },
      {
        clock: ctx.clock,
        tries: MAX_TRIES,
        backoff: BACKOFF,
        random: ctx.random,
        ...(options.signal ? { signal: options.signal } : {}),
        retryable: (error) => !options.passThrough?.(error) && isRetryable(error),
        onRetry: (error, attempt) =>
          ctx.logger.debug(`${PROVIDER}: ${what}: ${statusOf(error) ?? 'network error'}, retrying`, { attempt }),
      },
    );
  } catch (error) {
    if (options.passThrough?.(error)) throw error;
    throw toProviderError(error, what, ctx.config, tries);
  }
}

class ZoneWriter {
  private readonly writes: WriteQueue<Op>;

  constructor(
    private readonly zone: Zone,
    private readonly info: ManagedZone,
    private readonly ctx: Ctx,
  ) {
    // One Change at a time per zone; presents issued together leave in one Change.
    this.writes = new WriteQueue<Op>({
      take: (queue) => takeBatch(queue),
      write: async (ops) => {
        await this.apply(ops);
        return undefined;
      },
    });
  }

  submit(kind: Op['kind'], records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    return this.writes.submit({ kind, records }, signal);
  }

  private async read(name: string): Promise<{ set: RecordSet; values: TxtValue[] } | undefined> {
    const [sets] = await withRetry(this.ctx, `resourceRecordSets.list ${name} in zone ${this.info.name}`, () =>
      this.zone.getRecords({ name: fqdn(name), type: 'TXT', autoPaginate: false }),
    );
    const set = sets.find((s) => s.type === 'TXT' && normalizeName(String(s.metadata.name ?? '')) === name);
    if (!set) return undefined;
    const rrdatas = (set.data ?? []) as string[];
    return { set, values: rrdatas.map((raw) => ({ raw, text: parseTxt(raw) })) };
  }

  private async apply(ops: Op[]): Promise<void> {
    const { ctx, info } = this;
    const names = [...new Set(ops.flatMap((o) => o.records.map((r) => r.name)))];
    let change: Change | undefined;
    let summary = '';
    for (let round = 1; ; round++) {
      const current = new Map(await Promise.all(names.map(async (n) => [n, await this.read(n)] as const)));
      const additions: RecordSet[] = [];
      const deletions: RecordSet[] = [];
      let added = 0;
      let removed = 0;
      for (const name of names) {
        const cur = current.get(name);
        const want = new Map<string, string>((cur?.values ?? []).map((v) => [v.text, v.raw]));
        for (const op of ops) {
          for (const r of op.records) {
            if (r.name !== name) continue;
            if (op.kind === 'present' && !want.has(r.value)) {
              want.set(r.value, quoteTxt(r.value));
              added++;
            } else if (op.kind === 'cleanup' && want.delete(r.value)) {
              removed++;
            }
          }
        }
        const unchanged =
          (cur?.values.length ?? 0) === want.size && (cur?.values ?? []).every((v) => want.get(v.text) === v.raw);
        if (unchanged) continue;
        // Exactly as read: Cloud DNS refuses the Change if the rrset is no longer this.
        if (cur) deletions.push(cur.set);
        if (want.size > 0) {
          additions.push(
            this.zone.record('txt', {
              name: fqdn(name),
              // The rrset may hold others' values too: keep its TTL.
              ttl: Number(cur?.set.metadata.ttl ?? ctx.config.ttl),
              data: [...want.values()],
            }),
          );
        }
      }
      if (additions.length === 0 && deletions.length === 0) {
        ctx.logger.debug(`${PROVIDER}: nothing to change in zone ${info.name}`, { names });
        return;
      }
      summary = `${added} TXT value(s) added, ${removed} removed at ${names.length} name(s)`;
      const what = `changes.create in zone ${info.name}`;
      try {
        [change] = await withRetry(ctx, what, () => this.zone.createChange({ add: additions, delete: deletions }), {
          passThrough: isConflict,
        });
        break;
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (round >= MAX_CONFLICT_ROUNDS) {
          throw toProviderError(error, `${what}, still conflicting after ${round} re-reads`, ctx.config);
        }
        ctx.logger.debug(`${PROVIDER}: zone ${info.name} changed while we wrote; reading it again`, {
          round,
          status: statusOf(error),
          reason: reasonOf(error),
        });
        await ctx.clock.sleep(backoffDelay(BACKOFF, round, ctx.random));
      }
    }
    const id = String(change?.metadata?.id ?? change?.id ?? '');
    ctx.logger.info(`${PROVIDER}: zone ${info.dnsName}: ${summary}`, { zone: info.name, change: id, names });
    // Cloud DNS applies an accepted Change to the rrsets at once, and `done` only says its name
    // servers serve it: a removal need not wait, a present must (the CA is asked right after).
    if (change && change.metadata?.status !== 'done' && ops.some((o) => o.kind === 'present')) {
      await this.waitDone(change, id);
    }
  }

  /** Polls changes.get until `done`, backing off: Cloud DNS usually takes a few seconds. */
  private async waitDone(change: Change, id: string): Promise<void> {
    const { ctx, info } = this;
    const started = ctx.clock.now().getTime();
    await poll(
      async () => {
        const [metadata] = await withRetry(ctx, `changes.get ${id} in zone ${info.name}`, () => change.getMetadata());
        return (metadata as { status?: string }).status;
      },
      (status) => (status === 'done' ? true : undefined),
      {
        clock: ctx.clock,
        // The Change's own answer said pending.
        waitFirst: true,
        timeoutMs: ctx.config.propagation.timeoutMs,
        initialDelayMs: 500,
        maxDelayMs: 5_000,
        progressEveryMs: PROGRESS_EVERY_MS,
        onProgress: (waitedMs) =>
          ctx.logger.info(`${PROVIDER}: waiting for change ${id} in zone ${info.name} to be done`, { waitedMs }),
        onTimeout: (waitedMs) =>
          new PropagationError(
            `${PROVIDER}: change ${id} in zone ${info.name} still pending after ${Math.round(waitedMs / 1000)} s`,
            {
              hint: 'Cloud DNS usually reports a change done within seconds; raise dns.propagation.timeout if it is slow today',
            },
          ),
      },
    );
    ctx.logger.debug(`${PROVIDER}: change ${id} is done`, { waitedMs: ctx.clock.now().getTime() - started });
  }
}

/** `https://host[:port][/path]` → what the SDK wants as `apiEndpoint` (it prepends https:// and appends /dns/v1). */
function apiEndpointOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.host}${url.pathname.replace(/\/+$/, '').replace(/\/dns\/v1$/, '')}`;
}

export function createGoogleCloudDnsClient(config: GoogleCloudDnsConfig, env: AdapterContext['env']): DNS {
  const keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS;
  // userAgent, timeout and interceptors_ are options of the SDK's Service base, absent from DNSOptions' type.
  const options: DNSOptions & {
    userAgent: string;
    timeout: number;
    interceptors_: { request: (reqOpts: Record<string, unknown>) => Record<string, unknown> }[];
  } = {
    projectId: config.project,
    ...(config.endpoint ? { apiEndpoint: apiEndpointOf(config.endpoint) } : {}),
    // Application Default Credentials; the injected environment wins over the process's.
    ...(keyFilename ? { keyFilename } : {}),
    userAgent: 'certkeeper',
    timeout: REQUEST_TIMEOUT_MS,
    // The SDK would retry 429/5xx itself with real-time sleeps; ours run on the injected clock.
    interceptors_: [{ request: (reqOpts) => ({ ...reqOpts, maxRetries: 0 }) }],
  };
  return new DNS(options);
}

export function createGoogleCloudDnsProvider(
  config: GoogleCloudDnsConfig,
  deps: GoogleCloudDnsDeps & { client?: DNS },
): DnsProvider {
  const client = deps.client ?? createGoogleCloudDnsClient(config, deps.env);
  const ctx: Ctx = { config, clock: deps.clock, logger: deps.logger, random: deps.random ?? Math.random };
  let zones: Promise<ManagedZone[]> | undefined;
  const writers = new Map<string, ZoneWriter>();

  const toZone = (m: Record<string, unknown>): ManagedZone => ({
    name: String(m.name ?? ''),
    dnsName: normalizeName(String(m.dnsName ?? '')),
    private: m.visibility === 'private',
    nameServers: ((m.nameServers as string[] | undefined) ?? []).map(normalizeName),
  });

  function listZones(): Promise<ManagedZone[]> {
    if (!zones) {
      zones = (async () => {
        if (config.managedZone) {
          const name = config.managedZone;
          const [metadata] = (await withRetry(ctx, `managedZones.get ${name} in project ${config.project}`, () =>
            client.zone(name).getMetadata(),
          )) as unknown as [Record<string, unknown>];
          return [toZone(metadata)];
        }
        const found: ManagedZone[] = [];
        let pageToken: string | undefined;
        do {
          const token = pageToken;
          const [page, next] = await withRetry(ctx, `managedZones.list in project ${config.project}`, () =>
            client.getZones({ autoPaginate: false, ...(token ? { pageToken: token } : {}) }),
          );
          found.push(...page.map((z) => toZone(z.metadata as Record<string, unknown>)));
          pageToken = next?.pageToken;
        } while (pageToken);
        return found;
      })();
      // A failed lookup is not cached: the next call (e.g. cleanup) asks again.
      zones.catch(() => {
        zones = undefined;
      });
    }
    return zones;
  }

  async function zoneFor(recordName: string): Promise<ManagedZone> {
    const all = await listZones();
    const holds = (z: ManagedZone) => recordName === z.dnsName || recordName.endsWith(`.${z.dnsName}`);
    if (config.managedZone) {
      const zone = all[0] as ManagedZone;
      if (!holds(zone)) {
        throw new DnsProviderError(
          `${PROVIDER}: ${recordName} is not in managed zone ${zone.name} (${zone.dnsName}) of project ${config.project}`,
          {
            hint: 'dns.managedZone must be the zone that holds the _acme-challenge names (or the challengeAlias zone)',
          },
        );
      }
      return zone;
    }
    const matching = all.filter(holds).sort((a, b) => b.dnsName.length - a.dnsName.length);
    // Private zones answer only inside their VPC networks, never to the CA: only when named.
    const best = matching.find((z) => !z.private);
    if (best) return best;
    const privateOnes = matching.map((z) => `${z.name} (${z.dnsName})`);
    throw new DnsProviderError(`${PROVIDER}: no public managed zone in project ${config.project} holds ${recordName}`, {
      hint:
        privateOnes.length > 0
          ? `only private zones match (${privateOnes.join(', ')}); name one in dns.managedZone to use it`
          : 'create the managed zone in this project, or check dns.project',
    });
  }

  function writer(zone: ManagedZone): ZoneWriter {
    let w = writers.get(zone.name);
    if (!w) {
      w = new ZoneWriter(client.zone(zone.name), zone, ctx);
      writers.set(zone.name, w);
    }
    return w;
  }

  async function run(kind: Op['kind'], records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const groups = new Map<string, { zone: ManagedZone; records: TxtRecord[] }>();
    for (const r of records) {
      const record = { name: normalizeName(r.name), value: r.value };
      const zone = await zoneFor(record.name);
      const g = groups.get(zone.name) ?? { zone, records: [] };
      g.records.push(record);
      groups.set(zone.name, g);
    }
    // One Change per zone; zones are independent, so in parallel.
    const results = await Promise.allSettled(
      [...groups.values()].map((g) => writer(g.zone).submit(kind, g.records, signal)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return {
    name: PROVIDER,
    present: (records, signal) => run('present', records, signal),
    cleanup: (records, signal) => run('cleanup', records, signal),
    async describeZone(recordName): Promise<ZoneInfo> {
      const zone = await zoneFor(normalizeName(recordName));
      return { name: zone.dnsName, id: zone.name, nameServers: zone.nameServers };
    },
    async defaultResolvers(recordName) {
      const zone = await zoneFor(normalizeName(recordName));
      const resolve = deps.lookup
        ? (host: string) => (deps.lookup as DnsLookup).addresses(host)
        : async (host: string) => (await systemLookup(host, { all: true })).map((a) => a.address);
      const addresses = new Set<string>();
      await Promise.all(
        zone.nameServers.map(async (ns) => {
          try {
            for (const a of await resolve(ns)) addresses.add(a.includes(':') ? `[${a}]:53` : `${a}:53`);
          } catch (error) {
            ctx.logger.debug(`${PROVIDER}: cannot resolve name server ${ns}`, { error: (error as Error).message });
          }
        }),
      );
      if (addresses.size === 0) {
        throw new DnsProviderError(
          `${PROVIDER}: none of managed zone ${zone.name}'s name servers resolved (${zone.nameServers.join(', ') || 'none listed'})`,
          { hint: 'set dns.propagation.resolvers' },
        );
      }
      return [...addresses];
    },
  };
}
