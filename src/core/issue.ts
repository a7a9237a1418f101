import type { Clock } from '../ports/clock.js';
import type { DnsConfig } from '../ports/config.js';
import type { DnsLookup, DnsProvider, TxtRecord } from '../ports/dns.js';
import { AcmeError, CertkeeperError, DnsProviderError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import type { KeyType } from '../ports/store.js';
import {
  type AcmeAuthorization,
  type AcmeOrder,
  type AcmeSession,
  type PlacedOrder,
  pollAcme,
  problemToError,
} from './acme.js';
import { generatePrivateKey, type VerifiedBundle, verifyIssuedBundle } from './certinfo.js';
import { baseDomain, challengeRecordName } from './domains.js';
import { authoritativeResolvers, checkAliasDelegation, waitForPropagation } from './propagation.js';

export interface IssueRequest {
  domains: string[];
  keyType: KeyType;
  dns: DnsConfig;
  /** The ACME profile to order (checked against the directory first). */
  profile?: string;
  /** RFC 9773 id of the certificate this one replaces (renewals, when the CA offers ARI). */
  replaces?: string;
}

export interface IssueDeps {
  acme: AcmeSession;
  provider: DnsProvider;
  clock: Clock;
  logger: Logger;
  lookup: DnsLookup;
  /** Persists the records about to be written in the lease, before they reach DNS. */
  saveLeaseRecords(records: TxtRecord[]): Promise<void>;
  signal?: AbortSignal;
  /** Bound for each ACME wait (authorization validation, order processing). */
  acmeTimeoutMs?: number;
  /** Awaited before the first TXT record is published (the runner takes a concurrency slot). */
  beforeChallenges?: () => Promise<void>;
  /** Called once every authorization is valid, before finalize (the runner frees the slot). */
  onValidated?: () => void;
}

export interface Issued {
  bundle: VerifiedBundle;
  privateKey: string;
  /** What became of `replaces`, when one was asked for. */
  replaces?: PlacedOrder['replaces'];
}

/**
 * One order, DNS-01 for every pending authorization at once: write every TXT record in one
 * `present` call (one change batch per zone), wait until the resolvers see them, answer all
 * challenges together, then finalize. TXT records are removed in every outcome, and the order's
 * authorizations are deactivated when it fails so no half-validated state lingers at the CA.
 */
export async function issueCertificate(req: IssueRequest, deps: IssueDeps): Promise<Issued> {
  const { acme, provider, clock, logger } = deps;
  const timeoutMs = deps.acmeTimeoutMs ?? 5 * 60_000;
  // Key generation (RSA-4096 takes a while) overlaps the order round trips.
  const keyPromise = generatePrivateKey(req.keyType);
  keyPromise.catch(() => {});

  if (req.dns.challengeAlias) {
    const alias = req.dns.challengeAlias;
    const bases = [...new Set(req.domains.map(baseDomain))];
    await checkAliasDelegation(
      bases.map((b) => ({ from: challengeRecordName(b), to: challengeRecordName(b, alias) })),
      req.dns.propagation.resolvers?.[0],
      { lookup: deps.lookup, logger },
    );
  }

  const placed = await acme.placeOrder(req.domains, {
    ...(req.profile ? { profile: req.profile } : {}),
    ...(req.replaces ? { replaces: req.replaces } : {}),
  });
  const { order } = placed;
  let succeeded = false;
  let authorizations: AcmeAuthorization[] = [];
  let cleanup: Promise<void> | undefined;
  try {
    authorizations = await Promise.all(order.authorizations.map((url) => acme.getAuthorization(url)));
    const pending = authorizations.filter((a) => a.status === 'pending');
    const unusable = authorizations.find((a) => a.status !== 'pending' && a.status !== 'valid');
    if (unusable) {
      throw new AcmeError(
        'acme-rejected',
        `acme: authorization for ${unusable.identifier.value} is ${unusable.status}`,
      );
    }

    const work = await Promise.all(
      pending.map(async (authz) => {
        const challenge = authz.challenges.find((c) => c.type === 'dns-01');
        if (!challenge) {
          throw new AcmeError('acme-rejected', `acme: the CA offers no dns-01 challenge for ${authz.identifier.value}`);
        }
        const name = challengeRecordName(authz.identifier.value, req.dns.challengeAlias);
        return { authz, challenge, record: { name, value: await acme.dnsTxtValue(challenge) } };
      }),
    );
    const records = work.map((w) => w.record);

    if (records.length > 0) {
      // The lease records the values before they are published (a run that dies after this
      // leaves them for the next one to remove), and before the slot: the store write is not
      // part of the wait the slots bound. From here to validation the certificate holds one of
      // the run's `concurrency` slots.
      await deps.saveLeaseRecords(records);
      if (deps.beforeChallenges) {
        try {
          await deps.beforeChallenges();
        } catch (error) {
          // Nothing was published: the lease needs no record of it.
          await deps.saveLeaseRecords([]).catch(() => {});
          throw error;
        }
      }
      try {
        try {
          await provider.present(records, deps.signal);
        } catch (error) {
          if (error instanceof CertkeeperError) throw error;
          throw new DnsProviderError(`${provider.name}: writing TXT records failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        logger.info(`dns: wrote ${records.length} TXT value(s)`, { names: [...new Set(records.map((r) => r.name))] });

        const first = records[0] as TxtRecord;
        const resolvers =
          req.dns.propagation.resolvers ??
          (provider.defaultResolvers
            ? await provider.defaultResolvers(first.name, deps.signal)
            : await authoritativeResolvers(first.name, deps.lookup));
        await waitForPropagation(
          records,
          { resolvers, timeoutMs: req.dns.propagation.timeoutMs, intervalMs: req.dns.propagation.intervalMs },
          { clock, logger, lookup: deps.lookup, ...(deps.signal ? { signal: deps.signal } : {}) },
        );

        await Promise.all(work.map((w) => acme.respondToChallenge(w.challenge.url)));
        await Promise.all(
          work.map((w) =>
            pollAcme(
              () => acme.getAuthorization(w.authz.url),
              (a) => {
                if (a.status === 'valid') return true;
                if (a.status === 'pending') return undefined;
                const failed = a.challenges.find((c) => c.type === 'dns-01')?.error;
                const err = failed
                  ? problemToError(failed, 400, undefined, `validation of ${a.identifier.value}`)
                  : new AcmeError('acme-rejected', `acme: authorization for ${a.identifier.value} is ${a.status}`);
                throw err;
              },
              `validation of ${w.authz.identifier.value}`,
              clock,
              {
                timeoutMs,
                // The one wait that holds a concurrency slot (and, in a zone, the next wave's
                // start): a CA that validates in milliseconds is seen 50 ms after the answer, not
                // 250 or 625 ms. Then ×1.5 as usual (a CA that takes seconds costs one request
                // more than from 100 ms); Retry-After wins. One-zone fleet bench, same hour:
                // medians 11.79 / 11.91 / 11.97 s from 50 ms, 12.22 / 12.10 s from 100 ms.
                initialDelayMs: 50,
                ...(deps.signal ? { signal: deps.signal } : {}),
                onProgress: (ms) =>
                  logger.info(
                    `acme: waiting for the CA to validate ${w.authz.identifier.value} (${Math.round(ms / 1000)} s)`,
                  ),
              },
            ),
          ),
        );
      } finally {
        // Cleanup never hides the first error (acme-client auto.js does the same). It runs while
        // the order is finalized (nothing after validation needs the records gone) and is
        // awaited before this returns, so a fleet's certificates do not queue their finalize
        // behind the zone's other writes.
        cleanup = (async () => {
          try {
            await provider.cleanup(records);
            await deps.saveLeaseRecords([]);
            logger.debug('dns: removed TXT values', { count: records.length });
          } catch (error) {
            logger.error(
              `dns: cleanup failed; the lease keeps the records for the next run to remove: ${(error as Error).message}`,
            );
          }
        })();
      }
    }

    // Every authorization is valid: what is left (finalize, download, verify) needs no DNS slot.
    deps.onValidated?.();
    const privateKey = await keyPromise;
    const csr = await acme.createCsr(req.domains, privateKey, { commonName: !req.profile });
    let current: AcmeOrder & { retryAfter?: Date } = order;
    current = await pollAcme(
      () => acme.getOrder(order.url),
      (o) => (o.status === 'ready' || o.status === 'valid' ? o : o.status === 'pending' ? undefined : failOrder(o)),
      'order readiness',
      clock,
      { timeoutMs, initialDelayMs: 50, ...(deps.signal ? { signal: deps.signal } : {}) },
    );
    if (current.status === 'ready') current = await acme.finalize(current, csr);
    const valid = await pollAcme<AcmeOrder & { retryAfter?: Date }, AcmeOrder>(
      async () => (current.status === 'valid' ? current : acme.getOrder(order.url)),
      (o) => (o.status === 'valid' ? o : o.status === 'processing' || o.status === 'ready' ? undefined : failOrder(o)),
      'certificate issuance',
      clock,
      {
        timeoutMs,
        initialDelayMs: 100,
        ...(deps.signal ? { signal: deps.signal } : {}),
        onProgress: (ms) =>
          logger.info(`acme: waiting for the CA to issue the certificate (${Math.round(ms / 1000)} s)`),
      },
    );
    if (!valid.certificate) throw new AcmeError('acme-rejected', 'acme: the order is valid but names no certificate');
    const pem = await acme.downloadCertificate(valid.certificate);
    const verified = verifyIssuedBundle(pem, privateKey, req.domains, clock.now());
    if (!verified.ok) throw new AcmeError('acme-rejected', `acme: ${verified.problem}`);
    succeeded = true;
    return { bundle: verified.bundle, privateKey, ...(placed.replaces ? { replaces: placed.replaces } : {}) };
  } finally {
    await cleanup;
    if (!succeeded) {
      const toDeactivate = authorizations.filter((a) => a.status === 'pending' || a.status === 'valid');
      await Promise.all(
        toDeactivate.map((a) =>
          acme.deactivateAuthorization(a.url).catch((error: Error) => {
            logger.debug(`acme: could not deactivate authorization: ${error.message}`);
          }),
        ),
      );
    }
  }
}

function failOrder(o: AcmeOrder): never {
  if (o.error) throw problemToError(o.error, 400, undefined, 'order');
  throw new AcmeError('acme-rejected', `acme: order is ${o.status}`);
}
