import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type { DnsLookup, DnsProvider, TxtRecord } from '../../ports/dns.js';
import { toErrorInfo } from '../../ports/errors.js';
import type { Logger } from '../../ports/logger.js';
import type { CertificateStore, LeaseState } from '../../ports/store.js';
import { authoritativeResolvers, waitForPropagation } from '../propagation.js';
import { fail, pass, type Verdict, warn } from './report.js';

/**
 * `dns.probe` (PRODUCT §5, only with --probe): the one check that writes. One TXT value at the
 * record name a renewal writes, through the provider, then the time until every resolver sees it;
 * removed in every outcome. It is written under the certificate's lease, listed in it first as a
 * run lists its values: if the doctor is killed mid-probe, the next run that finds the expired lease
 * removes the value.
 */

export interface ProbeRequest {
  provider: DnsProvider;
  store: CertificateStore;
  /** `_acme-challenge.<name>` (under the alias with challengeAlias). */
  recordName: string;
  /** `dns.propagation.resolvers`; absent: the provider's default, else the zone's authoritative servers. */
  resolvers?: string[];
  timeoutMs: number;
  intervalMs: number;
  owner: string;
  leaseTtlMs: number;
}

export interface ProbeDeps {
  clock: Clock;
  logger: Logger;
  lookup: DnsLookup;
  signal?: AbortSignal;
}

class LeaseInUse extends Error {
  constructor(readonly holder: LeaseState) {
    super('lease in use');
  }
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

export async function probePropagation(req: ProbeRequest, deps: ProbeDeps): Promise<Verdict> {
  const { clock, logger } = deps;
  const record: TxtRecord = { name: req.recordName, value: `certkeeper-doctor-${randomBytes(12).toString('hex')}` };
  let acquired: Awaited<ReturnType<CertificateStore['acquireLease']>>;
  try {
    // An expired lease is left for a run to break (it removes what that lease lists): the doctor
    // never cleans up after others.
    acquired = await req.store.acquireLease(req.owner, req.leaseTtlMs, async (stale) => {
      throw new LeaseInUse(stale);
    });
  } catch (error) {
    if (error instanceof LeaseInUse) {
      return warn(
        `not probed: ${req.store.ref} holds an expired lease of ${error.holder.owner}`,
        'the next run breaks it; probe again after that',
      );
    }
    const info = toErrorInfo(error);
    return fail(
      `not probed: cannot take the lease of ${req.store.ref}: ${info.message}`,
      info.hint ?? 'see the store check',
    );
  }
  if (acquired.kind === 'locked') {
    return warn(
      `not probed: a run holds the lease of ${req.store.ref} (${acquired.holder.owner}, until ${acquired.holder.expiresAt})`,
      'probe again when that run is done',
    );
  }
  const lease = acquired.lease;
  let verdict: Verdict;
  let written = false;
  try {
    await lease.update([record], req.leaseTtlMs);
    const t0 = clock.now().getTime();
    written = true;
    await req.provider.present([record], deps.signal);
    const live = clock.now().getTime() - t0;
    const resolvers =
      req.resolvers ??
      (req.provider.defaultResolvers ? await req.provider.defaultResolvers(record.name, deps.signal) : undefined) ??
      (await authoritativeResolvers(record.name, deps.lookup));
    if (resolvers.length === 0) {
      verdict = pass(
        `a probe TXT value at ${record.name} was live at ${req.provider.name} after ${seconds(live)}; no resolvers to watch (set dns.propagation.resolvers); removed`,
      );
    } else {
      await waitForPropagation(
        [record],
        { resolvers, timeoutMs: req.timeoutMs, intervalMs: req.intervalMs },
        { clock, logger, lookup: deps.lookup, ...(deps.signal ? { signal: deps.signal } : {}) },
      );
      const seen = clock.now().getTime() - t0;
      verdict = pass(
        `a probe TXT value at ${record.name} was live at ${req.provider.name} after ${seconds(live)} and seen by all ${resolvers.length} resolver(s) (${resolvers.join(', ')}) after ${seconds(seen)}; removed`,
      );
    }
  } catch (error) {
    const info = toErrorInfo(error);
    verdict =
      info.class === 'dns-propagation'
        ? fail(
            `a probe TXT value at ${record.name}: ${info.message}`,
            info.hint ?? 'raise dns.propagation.timeout, or check the resolvers and the delegation',
          )
        : fail(
            `could not write a probe TXT value at ${record.name}: ${info.message}`,
            info.hint ?? 'check the DNS provider credentials',
          );
  }
  let removed = true;
  if (written) {
    try {
      await req.provider.cleanup([record]);
    } catch (error) {
      removed = false;
      logger.error(`doctor: could not remove the probe value at ${record.name}: ${(error as Error).message}`);
    }
  }
  if (!removed) {
    // The lease still lists the value: left in place, the run that breaks it after it expires removes it.
    return fail(
      `${verdict.message.replace(/; removed$/, '')}; the probe value "${record.value}" could NOT be removed`,
      `remove the TXT value "${record.value}" at ${record.name}, or let the next run after ${lease.state.expiresAt} remove it (the lease lists it)`,
    );
  }
  try {
    await lease.release();
  } catch (error) {
    logger.warn(
      `doctor: could not release the lease of ${req.store.ref} (it expires by itself): ${(error as Error).message}`,
    );
  }
  return verdict;
}
