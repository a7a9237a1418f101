import type { Config } from '../../ports/config.js';
import type { ErrorInfo } from '../../ports/errors.js';
import type { EndpointState } from '../../ports/hooks.js';
import type { LeaseState, ReadResult, RenewalState } from '../../ports/store.js';
import { parseCertificate } from '../certinfo.js';
import { computeHealth, daysLeft } from '../plan.js';
import { combine, fail, pass, skip, type Verdict, warn } from './report.js';

/** The decisions of `store`, `expiry` and `endpoint` (PRODUCT §5), over gathered facts. Pure. */

export type LeaseFact =
  /** Taken and released again: the credentials can write here. */
  | { kind: 'released' }
  /** A live lease of a run at work: writing was not tried. */
  | { kind: 'locked'; holder: LeaseState }
  /** An expired lease, left for the next run to break (it removes the TXT values listed in it). */
  | { kind: 'stale'; holder: LeaseState }
  | { kind: 'failed'; error: ErrorInfo }
  /** Taken, but not released: it blocks renewals until it expires. */
  | { kind: 'stuck'; error: ErrorInfo; expiresAt: string };

export interface StoreFacts {
  type: string;
  ref: string;
  read: { ok: true; result: ReadResult } | { ok: false; error: ErrorInfo };
  state: { ok: true; value: RenewalState } | { ok: false; error: ErrorInfo };
  lease: LeaseFact;
}

export function decideStore(f: StoreFacts): Verdict {
  const where = `${f.type} ${f.ref}`;
  const verdicts: Verdict[] = [];
  if (!f.read.ok) {
    const message = f.read.error.message;
    verdicts.push(
      fail(
        message.includes(f.ref) ? message : `cannot read ${where}: ${message}`,
        f.read.error.hint ?? 'check the store and its credentials',
      ),
    );
  } else if (f.read.result.kind === 'unreadable') {
    verdicts.push(
      warn(
        `${where} holds something that is not a certificate it can use (${f.read.result.reason})`,
        'the next run issues a new certificate over it; remove it if it belongs to something else',
      ),
    );
  }
  if (!f.state.ok) {
    verdicts.push(
      fail(
        `cannot read the renewal state of ${where}: ${f.state.error.message}`,
        f.state.error.hint ?? 'check the store and its credentials',
      ),
    );
  }
  switch (f.lease.kind) {
    case 'failed':
      verdicts.push(
        fail(
          `cannot take a lease in ${where}, so no run can renew: ${f.lease.error.message}`,
          f.lease.error.hint ?? 'give these credentials write access to the store',
        ),
      );
      break;
    case 'stuck':
      verdicts.push(
        fail(
          `took a lease in ${where} but could not release it: ${f.lease.error.message}`,
          `it expires by itself at ${f.lease.expiresAt}; until then renewals of it report locked`,
        ),
      );
      break;
    case 'locked':
      verdicts.push(
        warn(
          `a run holds the lease of ${where} (${f.lease.holder.owner}, until ${f.lease.holder.expiresAt}): writing not checked`,
          'run the doctor again when that run is done',
        ),
      );
      break;
    case 'stale':
      verdicts.push(
        warn(
          `${where} holds an expired lease of ${f.lease.holder.owner} (expired ${f.lease.holder.expiresAt}, ${f.lease.holder.records.length} TXT value(s) listed): writing not checked`,
          'the next run breaks it and removes the TXT values it lists; nothing to do',
        ),
      );
      break;
    case 'released':
      break;
  }
  return combine(verdicts, () => {
    const held = f.read.ok && f.read.result.kind === 'found' ? 'a certificate' : 'nothing yet';
    return `${where} is readable (${held}) and writable: a lease was taken and released, nothing written`;
  });
}

const dateOf = (iso: string) => iso.slice(0, 10);

export function decideExpiry(
  read: StoreFacts['read'],
  state: StoreFacts['state'],
  renewal: Config['renewal'],
  now: Date,
): Verdict {
  if (!read.ok) return skip('the store could not be read');
  const result = read.result;
  if (result.kind === 'missing') {
    return warn('no certificate stored yet: the next run issues it', 'nothing to do; or run certkeeper now');
  }
  if (result.kind === 'unreadable') {
    return warn(
      `the stored certificate is unreadable (${result.reason}): the next run issues a new one`,
      'nothing to do',
    );
  }
  let notAfter: Date;
  try {
    notAfter = parseCertificate(result.certificate.certificate).notAfter;
  } catch (error) {
    return warn(
      `the stored certificate does not parse (${(error as Error).message}): the next run issues a new one`,
      'nothing to do',
    );
  }
  const health = computeHealth(notAfter, now, renewal);
  const left = daysLeft(notAfter, now);
  const failure = state.ok ? state.value.failures : undefined;
  const lastFailure = failure
    ? ` The last ${failure.count} attempt(s) failed (${failure.lastClass}: ${failure.lastMessage}); next attempt after ${failure.nextAttempt}.`
    : '';
  switch (health) {
    case 'ok':
      return pass(`valid until ${dateOf(notAfter.toISOString())} (${Math.floor(left)} days left)`);
    case 'expired':
      return fail(
        `expired on ${dateOf(notAfter.toISOString())}`,
        `run certkeeper now (certkeeper run --only ${result.certificate.id}).${lastFailure}`,
      );
    default:
      return warn(
        `health ${health}: expires on ${dateOf(notAfter.toISOString())}, ${Math.floor(left)} days left`,
        `it should have been renewed by now: see why with certkeeper report, and fix the failing check.${lastFailure}`,
      );
  }
}

export type EndpointFacts =
  | { kind: 'none' }
  | { kind: 'nothing-stored' }
  | { kind: 'inspected'; serialNumber: string; states: EndpointState[] }
  | { kind: 'error'; error: ErrorInfo };

export function decideEndpoint(f: EndpointFacts): Verdict {
  switch (f.kind) {
    case 'none':
      return skip('no verify-endpoint hook configured');
    case 'nothing-stored':
      return skip('no certificate stored yet to compare with');
    case 'error':
      return warn(`could not check the endpoints: ${f.error.message}`, f.error.hint ?? '');
    case 'inspected': {
      const verdicts = f.states.map((s): Verdict => {
        if (s.serves) return pass(`${s.endpoint} serves ${s.servedSerial}`);
        if (s.servedSerial) {
          return warn(
            `stored but not deployed: ${s.endpoint} serves serial ${s.servedSerial}, the store holds ${f.serialNumber}`,
            'deploy the stored certificate to it (a hook that failed? a load balancer or CDN still on the old one?)',
          );
        }
        return warn(
          `could not read what ${s.endpoint} serves: ${s.error ?? 'no answer'}`,
          'check that the endpoint is reachable from here',
        );
      });
      return combine(
        verdicts,
        () => `${f.states.map((s) => s.endpoint).join(', ')} serve the stored certificate (serial ${f.serialNumber})`,
      );
    }
  }
}
