import type { CaaRecord } from '../../ports/dns.js';
import type { RelevantCaa } from './lookups.js';
import { fail, pass, type Verdict, warn } from './report.js';

/**
 * The CAA decision for one name (RFC 8659, with the `accounturi` and `validationmethods`
 * parameters of RFC 8657), over the record set the lookups found. Pure.
 */

/** Property tags a CA knows; a critical property with any other tag forbids issuance (RFC 8659 §4). */
const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef', 'issuemail']);

export interface CaaContext {
  /** The CA's CAA identities (its directory's `meta.caaIdentities`, else `acme.caaIdentities`). */
  identities?: { domains: string[]; source: 'directory' | 'config' };
  /** The stored account's URL, for `accounturi`; absent when none is stored yet. */
  accountUrl?: string;
}

export type IssueValue = { ok: true; issuer: string; parameters: [string, string][] } | { ok: false; reason: string };

const DOMAIN = /^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$/i;
const PARAMETER = /^([a-z0-9]+(?:-+[a-z0-9]+)*)[ \t]*=[ \t]*([\x21-\x3a\x3c-\x7e]*)$/i;

/**
 * An `issue`/`issuewild` value (RFC 8659 §4.2): `[issuer-domain-name] [; tag=value [; …]]`. An empty
 * issuer (`;`) names no CA. A value that does not parse authorizes nobody.
 */
export function parseIssueValue(value: string): IssueValue {
  const semi = value.indexOf(';');
  const issuer = (semi < 0 ? value : value.slice(0, semi)).trim();
  if (issuer !== '' && !DOMAIN.test(issuer)) return { ok: false, reason: `"${issuer}" is not a domain name` };
  const parameters: [string, string][] = [];
  if (semi >= 0) {
    for (const part of value.slice(semi + 1).split(';')) {
      const text = part.trim();
      if (text === '') continue;
      const m = PARAMETER.exec(text);
      if (!m) return { ok: false, reason: `parameter "${text}" is malformed` };
      parameters.push([(m[1] as string).toLowerCase(), m[2] as string]);
    }
  }
  return { ok: true, issuer: issuer.toLowerCase(), parameters };
}

function show(records: readonly CaaRecord[]): string {
  return records.map((r) => `${r.critical ? 128 : 0} ${r.tag} "${r.value}"`).join(', ');
}

/** Why a record naming this CA still does not authorize this account and dns-01 (RFC 8657), or undefined. */
function parameterRefusal(parameters: [string, string][], accountUrl: string | undefined): string | undefined {
  const named = (key: string) => parameters.filter(([k]) => k === key).map(([, v]) => v);
  const accountUris = named('accounturi');
  if (accountUris.length > 1) return 'it has more than one accounturi (RFC 8657 §3 makes it match nothing)';
  const [accountUri] = accountUris;
  if (accountUri !== undefined) {
    if (!accountUrl)
      return `only for account ${accountUri} (accounturi), and no account is stored: a run registers a new one`;
    if (accountUri !== accountUrl) return `only for account ${accountUri} (accounturi), not ${accountUrl}`;
  }
  const methodLists = named('validationmethods');
  if (methodLists.length > 1) return 'it has more than one validationmethods (RFC 8657 §4 makes it match nothing)';
  const [methods] = methodLists;
  if (methods !== undefined) {
    const list = methods.split(',').map((m) => m.trim().toLowerCase());
    if (!list.includes('dns-01')) return `only with ${methods} (validationmethods); certkeeper validates with dns-01`;
  }
  return undefined;
}

/**
 * May the CA issue for `name`? `relevant` is the closest CAA record set (none: anyone may).
 * Wildcards use `issuewild` when the set has any, else `issue` (RFC 8659 §4.3).
 */
export function decideCaa(name: string, relevant: RelevantCaa | undefined, ctx: CaaContext): Verdict {
  if (!relevant || relevant.records.length === 0) {
    return pass(`${name}: no CAA records up to the top-level domain, so any CA may issue`);
  }
  const { at, records } = relevant;
  const unknownCritical = records.filter((r) => r.critical && !KNOWN_TAGS.has(r.tag));
  if (unknownCritical.length > 0) {
    const tags = [...new Set(unknownCritical.map((r) => r.tag))].join(', ');
    return fail(
      `${name}: the CAA records at ${at} carry a critical property the CA does not know (${tags}), which forbids every issuance (RFC 8659 §4)`,
      `clear the critical flag (128) of the ${tags} record at ${at}, or remove it`,
    );
  }
  const wildcard = name.startsWith('*.');
  const issuewild = records.filter((r) => r.tag === 'issuewild');
  const tag = wildcard && issuewild.length > 0 ? 'issuewild' : 'issue';
  const set = records.filter((r) => r.tag === tag);
  if (set.length === 0) {
    return pass(`${name}: the CAA records at ${at} restrict no ${wildcard ? 'wildcard ' : ''}issuance (no ${tag})`);
  }
  if (!ctx.identities) {
    return warn(
      `${name}: the CAA records at ${at} allow only some CAs (${show(set)}), and the CA's directory names no caaIdentities to compare with`,
      'set acme.caaIdentities to the domain the CA uses in CAA (e.g. letsencrypt.org) so the doctor can check',
    );
  }
  const ours = ctx.identities.domains.map((d) => d.toLowerCase());
  const parsed = set.map((r) => ({ record: r, value: parseIssueValue(r.value) }));
  const naming = parsed.filter(
    (p): p is { record: CaaRecord; value: Extract<IssueValue, { ok: true }> } =>
      p.value.ok && ours.includes(p.value.issuer),
  );
  const identity = ours[0] as string;
  const kind = wildcard ? 'wildcard issuance' : 'issuance';
  if (naming.length === 0) {
    const allowed = parsed
      .map((p) => (p.value.ok ? p.value.issuer || 'no CA (";")' : `a malformed value (${p.value.reason})`))
      .join(', ');
    const fallback = wildcard && tag === 'issue' ? ' (no issuewild, so issue applies)' : '';
    return fail(
      `${name}: CAA ${tag} at ${at} allows ${allowed}${fallback}, not ${ours.join(' / ')} (the CA's CAA identity ${ctx.identities.source === 'directory' ? 'in its directory' : 'in acme.caaIdentities'}): ${kind} is forbidden`,
      wildcard && tag === 'issuewild'
        ? `add the record ${at}. CAA 0 issuewild "${identity}" (or remove the issuewild records at ${at}, so that issue applies)`
        : `add the record ${at}. CAA 0 ${tag} "${identity}" beside those you keep`,
    );
  }
  const refusals = naming.map((p) => parameterRefusal(p.value.parameters, ctx.accountUrl));
  if (refusals.some((r) => r === undefined)) {
    return pass(`${name}: CAA ${tag} at ${at} allows ${identity}`);
  }
  return fail(
    `${name}: CAA ${tag} at ${at} names ${identity}, but ${refusals[0]}`,
    `change the record at ${at} so that it allows this account and dns-01 (accounturi=${ctx.accountUrl ?? '<the account a run registers>'}; validationmethods including dns-01)`,
  );
}
