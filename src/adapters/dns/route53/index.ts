import { lookup } from 'node:dns/promises';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { DnsConfig } from '../../../core/config.js';
import { parseDuration } from '../../../core/duration.js';
import type { Clock } from '../../../ports/clock.js';
import type { DnsProvider, TxtRecord } from '../../../ports/dns.js';
import { DnsProviderError, isTransientNetworkError, PropagationError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import {
  type AwsClientFactory,
  awsErrorName,
  awsHint,
  awsStatus,
  defaultAwsClientFactory,
  describeAwsError,
} from '../../aws/clients.js';

/**
 * Route 53 DNS-01 provider (PRODUCT §2).
 *
 * Writes are compare-and-swap: a change batch DELETEs the record set exactly as it was read (TTL and
 * values) and CREATEs the merged set, atomically. If anyone changed the set in between, Route 53
 * rejects the whole batch ("values do not match", "already exists", "not found") and we read again.
 * That keeps apex + wildcard values (and other runs' values) instead of the last writer's only,
 * which a plain UPSERT cannot guarantee across processes (certbot #5772, acme.sh #3036).
 * Inside one process, writes to a zone are queued and coalesced, so concurrent certificates that
 * share `_acme-challenge.<d>` send one batch instead of racing each other.
 */

export type Route53DnsConfig = Extract<DnsConfig, { provider: 'route53' }>;

export interface Route53Deps {
  logger: Logger;
  clock: Clock;
  /** A ready client (tests: aws-sdk-client-mock). Else one from `clients` for the config's region/role. */
  client?: Route53Client;
  clients?: AwsClientFactory;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
  /** Name server host → its addresses (default: the system resolver). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** How long to wait for INSYNC; default `propagation.timeout`. */
  changeTimeoutMs?: number;
}

/** Throttling/PriorRequestNotComplete retries: tries, first delay, cap (FACTS: SDK's 3 are too few). */
const MAX_TRIES = 8;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** Re-reads after a compare-and-swap conflict before giving up. */
const MAX_CONFLICT_ROUNDS = 6;
/** Names per coalesced batch: keeps a batch far below 1000 records / 32,000 characters. */
const MAX_NAMES_PER_BATCH = 100;
const TXT_CHUNK = 255;

interface Zone {
  id: string;
  name: string;
  private: boolean;
}

interface TxtValue {
  /** As Route 53 stores it (quoted); reused verbatim in DELETEs, which must match exactly. */
  raw: string;
  text: string;
}

interface RecordSet {
  ttl: number;
  values: TxtValue[];
}

interface OpContext {
  logger: Logger;
  clock: Clock;
  limiter: RateLimiter;
  random: () => number;
  ttl: number;
  changeTimeoutMs: number;
  pollIntervalMs: number;
}

interface Op {
  kind: 'present' | 'cleanup';
  records: TxtRecord[];
  ctx: OpContext;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The zone write queues, shared by every provider on the same client: providers for different
 * certificates (or DNS configs) of one process still take turns on a zone. Zone lookups are cached
 * per provider instead, i.e. per run, so a warm Lambda sees a recreated zone on its next run.
 */
const writersByClient = new WeakMap<Route53Client, Map<string, ZoneWriter>>();

/**
 * Route 53 allows 5 API requests per second per account. A fleet renewed with high concurrency
 * would spend its retries on Throttling (and can run out of them), so once Route 53 answers
 * Throttling, calls are spaced on our side for the rest of the run. Until then nothing is paced:
 * a small run, or an endpoint without the limit, goes at full speed. Each call reserves the next
 * free slot; a burst of `burst` calls goes out at once after a quiet spell. Shared by all
 * providers on one client.
 */
export class RateLimiter {
  private next = Number.NEGATIVE_INFINITY;
  private readonly interval: number;
  private active = false;
  constructor(
    perSecond: number,
    private readonly burst: number,
    options: { active?: boolean } = {},
  ) {
    this.interval = 1000 / perSecond;
    this.active = options.active ?? false;
  }

  /** Route 53 said Throttling: pace from now on. */
  throttled(): void {
    this.active = true;
  }

  get pacing(): boolean {
    return this.active;
  }

  async acquire(clock: Clock, signal?: AbortSignal): Promise<void> {
    if (!this.active) return;
    const now = clock.now().getTime();
    const slot = Math.max(this.next, now - (this.burst - 1) * this.interval);
    this.next = slot + this.interval;
    if (slot > now) await clock.sleep(slot - now, signal);
  }
}

export const ROUTE53_REQUESTS_PER_SECOND = 5;
const limitersByClient = new WeakMap<Route53Client, RateLimiter>();

function limiterOf(client: Route53Client): RateLimiter {
  let l = limitersByClient.get(client);
  if (!l) {
    l = new RateLimiter(ROUTE53_REQUESTS_PER_SECOND, ROUTE53_REQUESTS_PER_SECOND);
    limitersByClient.set(client, l);
  }
  return l;
}

function writersOf(client: Route53Client): Map<string, ZoneWriter> {
  let w = writersByClient.get(client);
  if (!w) {
    w = new Map();
    writersByClient.set(client, w);
  }
  return w;
}

export function normalizeName(name: string): string {
  // Route 53 returns names with a trailing dot and escapes such as \052 for '*'.
  return name
    .replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
    .replace(/\.$/, '')
    .toLowerCase();
}

function zoneIdOf(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

/** `"value"`, split into 255-character strings, with `"` and `\` escaped (RFC 1035 character-strings). */
export function quoteTxt(value: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < value.length || i === 0; i += TXT_CHUNK) chunks.push(value.slice(i, i + TXT_CHUNK));
  return chunks.map((c) => `"${c.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(' ');
}

/**
 * The character-strings of a Route 53 TXT value (`"a" "b"`, with \" \\ and \ddd escapes), as bytes.
 * A value without quotes is one string as written. Also what a DNS server answers for the value.
 */
export function txtCharacterStrings(raw: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const bytes: number[] = [];
    const chars = [...(m[1] as string)];
    for (let i = 0; i < chars.length; i++) {
      const octal = chars.slice(i + 1, i + 4).join('');
      if (chars[i] === '\\' && /^[0-7]{3}$/.test(octal)) {
        bytes.push(Number.parseInt(octal, 8));
        i += 3;
      } else {
        bytes.push(...Buffer.from(chars[i] === '\\' ? (chars[++i] ?? '') : (chars[i] as string), 'utf8'));
      }
    }
    out.push(Buffer.from(bytes));
  }
  return out.length > 0 ? out : [Buffer.from(raw)];
}

/** Inverse of `quoteTxt`, also for values written by others (several strings, \ddd octal escapes). */
export function parseTxt(raw: string): string {
  return Buffer.concat(txtCharacterStrings(raw)).toString('utf8');
}

function isRetryable(error: unknown): boolean {
  const name = awsErrorName(error);
  if (
    /^(Throttling|ThrottlingException|ThrottledException|PriorRequestNotComplete|RequestLimitExceeded|TooManyRequestsException|ServiceUnavailable|InternalFailure|InternalError|RequestTimeout|RequestTimeoutException)$/.test(
      name,
    )
  ) {
    return true;
  }
  const status = awsStatus(error);
  if (status !== undefined && status >= 500) return true;
  return isTransientNetworkError(error);
}

/** The batch lost a race with another writer: read again and retry. */
function isConflict(error: unknown): boolean {
  return (
    awsErrorName(error) === 'InvalidChangeBatch' &&
    /not found|already exists|do(es)? not match/i.test(error instanceof Error ? error.message : String(error))
  );
}

function sleepJittered(ctx: OpContext, attempt: number): Promise<void> {
  // "Equal jitter": at least half the exponential step, so a busy zone really gets breathing room,
  // and a random other half, so concurrent runs do not retry in lockstep.
  const step = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
  return ctx.clock.sleep(Math.round(step / 2 + ctx.random() * (step / 2)));
}

async function withRetry<T>(ctx: OpContext, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    await ctx.limiter.acquire(ctx.clock, signal);
    try {
      return await fn();
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_TRIES) {
        if (error instanceof DnsProviderError || (error as Error)?.name === 'AbortError') throw error;
        throw new DnsProviderError(
          `route53: ${what} failed${attempt > 1 ? ` after ${attempt} tries` : ''}: ${describeAwsError(error)}`,
          { cause: error, ...(awsHint(error) ? { hint: awsHint(error) as string } : {}) },
        );
      }
      if (/^Throttl/.test(awsErrorName(error) ?? '') && !ctx.limiter.pacing) {
        ctx.limiter.throttled();
        ctx.logger.info(`route53: throttled; pacing calls at ${ROUTE53_REQUESTS_PER_SECOND}/s for the rest of the run`);
      }
      ctx.logger.debug(`route53: ${what}: ${awsErrorName(error) || 'transient error'}, retrying`, { attempt });
      await sleepJittered(ctx, attempt);
    }
  }
}

/** Serializes and coalesces the writes to one zone. */
class ZoneWriter {
  private readonly queue: Op[] = [];
  private running = false;
  /**
   * A cleanup change not yet known INSYNC. Nobody needs to wait for a removal to reach every
   * name server (Route 53 applies an accepted change), so cleanup returns at once; only the next
   * write to this zone waits for it, as Route 53 wants (else PriorRequestNotComplete).
   */
  private unsynced: { id: string; ctx: OpContext } | undefined;

  constructor(
    private readonly client: Route53Client,
    private readonly zone: Zone,
  ) {}

  submit(kind: Op['kind'], records: TxtRecord[], ctx: OpContext, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const op: Op = { kind, records, ctx, resolve, reject };
      if (signal) {
        if (signal.aborted) return reject(signal.reason);
        // A queued op can be dropped; one already in a batch on the wire completes regardless
        // (its records are removed by the cleanup the core always runs, queued behind it).
        signal.addEventListener(
          'abort',
          () => {
            const i = this.queue.indexOf(op);
            if (i >= 0) this.queue.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      }
      this.queue.push(op);
      if (!this.running) {
        this.running = true;
        // Start on the next turn of the event loop, so presents issued together (a certificate's
        // names, concurrent certificates) leave in one batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const ops = this.takeBatch();
        try {
          // apply() returns once the change is INSYNC: the next batch for this zone waits for it,
          // which is what Route 53 wants anyway (else PriorRequestNotComplete).
          await this.apply(ops);
          for (const op of ops) op.resolve();
        } catch (error) {
          for (const op of ops) op.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private takeBatch(): Op[] {
    const names = new Set<string>();
    const ops: Op[] = [];
    while (this.queue.length > 0) {
      const next = this.queue[0] as Op;
      const added = next.records.filter((r) => !names.has(r.name)).length;
      if (ops.length > 0 && names.size + added > MAX_NAMES_PER_BATCH) break;
      this.queue.shift();
      ops.push(next);
      for (const r of next.records) names.add(r.name);
    }
    return ops;
  }

  private async read(ctx: OpContext, name: string): Promise<RecordSet | undefined> {
    const out = await withRetry(ctx, `ListResourceRecordSets ${name}`, () =>
      this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: this.zone.id,
          StartRecordName: name,
          StartRecordType: 'TXT',
          MaxItems: 1,
        }),
      ),
    );
    const set = out.ResourceRecordSets?.find(
      (r) => r.Type === 'TXT' && !r.SetIdentifier && r.Name !== undefined && normalizeName(r.Name) === name,
    );
    if (!set) return undefined;
    return {
      ttl: set.TTL ?? 300,
      values: (set.ResourceRecords ?? []).map((r) => ({ raw: r.Value ?? '""', text: parseTxt(r.Value ?? '""') })),
    };
  }

  private async apply(ops: Op[]): Promise<void> {
    const ctx = (ops[0] as Op).ctx;
    if (this.unsynced) {
      const { id, ctx: earlier } = this.unsynced;
      this.unsynced = undefined;
      await this.waitInsync(earlier, id).catch((error: Error) => {
        earlier.logger.debug(`route53: earlier cleanup change ${id}: ${error.message}`);
      });
    }
    const names = [...new Set(ops.flatMap((o) => o.records.map((r) => r.name)))];
    const ttlFor = new Map<string, number>();
    for (const op of ops) {
      if (op.kind !== 'present') continue;
      for (const r of op.records) if (!ttlFor.has(r.name)) ttlFor.set(r.name, op.ctx.ttl);
    }
    let changeId: string | undefined;
    let status: string | undefined;
    let previous: string | undefined;
    let upsert = false;
    for (let round = 1; ; round++) {
      const current = new Map<string, RecordSet | undefined>();
      for (const name of names) current.set(name, await this.read(ctx, name));
      const snapshot = JSON.stringify([...current]);
      if (snapshot === previous && !upsert) {
        // The batch was refused although nobody changed these names: the API does not apply
        // DELETE+CREATE atomically (moto, some emulators). Fall back to the plain UPSERT.
        ctx.logger.debug(`route53: zone ${this.zone.name}: compare-and-swap refused without a change; using UPSERT`);
        upsert = true;
      }
      previous = snapshot;

      const changes: Change[] = [];
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
        // Values are added to a set under its current TTL: the set may hold others' values too.
        const next = {
          Name: name,
          Type: 'TXT' as const,
          TTL: cur?.ttl ?? ttlFor.get(name) ?? ctx.ttl,
          ResourceRecords: [...want.values()].map((Value) => ({ Value })),
        };
        if (upsert && want.size > 0) {
          changes.push({ Action: 'UPSERT', ResourceRecordSet: next });
          continue;
        }
        if (cur) {
          // Exactly as read (TTL and values): Route 53 refuses the batch if the set changed since.
          changes.push({
            Action: 'DELETE',
            ResourceRecordSet: {
              Name: name,
              Type: 'TXT',
              TTL: cur.ttl,
              ResourceRecords: cur.values.map((v) => ({ Value: v.raw })),
            },
          });
        }
        if (want.size > 0) changes.push({ Action: 'CREATE', ResourceRecordSet: next });
      }
      if (changes.length === 0) {
        ctx.logger.debug(`route53: nothing to change in zone ${this.zone.name}`, { names });
        return;
      }
      try {
        const out = await withRetry(ctx, `ChangeResourceRecordSets in zone ${this.zone.name} (${this.zone.id})`, () =>
          this.client.send(
            new ChangeResourceRecordSetsCommand({
              HostedZoneId: this.zone.id,
              ChangeBatch: { Comment: 'certkeeper ACME DNS-01 challenge', Changes: changes },
            }),
          ),
        );
        changeId = out.ChangeInfo?.Id;
        status = out.ChangeInfo?.Status;
        ctx.logger.info(
          `route53: zone ${this.zone.name}: ${added} TXT value(s) added, ${removed} removed at ${names.length} name(s)`,
          { zone: this.zone.id, change: changeId, names },
        );
        break;
      } catch (error) {
        const cause = (error as Error).cause ?? error;
        if (!isConflict(cause) || round >= MAX_CONFLICT_ROUNDS) throw error;
        ctx.logger.debug(`route53: zone ${this.zone.name} changed while we wrote; reading it again`, {
          round,
          reason: describeAwsError(cause),
        });
        await sleepJittered(ctx, 1);
      }
    }
    if (changeId && status !== 'INSYNC') {
      if (ops.every((o) => o.kind === 'cleanup')) this.unsynced = { id: changeId, ctx };
      else await this.waitInsync(ctx, changeId);
    }
  }

  /** Polls GetChange until INSYNC: Route 53 then serves the change from all its name servers. */
  private async waitInsync(ctx: OpContext, changeId: string): Promise<void> {
    const started = ctx.clock.now().getTime();
    const deadline = started + ctx.changeTimeoutMs;
    let delay = Math.min(ctx.pollIntervalMs, 2_000);
    let lastReport = started;
    for (;;) {
      const now = ctx.clock.now().getTime();
      if (now >= deadline) {
        throw new PropagationError(
          `route53: change ${changeId.replace(/^\/change\//, '')} in zone ${this.zone.name} still PENDING after ${Math.round((now - started) / 1000)} s`,
          {
            hint: 'Route 53 usually reports INSYNC within a minute; raise dns.propagation.timeout if it is slow today',
          },
        );
      }
      if (now - lastReport >= 15_000) {
        lastReport = now;
        ctx.logger.info(`route53: waiting for change ${changeId} to be INSYNC`, {
          zone: this.zone.id,
          waitedMs: now - started,
        });
      }
      await ctx.clock.sleep(Math.min(delay, Math.max(1, deadline - now)));
      // GetChange shares the account's 5 requests/s Route 53 budget: poll less often as we wait.
      delay = Math.min(Math.round(delay * 1.5), 10_000);
      const out = await withRetry(ctx, `GetChange ${changeId}`, () =>
        this.client.send(new GetChangeCommand({ Id: changeId })),
      );
      if (out.ChangeInfo?.Status === 'INSYNC') {
        ctx.logger.debug(`route53: change ${changeId} is INSYNC`, { waitedMs: ctx.clock.now().getTime() - started });
        return;
      }
    }
  }
}

export function createRoute53Provider(config: Route53DnsConfig, deps: Route53Deps): DnsProvider {
  const client =
    deps.client ??
    (deps.clients ?? defaultAwsClientFactory()).route53({
      region: config.region,
      roleArn: config.roleArn,
      externalId: config.externalId,
    });
  const state = {
    zonesByName: new Map<string, Promise<Zone[]>>(),
    zoneById: new Map<string, Promise<Zone & { nameServers: string[] }>>(),
    writers: writersOf(client),
  };
  const propagationTimeout = parseDuration(config.propagation.timeout) ?? 120_000;
  const ctx: OpContext = {
    logger: deps.logger,
    clock: deps.clock,
    limiter: limiterOf(client),
    random: deps.random ?? Math.random,
    ttl: config.ttl,
    changeTimeoutMs: deps.changeTimeoutMs ?? propagationTimeout,
    pollIntervalMs: parseDuration(config.propagation.interval) ?? 2_000,
  };
  const configuredZoneId = config.hostedZoneId ? zoneIdOf(config.hostedZoneId) : undefined;
  const resolveHost =
    deps.resolveHost ?? (async (host: string) => (await lookup(host, { all: true })).map((a) => a.address));

  function getZone(id: string): Promise<Zone & { nameServers: string[] }> {
    let p = state.zoneById.get(id);
    if (!p) {
      p = withRetry(ctx, `GetHostedZone ${id}`, () => client.send(new GetHostedZoneCommand({ Id: id }))).then(
        (out) => ({
          id,
          name: normalizeName(out.HostedZone?.Name ?? ''),
          private: out.HostedZone?.Config?.PrivateZone === true,
          nameServers: out.DelegationSet?.NameServers ?? [],
        }),
      );
      p.catch(() => state.zoneById.delete(id));
      state.zoneById.set(id, p);
    }
    return p;
  }

  /** Zones named exactly `name`. (AWS lists from `name` on in order; moto lists only exact matches.) */
  function zonesNamed(name: string): Promise<Zone[]> {
    let p = state.zonesByName.get(name);
    if (!p) {
      p = (async () => {
        const found: Zone[] = [];
        let dnsName: string | undefined = name;
        let zoneId: string | undefined;
        for (;;) {
          const out = await withRetry(ctx, `ListHostedZonesByName ${name}`, () =>
            client.send(
              new ListHostedZonesByNameCommand({
                DNSName: dnsName,
                ...(zoneId ? { HostedZoneId: zoneId } : {}),
                MaxItems: 20,
              }),
            ),
          );
          const zones = out.HostedZones ?? [];
          let pastName = false;
          for (const z of zones) {
            if (normalizeName(z.Name ?? '') !== name) {
              pastName = true;
              continue;
            }
            found.push({ id: zoneIdOf(z.Id ?? ''), name, private: z.Config?.PrivateZone === true });
          }
          if (pastName || !out.IsTruncated || !out.NextDNSName || normalizeName(out.NextDNSName) !== name) break;
          dnsName = out.NextDNSName;
          zoneId = out.NextHostedZoneId;
        }
        return found;
      })();
      p.catch(() => state.zonesByName.delete(name));
      state.zonesByName.set(name, p);
    }
    return p;
  }

  async function zoneFor(recordName: string): Promise<Zone> {
    if (configuredZoneId) {
      const zone = await getZone(configuredZoneId);
      if (recordName !== zone.name && !recordName.endsWith(`.${zone.name}`)) {
        throw new DnsProviderError(`route53: ${recordName} is not in hosted zone ${zone.id} (${zone.name})`, {
          hint: 'dns.hostedZoneId must be the zone that holds the _acme-challenge names (or the challengeAlias zone)',
        });
      }
      return zone;
    }
    const labels = recordName.split('.');
    const privateSeen: string[] = [];
    // Longest suffix first; a single label cannot be a public hosted zone.
    for (let i = 0; i < labels.length - 1; i++) {
      const suffix = labels.slice(i).join('.');
      const zones = await zonesNamed(suffix);
      const publicZones = zones.filter((z) => !z.private);
      privateSeen.push(...zones.filter((z) => z.private).map((z) => `${z.id} (${z.name})`));
      if (publicZones.length === 1) return publicZones[0] as Zone;
      if (publicZones.length > 1) {
        throw new DnsProviderError(
          `route53: several public hosted zones are named ${suffix} (${publicZones.map((z) => z.id).join(', ')})`,
          { hint: 'set dns.hostedZoneId to the delegated one' },
        );
      }
    }
    throw new DnsProviderError(`route53: no public hosted zone found for ${recordName}`, {
      hint:
        privateSeen.length > 0
          ? `only private zones match (${privateSeen.join(', ')}); name one in dns.hostedZoneId to use it`
          : 'create the hosted zone in this account (or set dns.roleArn to the account that has it), or set dns.hostedZoneId',
    });
  }

  async function byZone(records: TxtRecord[]): Promise<Map<string, { zone: Zone; records: TxtRecord[] }>> {
    const groups = new Map<string, { zone: Zone; records: TxtRecord[] }>();
    for (const r of records) {
      const record = { name: normalizeName(r.name), value: r.value };
      const zone = await zoneFor(record.name);
      const g = groups.get(zone.id) ?? { zone, records: [] };
      g.records.push(record);
      groups.set(zone.id, g);
    }
    return groups;
  }

  function writer(zone: Zone): ZoneWriter {
    let w = state.writers.get(zone.id);
    if (!w) {
      w = new ZoneWriter(client, zone);
      state.writers.set(zone.id, w);
    }
    return w;
  }

  async function run(kind: Op['kind'], records: TxtRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const groups = await byZone(records);
    // One change batch per zone; zones are independent, so in parallel.
    const results = await Promise.allSettled(
      [...groups.values()].map((g) => writer(g.zone).submit(kind, g.records, ctx, signal)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return {
    name: 'route53',
    present: (records, signal) => run('present', records, signal),
    cleanup: (records, signal) => run('cleanup', records, signal),
    async defaultResolvers(recordName) {
      const zone = await zoneFor(normalizeName(recordName));
      const details = await getZone(zone.id);
      if (details.private || details.nameServers.length === 0) {
        throw new DnsProviderError(
          `route53: zone ${zone.name} (${zone.id}) is private and has no public name servers`,
          {
            hint: 'set dns.propagation.resolvers to a resolver inside its VPC',
          },
        );
      }
      const addresses = new Set<string>();
      await Promise.all(
        details.nameServers.map(async (ns) => {
          try {
            for (const a of await resolveHost(ns)) addresses.add(a.includes(':') ? `[${a}]:53` : `${a}:53`);
          } catch (error) {
            ctx.logger.debug(`route53: cannot resolve name server ${ns}`, { error: (error as Error).message });
          }
        }),
      );
      if (addresses.size === 0) {
        throw new DnsProviderError(
          `route53: none of zone ${zone.name}'s name servers resolved (${details.nameServers.join(', ')})`,
          {
            hint: 'set dns.propagation.resolvers',
          },
        );
      }
      return [...addresses];
    },
  };
}
