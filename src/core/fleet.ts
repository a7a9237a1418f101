import type { CertificateConfig, Config } from '../ports/config.js';
import { type CertificateResult, type RunReport, summarize } from './results.js';

/**
 * The fan-out of PRODUCT §8, engine-neutral: `planFleet` cuts the due certificates of a dry run
 * into batches that each fit one invocation, `mergeFleet` joins the batches' results into one
 * report. The Lambda handlers (entrypoints/lambda/fleet.ts) and the Step Functions state machine
 * (workflows-examples/lambda-fleet/) wrap them.
 */

/** Lambda's hard limit for one invocation. */
export const INVOCATION_LIMIT_MS = 15 * 60_000;
/** No certificate starts with less than this left in an invocation (PRODUCT §4). */
export const MIN_START_MS = 3 * 60_000;
/** Init (cold start: the bundle, config from SSM) before the first certificate starts. */
const STARTUP_MS = 10_000;
/**
 * Budget for one certificate, start to stored, on AWS with Route 53 and Let's Encrypt:
 * - Route 53 INSYNC: 30–60 s (AWS: "generally within 60 seconds"); the zone writes of a wave are
 *   pipelined and coalesced, so concurrent certificates share it rather than queue behind it;
 * - the CA: the order, validation from several perspectives, finalize, download — seconds;
 * - certkeeper itself (store read, lease, key, CSR, chain check, store write): measured with the
 *   local stack (Pebble + challtestsrv + file store, `test/entrypoints/fleet.test.ts`) at well
 *   under 2 s per certificate, most of it waiting on Pebble.
 * 60 s for INSYNC + 30 s for everything else is 90 s; a certificate that takes longer still ends
 * within the invocation, because it started with at least MIN_START_MS (180 s) left.
 */
export const CERTIFICATE_BUDGET_MS = 90_000;

/**
 * The largest batch one invocation finishes: `concurrency` certificates run at once, and every one
 * must START while at least MIN_START_MS remain (later ones would come back `deferred`, i.e. the
 * batch would spill over). Slots free up every `perCertificateMs`, so
 *   starts possible per slot = floor((limit − min start − startup) / perCertificate) + 1
 * With the defaults: floor((900 − 180 − 10) / 90) + 1 = 8 per slot; concurrency 4 → 32 per batch,
 * so the default batchSize 25 fits with a wave to spare.
 */
export function safeBatchSize(
  concurrency: number,
  perCertificateMs = CERTIFICATE_BUDGET_MS,
  limitMs = INVOCATION_LIMIT_MS,
): number {
  const window = limitMs - MIN_START_MS - STARTUP_MS;
  if (window < 0) return concurrency;
  return concurrency * (Math.floor(window / perCertificateMs) + 1);
}

/**
 * Step Functions caps every state's input and output at 256 KiB; the largest is the report's input
 * (every batch's results plus the deferred list). Plan keeps its worst case under this.
 */
export const PAYLOAD_BUDGET_BYTES = 240 * 1024;
/**
 * A result's JSON besides its domains: renewed results measured ~380 bytes with one name and a
 * file store (test/entrypoints/fleet.test.ts), ~60 more with a Secrets Manager ARN as the ref; the
 * rest covers a hook result or an error message.
 */
const RESULT_BASE_BYTES = 700;

function resultBytes(cert: Pick<CertificateConfig, 'domains'> | undefined): number {
  return RESULT_BASE_BYTES + JSON.stringify(cert?.domains ?? []).length;
}

export interface FleetPlan {
  batches: { ids: string[] }[];
  /** Due, but not in a batch this time (order budget, failure backoff, one execution's capacity). */
  deferred: CertificateResult[];
  /** Certificates in the batches. */
  total: number;
  /** The batch size used: `fleet.batchSize`, capped by `safeBatchSize`. */
  batchSize: number;
  /** Deferred certificates left out of `deferred` to keep the plan within one state's payload. */
  deferredOmitted?: number;
}

/** Missing (or unreadable: no notAfter) first, then the earliest notAfter; ids break ties, so plans are stable. */
function byUrgency(a: CertificateResult, b: CertificateResult): number {
  const ta = a.notAfter ? Date.parse(a.notAfter) : Number.NEGATIVE_INFINITY;
  const tb = b.notAfter ? Date.parse(b.notAfter) : Number.NEGATIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function defer(result: CertificateResult, reason: string): CertificateResult {
  const { error: _error, ...rest } = result;
  return { ...rest, status: 'deferred', reason };
}

/**
 * Plans a fan-out from a dry run (which read every store, asked the CA for renewal windows where
 * they were not kept, and ordered nothing). Batches hold the due certificates, most urgent first;
 * a certificate whose store could not be read is planned too (its renew reports the real error).
 * The dry run has already deferred what the order budget and failure backoff hold back (it read
 * the budget's window in the account store, so a second plan in the same window sees the orders
 * the first one's batches placed); the payload capacity defers the least urgent of the rest.
 */
export function planFleet(config: Config, dryRun: RunReport, opts: { payloadBudgetBytes?: number } = {}): FleetPlan {
  const byId = new Map(config.certificates.map((c) => [c.id, c]));
  const due = dryRun.results.filter((r) => r.status === 'would-renew' || r.status === 'failed').sort(byUrgency);
  const deferred = dryRun.results.filter((r) => r.status === 'deferred').sort(byUrgency);

  let planned = due;

  let budget = opts.payloadBudgetBytes ?? PAYLOAD_BUDGET_BYTES;
  let fits = 0;
  for (const r of planned) {
    const bytes = resultBytes(byId.get(r.id));
    if (bytes > budget) break;
    budget -= bytes;
    fits++;
  }
  if (fits < planned.length) {
    const over = planned
      .slice(fits)
      .map((r) => defer(r, `over one execution's capacity (${fits} certificates); the next run renews it`));
    planned = planned.slice(0, fits);
    deferred.push(...over);
  }
  deferred.sort(byUrgency);

  // The deferred list gets what the batches' results leave of the payload budget, most urgent first.
  const listed: CertificateResult[] = [];
  for (const r of deferred) {
    const bytes = JSON.stringify(r).length + 1;
    if (bytes > budget) break;
    budget -= bytes;
    listed.push(r);
  }

  const batchSize = Math.min(config.fleet.batchSize, safeBatchSize(config.concurrency));
  const batches: { ids: string[] }[] = [];
  for (let i = 0; i < planned.length; i += batchSize) {
    batches.push({ ids: planned.slice(i, i + batchSize).map((r) => r.id) });
  }
  return {
    batches,
    deferred: listed,
    total: planned.length,
    batchSize,
    ...(listed.length < deferred.length ? { deferredOmitted: deferred.length - listed.length } : {}),
  };
}

export interface FleetBatch {
  results: CertificateResult[];
}

export interface FleetReport {
  results: CertificateResult[];
  summary: RunReport['summary'];
}

/** The batches' results and the plan's deferred ones, as one report; omitted deferred ones still count. */
export function mergeFleet(
  batches: FleetBatch[],
  deferred: CertificateResult[] = [],
  deferredOmitted = 0,
): FleetReport {
  const results = [...batches.flatMap((b) => b.results), ...deferred];
  const summary = summarize(results);
  summary.deferred += deferredOmitted;
  return { results, summary };
}
