import { lookup as systemLookup } from 'node:dns/promises';
import { DnsManagementClient, type DnsManagementClientOptionalParams, type RecordSet } from '@azure/arm-dns';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { AdapterContext } from '../../../ports/adapter.js';
import type { Clock } from '../../../ports/clock.js';
import type { DnsCommon } from '../../../ports/config.js';
import type { DnsLookup, DnsProvider, TxtRecord, ZoneInfo } from '../../../ports/dns.js';
import { DnsProviderError, isTransientNetworkError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { backoffDelay, retry } from '../../../ports/retry.js';
import { WriteQueue } from '../../../ports/write-queue.js';
import { authorityHostFor, DEFAULT_ARM_ENDPOINT, isKnownAuthorityHost } from './clouds.js';

/**
 * Azure DNS DNS-01 provider (PRODUCT §2), on `@azure/arm-dns` + `@azure/identity`.
 *
 * A TXT record set is one ARM resource with an ETag that changes at every write. We read it, merge
 * our values into its records, and PUT it back with `If-Match: <etag>` (`If-None-Match: *` when it
 * did not exist), so a concurrent writer's change makes Azure answer 412 instead of losing a value;
 * then we read again. Cleanup PUTs the set minus our values, or DELETEs it with `If-Match` when ours
 * were the last. Foreign records, the set's TTL and its metadata are kept as they are. Inside one
 * process writes to one record set are queued and coalesced (apex + wildcard, concurrent certificates).
 */

export interface AzureDnsOptions {
  subscriptionId: string;
  resourceGroup: string;
  zoneName?: string;
  /** ARM endpoint, for sovereign clouds; the credential's authority host follows it. */
  endpoint?: string;
}

export type AzureDnsConfig = AzureDnsOptions & DnsCommon;
type HttpClient = NonNullable<DnsManagementClientOptionalParams['httpClient']>;

export interface AzureDnsDeps {
  clock: Clock;
  logger: Logger;
  env: AdapterContext['env'];
  lookup?: DnsLookup;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
  /** The HTTP client of both the ARM client and the credential (the SDKs' own injection point). */
  httpClient?: HttpClient;
  /** Default: DefaultAzureCredential for the endpoint's cloud. */
  credential?: TokenCredential;
}

export const PROVIDER = 'azure-dns';
const MAX_TRIES = 6;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** Longest Retry-After we honour before trying again anyway. */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_CONFLICT_ROUNDS = 6;
/** Per ARM request: a connection that hangs fails (and is retried) instead of holding the run. */
const REQUEST = { requestOptions: { timeout: 30_000 } };

interface AzureZone {
  name: string;
  id?: string;
  private: boolean;
  nameServers: string[];
}

interface Current {
  etag: string;
  ttl: number;
  metadata?: Record<string, string>;
  /** Each TXT record's strings, as read. */
  records: string[][];
}

interface Op {
  kind: 'present' | 'cleanup';
  values: string[];
}

interface Ctx {
  config: AzureDnsConfig;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

interface AzureErrorLike {
  name?: string;
  code?: unknown;
  statusCode?: number;
  message?: string;
  response?: { headers?: { get?(name: string): string | undefined } };
  errorResponse?: { error?: string; errorDescription?: string };
}

export const normalizeName = (name: string) => name.replace(/\.$/, '').toLowerCase();
const TXT_CHUNK = 255;
const textOf = (record: string[]) => record.join('');
/** Our value as one TXT record: strings of at most 255 characters (RFC 1035 character-strings). */
const toRecord = (value: string) => {
  const out: string[] = [];
  for (let i = 0; i < value.length || i === 0; i += TXT_CHUNK) out.push(value.slice(i, i + TXT_CHUNK));
  return out;
};

const errorOf = (error: unknown) => (error ?? {}) as AzureErrorLike;
const codeOf = (error: unknown) => {
  const c = errorOf(error).code;
  return typeof c === 'string' ? c : undefined;
};
const statusOf = (error: unknown) => errorOf(error).statusCode;
const firstLine = (text: string) => (text.split(/\r?\n/).find((l) => l.trim()) ?? '').trim();
const isAuthError = (error: unknown) =>
  /^(AuthenticationError|AggregateAuthenticationError|CredentialUnavailableError|AuthenticationRequiredError)$/.test(
    errorOf(error).name ?? '',
  );

function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 429 || status === 408 || (status !== undefined && status >= 500)) return true;
  // Azure DNS serialises writes to one record set; a write arriving meanwhile is refused with 409.
  if (status === 409 && /another operation is pending/i.test(errorOf(error).message ?? '')) return true;
  return !isAuthError(error) && isTransientNetworkError(error);
}

function retryAfterMs(error: unknown): number | undefined {
  const header = errorOf(error).response?.headers?.get?.('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** The credential failure that matters: in a chain, the first credential that failed rather than being unavailable. */
function credentialFailure(error: unknown): AzureErrorLike | undefined {
  const e = errorOf(error);
  if (e.name !== 'AggregateAuthenticationError') return e;
  const inner = ((error as { errors?: unknown[] }).errors ?? []).map(errorOf);
  return inner.find((x) => x.name !== 'CredentialUnavailableError');
}

/** `invalid_client: AADSTS7000215: Invalid client secret provided. …`, without Entra's trace ids and timestamps. */
function describeCredentialError(error: unknown): string {
  const failure = credentialFailure(error);
  if (!failure) return "no credential of DefaultAzureCredential's chain is available";
  const text = `${failure.message ?? ''}\n${failure.errorResponse?.errorDescription ?? ''}`;
  const code =
    /\b(invalid_client|invalid_grant|invalid_request|invalid_scope|invalid_tenant|unauthorized_client|unsupported_grant_type)\b/.exec(
      text,
    )?.[1];
  const aadsts = /AADSTS\d+:[^\r\n]*/.exec(text)?.[0]?.trim();
  if (aadsts) return `${code ? `${code}: ` : ''}${aadsts}`;
  return `${failure.name ?? 'Error'}: ${firstLine(failure.message ?? '')}`;
}

function hintFor(error: unknown, config: AzureDnsConfig): string | undefined {
  const code = codeOf(error);
  const scope = config.zoneName
    ? `the zone ${config.zoneName} (resource group ${config.resourceGroup})`
    : `the zone (resource group ${config.resourceGroup})`;
  if (isAuthError(error)) {
    const failure = credentialFailure(error);
    const text = `${failure?.message ?? ''} ${failure?.errorResponse?.errorDescription ?? ''}`;
    if (/AADSTS700213|AADSTS70021\b|federated identity/i.test(text)) {
      return "add a federated credential for this repository and branch (the OIDC token's subject) to the app registration or managed identity";
    }
    if (/AADSTS7000215|AADSTS7000222|client secret/i.test(text)) {
      return 'the client secret in AZURE_CLIENT_SECRET is wrong or expired';
    }
    if (/AADSTS90002|AADSTS700016/.test(text)) {
      return 'check AZURE_TENANT_ID and AZURE_CLIENT_ID (and that dns.endpoint is the cloud they belong to)';
    }
    if (failure) {
      return 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and the federated token (AZURE_FEDERATED_TOKEN_FILE) or secret';
    }
    return 'no Azure credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (federated, e.g. GitHub OIDC) or AZURE_CLIENT_SECRET, run with a managed identity, or sign in with `az login` (azure/login)';
  }
  switch (code) {
    case 'AuthorizationFailed':
    case 'LinkedAuthorizationFailed':
      return `grant the identity "DNS Zone Contributor" on ${scope}${config.zoneName ? '' : '; finding the zone also needs Reader on the resource group, or set dns.zoneName'}`;
    case 'InvalidAuthenticationToken':
    case 'InvalidAuthenticationTokenTenant':
    case 'ExpiredAuthenticationToken':
      return 'the token was refused: check AZURE_TENANT_ID and that dns.endpoint is the cloud the identity belongs to';
    case 'SubscriptionNotFound':
    case 'InvalidSubscriptionId':
      return `check dns.subscriptionId (${config.subscriptionId})`;
    case 'ResourceGroupNotFound':
      return `check dns.resourceGroup (${config.resourceGroup}) in subscription ${config.subscriptionId}`;
    case 'ParentResourceNotFound':
    case 'ResourceNotFound':
      return `check dns.zoneName${config.zoneName ? ` (${config.zoneName})` : ''} and dns.resourceGroup (${config.resourceGroup})`;
  }
  if (statusOf(error) === 429) return 'Azure Resource Manager throttled the requests: retry later';
  return undefined;
}

/**
 * `azure-dns: <code>: <message> (<what>)`. The SDK error is not kept as the cause: it holds the
 * request, whose Authorization header carries the token.
 */
function toProviderError(error: unknown, what: string, config: AzureDnsConfig, tries = 1): DnsProviderError {
  if (error instanceof DnsProviderError) return error;
  const e = errorOf(error);
  let head: string;
  if (isAuthError(error)) {
    head = `credentials: ${describeCredentialError(error)}`;
  } else {
    head = `${codeOf(error) ?? (e.statusCode ? `HTTP ${e.statusCode}` : (e.name ?? 'Error'))}: ${firstLine(e.message ?? String(error))}`;
  }
  const hint = hintFor(error, config);
  const cause = new Error(head);
  cause.name = e.name ?? 'Error';
  if (codeOf(error)) (cause as { code?: string }).code = codeOf(error);
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
        maxAfterMs: MAX_RETRY_AFTER_MS,
        ...(options.signal ? { signal: options.signal } : {}),
        retryable: (error) => {
          if (options.passThrough?.(error) || !isRetryable(error)) return false;
          const afterMs = retryAfterMs(error);
          return afterMs ? { afterMs } : true;
        },
        onRetry: (error, attempt) =>
          ctx.logger.debug(`${PROVIDER}: ${what}: ${codeOf(error) ?? statusOf(error) ?? 'network error'}, retrying`, {
            attempt,
          }),
      },
    );
  } catch (error) {
    if (options.passThrough?.(error)) throw error;
    throw toProviderError(error, what, ctx.config, tries);
  }
}

const isPreconditionFailed = (error: unknown) => statusOf(error) === 412;

/** Serializes and coalesces the writes to one TXT record set. */
class RecordSetWriter {
  private readonly writes: WriteQueue<Op>;

  constructor(
    private readonly client: DnsManagementClient,
    private readonly zone: AzureZone,
    /** Relative to the zone; `@` at the apex. */
    private readonly relativeName: string,
    private readonly ctx: Ctx,
  ) {
    this.writes = new WriteQueue<Op>({
      write: async (ops) => {
        await this.apply(ops);
        return undefined;
      },
    });
  }

  submit(kind: Op['kind'], values: string[], signal?: AbortSignal): Promise<void> {
    return this.writes.submit({ kind, values }, signal);
  }

  private get label(): string {
    return `TXT ${this.relativeName} in zone ${this.zone.name}`;
  }

  private async read(): Promise<Current | undefined> {
    const { config } = this.ctx;
    try {
      const set = await withRetry(
        this.ctx,
        `get ${this.label}`,
        () => this.client.recordSets.get(config.resourceGroup, this.zone.name, this.relativeName, 'TXT', REQUEST),
        { passThrough: (e) => statusOf(e) === 404 && codeOf(e) === 'NotFound' },
      );
      return {
        etag: set.etag ?? '',
        ttl: set.ttl ?? config.ttl,
        ...(set.metadata ? { metadata: set.metadata } : {}),
        records: (set.txtRecords ?? []).map((r) => r.value ?? []),
      };
    } catch (error) {
      // The record set does not exist (its zone does: a missing zone is ParentResourceNotFound).
      if (statusOf(error) === 404 && codeOf(error) === 'NotFound') return undefined;
      throw error;
    }
  }

  private async apply(ops: Op[]): Promise<void> {
    const { ctx, client } = this;
    const { config } = ctx;
    for (let round = 1; ; round++) {
      const cur = await this.read();
      const records = [...(cur?.records ?? [])];
      let added = 0;
      let removed = 0;
      for (const op of ops) {
        for (const value of op.values) {
          const i = records.findIndex((r) => textOf(r) === value);
          if (op.kind === 'present' && i < 0) {
            records.push(toRecord(value));
            added++;
          } else if (op.kind === 'cleanup' && i >= 0) {
            records.splice(i, 1);
            removed++;
          }
        }
      }
      if (added === 0 && removed === 0) {
        ctx.logger.debug(`${PROVIDER}: nothing to change in ${this.label}`);
        return;
      }
      let what = `write ${this.label}`;
      try {
        if (cur && records.length === 0) {
          what = `delete ${this.label}`;
          await withRetry(
            ctx,
            what,
            () =>
              client.recordSets.delete(config.resourceGroup, this.zone.name, this.relativeName, 'TXT', {
                ...REQUEST,
                ifMatch: cur.etag,
              }),
            { passThrough: isPreconditionFailed },
          );
        } else {
          what = `${cur ? 'update' : 'create'} ${this.label}`;
          const parameters: RecordSet = {
            // An existing set may hold others' values: its TTL and metadata stay as they are.
            ttl: cur?.ttl ?? config.ttl,
            ...(cur?.metadata ? { metadata: cur.metadata } : {}),
            txtRecords: records.map((value) => ({ value })),
          };
          await withRetry(
            ctx,
            what,
            () =>
              client.recordSets.createOrUpdate(
                config.resourceGroup,
                this.zone.name,
                this.relativeName,
                'TXT',
                parameters,
                { ...REQUEST, ...(cur ? { ifMatch: cur.etag } : { ifNoneMatch: '*' }) },
              ),
            { passThrough: isPreconditionFailed },
          );
        }
        ctx.logger.info(`${PROVIDER}: ${this.label}: ${added} TXT value(s) added, ${removed} removed`, {
          zone: this.zone.name,
          recordSet: this.relativeName,
        });
        return;
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
        if (round >= MAX_CONFLICT_ROUNDS) {
          throw toProviderError(error, `${what}, still conflicting after ${round} re-reads`, config);
        }
        ctx.logger.debug(`${PROVIDER}: ${this.label} changed while we wrote (412); reading it again`, { round });
        await ctx.clock.sleep(backoffDelay(BACKOFF, round, ctx.random));
      }
    }
  }
}

export function createAzureDnsClient(
  config: AzureDnsConfig,
  deps: Pick<AzureDnsDeps, 'env' | 'httpClient' | 'credential'>,
): DnsManagementClient {
  const endpoint = (config.endpoint ?? DEFAULT_ARM_ENDPOINT).replace(/\/+$/, '');
  let credential = deps.credential;
  if (!credential) {
    const authorityHost = authorityHostFor(config.endpoint, deps.env);
    if (!authorityHost) {
      // The descriptor's check refuses this config before a run; kept for direct callers.
      throw new DnsProviderError(`${PROVIDER}: no Entra ID authority host is known for the endpoint ${endpoint}`, {
        hint: 'set AZURE_AUTHORITY_HOST to the authority of that cloud',
      });
    }
    credential = new DefaultAzureCredential({
      authorityHost,
      // MSAL checks an authority against Microsoft's list, which holds none but Microsoft's clouds.
      ...(isKnownAuthorityHost(authorityHost) ? {} : { disableInstanceDiscovery: true }),
      ...(deps.httpClient ? { httpClient: deps.httpClient } : {}),
    });
  }
  return new DnsManagementClient(credential, config.subscriptionId, {
    endpoint,
    $host: endpoint,
    userAgentOptions: { userAgentPrefix: 'certkeeper' },
    // The SDK would retry 429/5xx with real-time sleeps; ours run on the injected clock.
    retryOptions: { maxRetries: 0 },
    ...(deps.httpClient ? { httpClient: deps.httpClient } : {}),
  });
}

export function createAzureDnsProvider(config: AzureDnsConfig, deps: AzureDnsDeps): DnsProvider {
  const client = createAzureDnsClient(config, deps);
  const ctx: Ctx = { config, clock: deps.clock, logger: deps.logger, random: deps.random ?? Math.random };
  let zones: Promise<AzureZone[]> | undefined;
  const writers = new Map<string, RecordSetWriter>();

  const toZone = (z: { name?: string; id?: string; zoneType?: string; nameServers?: string[] }): AzureZone => ({
    name: normalizeName(z.name ?? ''),
    ...(z.id ? { id: z.id } : {}),
    private: z.zoneType === 'Private',
    nameServers: (z.nameServers ?? []).map(normalizeName),
  });

  function listZones(): Promise<AzureZone[]> {
    if (!zones) {
      zones = (async () => {
        if (config.zoneName) {
          const name = config.zoneName;
          const zone = await withRetry(ctx, `get zone ${name} in resource group ${config.resourceGroup}`, () =>
            client.zones.get(config.resourceGroup, name, REQUEST),
          );
          return [toZone(zone)];
        }
        return withRetry(ctx, `list zones in resource group ${config.resourceGroup}`, async () => {
          const found: AzureZone[] = [];
          for await (const z of client.zones.listByResourceGroup(config.resourceGroup, REQUEST)) found.push(toZone(z));
          return found;
        });
      })();
      zones.catch(() => {
        zones = undefined;
      });
    }
    return zones;
  }

  async function zoneFor(recordName: string): Promise<AzureZone> {
    const all = await listZones();
    const holds = (z: AzureZone) => recordName === z.name || recordName.endsWith(`.${z.name}`);
    if (config.zoneName) {
      const zone = all[0] as AzureZone;
      if (!holds(zone)) {
        throw new DnsProviderError(`${PROVIDER}: ${recordName} is not in zone ${zone.name}`, {
          hint: 'dns.zoneName must be the zone that holds the _acme-challenge names (or the challengeAlias zone)',
        });
      }
      return zone;
    }
    const matching = all.filter(holds).sort((a, b) => b.name.length - a.name.length);
    const best = matching.find((z) => !z.private);
    if (best) return best;
    throw new DnsProviderError(
      `${PROVIDER}: no public DNS zone in resource group ${config.resourceGroup} holds ${recordName}`,
      {
        hint:
          matching.length > 0
            ? `only private zones match (${matching.map((z) => z.name).join(', ')}); name one in dns.zoneName to use it`
            : `create the zone in resource group ${config.resourceGroup} of subscription ${config.subscriptionId}, or check dns.resourceGroup`,
      },
    );
  }

  function writer(zone: AzureZone, recordName: string): RecordSetWriter {
    const relative = recordName === zone.name ? '@' : recordName.slice(0, -(zone.name.length + 1));
    const k = `${zone.name}|${relative}`;
    let w = writers.get(k);
    if (!w) {
      w = new RecordSetWriter(client, zone, relative, ctx);
      writers.set(k, w);
    }
    return w;
  }

  async function run(kind: Op['kind'], records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    const byName = new Map<string, string[]>();
    for (const r of records) {
      const name = normalizeName(r.name);
      byName.set(name, [...(byName.get(name) ?? []), r.value]);
    }
    // Record sets are independent ARM resources: one write each, in parallel.
    const results = await Promise.allSettled(
      [...byName].map(async ([name, values]) => writer(await zoneFor(name), name).submit(kind, values, signal)),
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
      return { name: zone.name, ...(zone.id ? { id: zone.id } : {}), nameServers: zone.nameServers };
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
          `${PROVIDER}: none of zone ${zone.name}'s name servers resolved (${zone.nameServers.join(', ') || 'none listed'})`,
          { hint: 'set dns.propagation.resolvers' },
        );
      }
      return [...addresses];
    },
  };
}
