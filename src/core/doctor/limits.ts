import { getDomain } from 'tldts';
import type { ErrorInfo } from '../../ports/errors.js';
import { fail, pass, skip, type Verdict, warn, worst } from './report.js';

/**
 * The `limits` decision (PRODUCT §5): certificates due soon against the CA's limit per registered
 * domain (Let's Encrypt: 50 new certificates per registered domain per 7 days; renewals of the same
 * names are exempt but count), and certificates due now against the order budget. Pure.
 */

/**
 * The registered domain of a name: the public suffix (Public Suffix List, private section
 * included, as Let's Encrypt counts) plus one label. A name that is itself a suffix stays as it is.
 */
export function registeredDomain(name: string): string {
  const base = name.replace(/^\*\./, '');
  return getDomain(base, { allowPrivateDomains: true }) ?? base;
}

export interface DueCertificate {
  id: string;
  domains: string[];
  /** When it becomes due; a missing or changed certificate is due now. */
  dueAt: Date;
  /** A renewal of the same names (exempt from the per-domain limit), not a new certificate. */
  renewal: boolean;
}

export interface LimitsFacts {
  now: Date;
  certificates: DueCertificate[];
  /** The CA's limit per registered domain; absent when the CA has none certkeeper knows of. */
  registeredDomainLimit?: { certificates: number; perMs: number };
  budget?: {
    orders: number;
    perMs: number;
    used: { ok: true; used: number; freesAt?: string } | { ok: false; error: ErrorInfo } | { ok: 'unsupported' };
  };
}

function span(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${Math.round(ms / 60_000)} min`;
}

function perDomain(f: LimitsFacts): Verdict {
  const limit = f.registeredDomainLimit;
  if (!limit) return skip('no limit per registered domain is known for this CA');
  const until = f.now.getTime() + limit.perMs;
  const counts = new Map<string, { fresh: number; renewals: number }>();
  for (const c of f.certificates) {
    if (c.dueAt.getTime() > until) continue;
    for (const rd of new Set(c.domains.map(registeredDomain))) {
      const n = counts.get(rd) ?? { fresh: 0, renewals: 0 };
      if (c.renewal) n.renewals++;
      else n.fresh++;
      counts.set(rd, n);
    }
  }
  const window = span(limit.perMs);
  const verdicts: Verdict[] = [];
  for (const [rd, { fresh, renewals }] of counts) {
    const total = fresh + renewals;
    if (fresh > limit.certificates) {
      verdicts.push(
        fail(
          `${fresh} new certificates for ${rd} are due within ${window}, over the CA's ${limit.certificates} per registered domain per ${window}`,
          `spread the new certificates for ${rd} over several weeks, or put more names on fewer certificates`,
        ),
      );
    } else if (fresh > 0 && total > limit.certificates) {
      verdicts.push(
        warn(
          `${total} certificates for ${rd} are due within ${window} (${fresh} new): over the CA's ${limit.certificates} per registered domain, so new ones may be refused (renewals are exempt, but count)`,
          `add the new certificates for ${rd} after the renewals are done, or spread them out`,
        ),
      );
    }
  }
  const top = worst(verdicts);
  if (top)
    return {
      ...top,
      message: verdicts
        .filter((v) => v.status === top.status)
        .map((v) => v.message)
        .join('; '),
    };
  const largest = [...counts].sort((a, b) => b[1].fresh + b[1].renewals - (a[1].fresh + a[1].renewals))[0];
  return pass(
    largest
      ? `at most ${largest[1].fresh + largest[1].renewals} certificate(s) due within ${window} per registered domain (${largest[0]}), within the CA's ${limit.certificates}`
      : `no certificate due within ${window}`,
  );
}

function orderBudget(f: LimitsFacts): Verdict {
  const b = f.budget;
  if (!b) return skip('no order budget (acme.orderBudget) applies');
  const dueNow = f.certificates.filter((c) => c.dueAt.getTime() <= f.now.getTime()).length;
  const window = span(b.perMs);
  if (b.used.ok === 'unsupported') {
    return dueNow > b.orders
      ? warn(
          `${dueNow} certificates are due now, over the order budget of ${b.orders} per ${window}: the rest are deferred`,
          'nothing breaks: deferred certificates renew as the budget frees; raise acme.orderBudget if the CA allows more',
        )
      : pass(`${dueNow} certificate(s) due now, within the order budget of ${b.orders} per ${window}`);
  }
  if (!b.used.ok) {
    return warn(
      `could not read the order budget: ${b.used.error.message}`,
      b.used.error.hint ?? 'check the account store',
    );
  }
  const left = Math.max(0, b.orders - b.used.used);
  if (dueNow > left) {
    return warn(
      `${dueNow} certificates are due now and the order budget has ${left} of ${b.orders} per ${window} left: ${dueNow - left} will be deferred${b.used.freesAt ? ` (it frees from ${b.used.freesAt})` : ''}`,
      'nothing breaks: deferred certificates renew as the budget frees; raise acme.orderBudget if the CA allows more',
    );
  }
  return pass(
    `${dueNow} certificate(s) due now, within the order budget (${b.used.used} of ${b.orders} per ${window} used)`,
  );
}

export function decideLimits(f: LimitsFacts): Verdict {
  const parts = [perDomain(f), orderBudget(f)];
  const counted = parts.filter((p) => p.status !== 'skip');
  if (counted.length === 0) return skip(parts.map((p) => p.message).join('; '));
  const top = worst(counted) as Verdict;
  const shown = top.status === 'pass' ? counted : counted.filter((p) => p.status === top.status);
  const hints = shown.map((p) => p.hint).filter((h): h is string => Boolean(h));
  return {
    status: top.status,
    message: shown.map((p) => p.message).join('; '),
    ...(hints.length ? { hint: hints.join('; ') } : {}),
  };
}
