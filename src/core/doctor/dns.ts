import type { ZoneInfo } from '../../ports/dns.js';
import type { ErrorInfo } from '../../ports/errors.js';
import type { Looked } from './lookups.js';
import { combine, fail, pass, skip, type Verdict, warn } from './report.js';

/** The decisions of `dns.zone`, `dns.delegation` and `dns.alias` (PRODUCT §5), over gathered facts. Pure. */

const resolverName = (resolver: string | undefined) => resolver ?? 'the system resolver';
const COULD_NOT_CHECK_HINT = 'check that the resolvers (dns.propagation.resolvers, else the system one) answer';

/** A provider that could not be asked is "could not check"; one that answered "no zone" fails. */
function providerTrouble(error: ErrorInfo): boolean {
  return error.class === 'network' || error.class === 'timeout';
}

export type ZoneLookup = { recordName: string } & ({ ok: true; zone: ZoneInfo } | { ok: false; error: ErrorInfo });

/** Does the provider find a zone for every record name the certificate writes? */
export function decideZone(provider: string, lookups: ZoneLookup[] | 'unsupported'): Verdict {
  if (lookups === 'unsupported') {
    return skip(`the ${provider} provider cannot say which zone it writes into: not checked`);
  }
  const verdicts = lookups.map((l): Verdict => {
    if (l.ok) return pass(`${l.recordName} in zone ${l.zone.name}`);
    if (providerTrouble(l.error)) {
      return warn(`could not ask ${provider} for the zone of ${l.recordName}: ${l.error.message}`, l.error.hint ?? '');
    }
    return fail(
      l.error.message.startsWith(provider) ? l.error.message : `${provider}: ${l.error.message}`,
      l.error.hint ?? `create the zone that holds ${l.recordName} in ${provider}, or name it in the dns options`,
    );
  });
  return combine(verdicts, () => {
    const zones = new Map<string, string[]>();
    for (const l of lookups) {
      if (!l.ok) continue;
      const key = l.zone.id ? `${l.zone.name} (${l.zone.id})` : l.zone.name;
      zones.set(key, [...(zones.get(key) ?? []), l.recordName]);
    }
    return [...zones].map(([zone, names]) => `${provider} zone ${zone} holds ${names.join(', ')}`).join('; ');
  });
}

export interface NsView {
  resolver: string | undefined;
  ns: Looked<string[]>;
}

/**
 * Is the zone the provider writes into the one the world sees? The zone's NS as each resolver
 * sees them against the provider's name servers: none of them the provider's means the records
 * it writes never reach the CA (a hosted zone created but never delegated at the registrar).
 */
export function decideDelegation(provider: string, zone: ZoneInfo, views: NsView[]): Verdict {
  const own = zone.nameServers.map((n) => n.toLowerCase());
  if (own.length === 0) {
    return skip(`${provider} names no name servers for zone ${zone.name} (a private zone?): delegation not checked`);
  }
  const delegate = `delegate ${zone.name} to ${own.join(', ')} at its registrar (or in its parent zone)`;
  const verdicts = views.map(({ resolver, ns }): Verdict => {
    const who = resolverName(resolver);
    if (!ns.ok) return warn(`could not check the NS of ${zone.name}: ${ns.error}`, COULD_NOT_CHECK_HINT);
    const seen = ns.value.map((n) => n.toLowerCase());
    if (seen.length === 0) {
      return fail(
        `${zone.name} has no NS records as ${who} sees it: the zone is not delegated, so the CA cannot see what ${provider} writes`,
        delegate,
      );
    }
    const foreign = seen.filter((n) => !own.includes(n));
    if (foreign.length === seen.length) {
      return fail(
        `${zone.name} is delegated to ${seen.join(', ')} (as ${who} sees it), not to ${provider}'s name servers ${own.join(', ')}: what ${provider} writes never reaches the CA`,
        delegate,
      );
    }
    if (foreign.length > 0) {
      return warn(
        `${zone.name} is delegated to ${provider}'s name servers and also to ${foreign.join(', ')} (as ${who} sees it): a CA asking those may not see the challenge`,
        `remove ${foreign.join(', ')} from the delegation of ${zone.name}, or keep them in sync with ${provider}`,
      );
    }
    return pass(`${zone.name} is delegated to ${provider} (${seen.join(', ')})`);
  });
  return combine(verdicts, () =>
    verdicts
      .map((v) => v.message)
      .filter((m, i, all) => all.indexOf(m) === i)
      .join('; '),
  );
}

export interface AliasView {
  resolver: string | undefined;
  /** `_acme-challenge.<name>`. */
  from: string;
  /** Where it must lead with `challengeAlias`; absent without one. */
  to?: string;
  chain: Looked<string[]>;
}

/** A `_acme-challenge` CNAME is required with `challengeAlias`, and wrong without one. */
export function decideAlias(view: AliasView): Verdict {
  const { from, to, chain } = view;
  if (!chain.ok) return warn(`could not check the CNAME at ${from}: ${chain.error}`, COULD_NOT_CHECK_HINT);
  const path = chain.value;
  if (to) {
    if (path.includes(to)) return pass(`${from} is a CNAME to ${to}`);
    if (path.length === 0) {
      return fail(
        `${from} is no CNAME: with challengeAlias the CA must be sent on to ${to}, where certkeeper writes`,
        `add the record ${from}. CNAME ${to}.`,
      );
    }
    return fail(`${from} leads to ${path.join(' → ')}, not to ${to}`, `point ${from} at ${to}. (CNAME)`);
  }
  if (path.length === 0) return pass(`${from} is no CNAME: the CA reads the TXT value where it is written`);
  const target = path[0] as string;
  const alias = target.startsWith(`${from}.`) ? target.slice(from.length + 1) : undefined;
  return fail(
    `${from} is a CNAME to ${target}: the CA follows it and never sees the TXT value written at ${from}`,
    alias
      ? `set dns.challengeAlias: ${alias} (certkeeper then writes at ${target}), or remove the CNAME`
      : `remove the CNAME, or set dns.challengeAlias to the zone it points into`,
  );
}

/** Several names' alias verdicts as the certificate's one. */
export function combineAlias(verdicts: Verdict[], withAlias: boolean, names: number): Verdict {
  return combine(verdicts, () =>
    withAlias
      ? `every _acme-challenge name (${names}) is a CNAME to the alias`
      : `no _acme-challenge name (${names}) is a CNAME`,
  );
}
