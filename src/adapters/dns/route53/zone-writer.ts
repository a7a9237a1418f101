import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { Clock } from '../../../ports/clock.js';
import type { TxtRecord } from '../../../ports/dns.js';
import { DnsProviderError, PropagationError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { poll, retry } from '../../../ports/retry.js';
import { WriteQueue } from '../../../ports/write-queue.js';
import { awsErrorName, awsHint, describeAwsError, isAwsThrottling, isRetryableAwsError } from '../../aws/errors.js';
import { type RateLimiter, ROUTE53_REQUESTS_PER_SECOND } from './rate-limiter.js';
import { normalizeName, parseTxt, quoteTxt } from './txt.js';

/** Throttling/PriorRequestNotComplete retries: tries, first delay, cap (FACTS: the SDK's 3 are too few). */
const MAX_TRIES = 8;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** Re-reads after a compare-and-swap conflict before giving up. */
const MAX_CONFLICT_ROUNDS = 6;
/** Names per coalesced batch: keeps a batch far below 1000 records / 32,000 characters. */
const MAX_NAMES_PER_BATCH = 100;

export interface Zone {
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

export interface OpContext {
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
}

/** The next batch: ops from the front of the queue, up to MAX_NAMES_PER_BATCH names. */
function takeBatch(queue: Op[]): Op[] {
  const names = new Set<string>();
  const ops: Op[] = [];
  for (const next of queue) {
    const added = next.records.filter((r) => !names.has(r.name)).length;
    if (ops.length > 0 && names.size + added > MAX_NAMES_PER_BATCH) break;
    ops.push(next);
    for (const r of next.records) names.add(r.name);
  }
  return ops;
}

/** The batch lost a race with another writer: read again and retry. */
function isConflict(error: unknown): boolean {
  return (
    awsErrorName(error) === 'InvalidChangeBatch' &&
    /not found|already exists|do(es)? not match/i.test(error instanceof Error ? error.message : String(error))
  );
}

/** One Route 53 call under the account's pace, retried on throttling and transient errors as the SDK classifies them. */
export function withRetry<T>(ctx: OpContext, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return retry(fn, {
    clock: ctx.clock,
    tries: MAX_TRIES,
    backoff: { baseMs: BASE_DELAY_MS, maxMs: MAX_DELAY_MS, jitter: 'equal' },
    random: ctx.random,
    ...(signal ? { signal } : {}),
    before: () => ctx.limiter.acquire(ctx.clock, signal),
    retryable: (error) => isRetryableAwsError(error),
    onRetry: (error, attempt) => {
      if (isAwsThrottling(error) && /^Throttl/.test(awsErrorName(error)) && !ctx.limiter.pacing) {
        ctx.limiter.throttled();
        ctx.logger.info(`route53: throttled; pacing calls at ${ROUTE53_REQUESTS_PER_SECOND}/s for the rest of the run`);
      }
      ctx.logger.debug(`route53: ${what}: ${awsErrorName(error) || 'transient error'}, retrying`, { attempt });
    },
  }).catch((error: unknown) => {
    if (error instanceof DnsProviderError || (error as Error)?.name === 'AbortError') throw error;
    const tried = isRetryableAwsError(error) ? ` after ${MAX_TRIES} tries` : '';
    throw new DnsProviderError(`route53: ${what} failed${tried}: ${describeAwsError(error)}`, {
      cause: error,
      ...(awsHint(error) ? { hint: awsHint(error) as string } : {}),
    });
  });
}

/**
 * Route 53's listing order: names compared with their labels reversed and a trailing dot
 * (`com.example.www.`; the dot matters for names with characters below it, such as `-`).
 */
export function compareReversed(a: string, b: string): number {
  const ra = `${a.split('.').reverse().join('.')}.`;
  const rb = `${b.split('.').reverse().join('.')}.`;
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

function isTxtAt(r: ResourceRecordSet, name: string): boolean {
  return r.Type === 'TXT' && !r.SetIdentifier && r.Name !== undefined && normalizeName(r.Name) === name;
}

function toRecordSet(set: ResourceRecordSet | undefined): RecordSet | undefined {
  if (!set) return undefined;
  return {
    ttl: set.TTL ?? 300,
    values: (set.ResourceRecords ?? []).map((r) => ({ raw: r.Value ?? '""', text: parseTxt(r.Value ?? '""') })),
  };
}

function sleepJittered(ctx: OpContext): Promise<void> {
  return ctx.clock.sleep(Math.round(BASE_DELAY_MS / 2 + ctx.random() * (BASE_DELAY_MS / 2)));
}

/**
 * Serializes, coalesces and pipelines the writes to one zone. Batches leave one after another
 * (each a compare-and-swap on what the zone holds), but a batch never waits for an earlier one's
 * INSYNC: Route 53 applies an accepted change at once to what ListResourceRecordSets returns and
 * accepts further changes while one is PENDING; only its name servers lag. So each present waits
 * for its own change's INSYNC, concurrently with the next batches, and a fleet in one zone costs
 * about one propagation wait per wave of certificates instead of one per batch. Cleanups return
 * once their change is accepted: nobody waits for a removal to reach every name server.
 */
export class ZoneWriter {
  private readonly writes: WriteQueue<Op>;
  /**
   * The TXT sets at names this writer changed, as its last accepted change left them (undefined:
   * removed). A cleanup of such names builds its compare-and-swap from this instead of reading the
   * zone again: one call instead of two per cleanup batch. If anyone changed a set since, Route 53
   * refuses the DELETE ("values do not match", "not found") and the batch reads and retries as any
   * conflict does.
   */
  private readonly known = new Map<string, RecordSet | undefined>();

  constructor(
    private readonly client: Route53Client,
    private readonly zone: Zone,
  ) {
    this.writes = new WriteQueue<Op>({
      take: (queue) => takeBatch(queue),
      write: async (ops) => {
        const change = await this.apply(ops);
        if (!change) return undefined;
        // Presents wait for their own change's INSYNC, while the next batch goes out.
        const insync = ops.some((o) => o.kind === 'present') ? this.waitInsync(change.ctx, change.id) : undefined;
        insync?.catch(() => {});
        return ops.map((o) => (o.kind === 'present' ? insync : undefined));
      },
    });
  }

  submit(kind: Op['kind'], records: TxtRecord[], ctx: OpContext, signal?: AbortSignal): Promise<void> {
    return this.writes.submit({ kind, records, ctx }, signal);
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
    return toRecordSet(out.ResourceRecordSets?.find((r) => isTxtAt(r, name)));
  }

  /**
   * The TXT sets at `names`. Several names are read with one listing of the range they span
   * (Route 53 lists in the order of reversed labels), page by page, instead of one call per name.
   */
  private async readAll(
    ctx: OpContext,
    names: string[],
    perName: boolean,
  ): Promise<Map<string, RecordSet | undefined>> {
    const current = new Map<string, RecordSet | undefined>();
    if (perName || names.length === 1) {
      for (const name of names) current.set(name, await this.read(ctx, name));
      return current;
    }
    const sorted = [...names].sort((a, b) => compareReversed(a, b));
    const last = sorted[sorted.length - 1] as string;
    const wanted = new Set(names);
    let start: { name: string; type?: string; identifier?: string } | undefined = { name: sorted[0] as string };
    while (start) {
      const from: { name: string; type?: string; identifier?: string } = start;
      const out = await withRetry(ctx, `ListResourceRecordSets ${from.name}…${last}`, () =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.zone.id,
            StartRecordName: from.name,
            ...(from.type ? { StartRecordType: from.type as never } : {}),
            ...(from.identifier ? { StartRecordIdentifier: from.identifier } : {}),
            MaxItems: 300,
          }),
        ),
      );
      for (const r of out.ResourceRecordSets ?? []) {
        const name = normalizeName(r.Name ?? '');
        if (wanted.has(name) && isTxtAt(r, name)) current.set(name, toRecordSet(r));
      }
      const next = out.NextRecordName ? normalizeName(out.NextRecordName) : undefined;
      start =
        out.IsTruncated && next !== undefined && compareReversed(next, last) <= 0
          ? {
              name: out.NextRecordName as string,
              ...(out.NextRecordType ? { type: out.NextRecordType } : {}),
              ...(out.NextRecordIdentifier ? { identifier: out.NextRecordIdentifier } : {}),
            }
          : undefined;
    }
    for (const name of names) if (!current.has(name)) current.set(name, undefined);
    return current;
  }

  /** Writes one batch (compare-and-swap, re-read on conflict); returns its change when it is not INSYNC yet. */
  private async apply(ops: Op[]): Promise<{ id: string; ctx: OpContext } | undefined> {
    const ctx = (ops[0] as Op).ctx;
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
    const cleanupOnly = ops.every((o) => o.kind === 'cleanup');
    for (let round = 1; ; round++) {
      // A cleanup of sets we wrote last starts from what we wrote; after a refused batch, read
      // name by name: it does not rely on the listing order.
      const current =
        round === 1 && cleanupOnly && names.every((n) => this.known.has(n))
          ? new Map(names.map((n) => [n, this.known.get(n)]))
          : await this.readAll(ctx, names, round > 1);
      const snapshot = JSON.stringify([...current]);
      if (snapshot === previous && !upsert) {
        // The batch was refused although nobody changed these names: the API does not apply
        // DELETE+CREATE atomically (moto, some emulators). Fall back to the plain UPSERT.
        ctx.logger.debug(`route53: zone ${this.zone.name}: compare-and-swap refused without a change; using UPSERT`);
        upsert = true;
      }
      previous = snapshot;

      const changes: Change[] = [];
      const after = new Map<string, RecordSet | undefined>();
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
        after.set(
          name,
          want.size > 0 ? { ttl: next.TTL, values: [...want].map(([text, raw]) => ({ text, raw })) } : undefined,
        );
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
        return undefined;
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
        for (const [name, set] of after) this.known.set(name, set);
        ctx.logger.info(
          `route53: zone ${this.zone.name}: ${added} TXT value(s) added, ${removed} removed at ${names.length} name(s)`,
          { zone: this.zone.id, change: changeId, names },
        );
        break;
      } catch (error) {
        // Whatever we knew about these sets may be stale now.
        for (const name of names) this.known.delete(name);
        const cause = (error as Error).cause ?? error;
        if (!isConflict(cause) || round >= MAX_CONFLICT_ROUNDS) throw error;
        ctx.logger.debug(`route53: zone ${this.zone.name} changed while we wrote; reading it again`, {
          round,
          reason: describeAwsError(cause),
        });
        await sleepJittered(ctx);
      }
    }
    return changeId && status !== 'INSYNC' ? { id: changeId, ctx } : undefined;
  }

  /** Polls GetChange until INSYNC: Route 53 then serves the change from all its name servers. */
  private async waitInsync(ctx: OpContext, changeId: string): Promise<void> {
    const started = ctx.clock.now().getTime();
    const short = changeId.replace(/^\/change\//, '');
    // GetChange shares the account's 5 requests/s Route 53 budget: poll less often as we wait.
    await poll(
      async () =>
        (await withRetry(ctx, `GetChange ${changeId}`, () => this.client.send(new GetChangeCommand({ Id: changeId }))))
          .ChangeInfo?.Status,
      (status) => (status === 'INSYNC' ? true : undefined),
      {
        clock: ctx.clock,
        waitFirst: true,
        timeoutMs: ctx.changeTimeoutMs,
        initialDelayMs: Math.min(ctx.pollIntervalMs, 2_000),
        maxDelayMs: 10_000,
        progressEveryMs: 15_000,
        onProgress: (waitedMs) =>
          ctx.logger.info(`route53: waiting for change ${changeId} to be INSYNC`, { zone: this.zone.id, waitedMs }),
        onTimeout: (elapsed) =>
          new PropagationError(
            `route53: change ${short} in zone ${this.zone.name} still PENDING after ${Math.round(elapsed / 1000)} s`,
            {
              hint: 'Route 53 usually reports INSYNC within a minute; raise dns.propagation.timeout if it is slow today',
            },
          ),
      },
    );
    ctx.logger.debug(`route53: change ${changeId} is INSYNC`, { waitedMs: ctx.clock.now().getTime() - started });
  }
}
