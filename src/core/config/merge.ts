import { hasPath, isPlainObject } from './paths.js';

/**
 * A certificate's own value wins. Objects are merged key by key when they are of the same kind
 * (same `provider`/`type`, or the certificate names none), so `defaults.dns.propagation` and a
 * certificate's `hostedZoneId` combine; a different kind replaces the default whole. Arrays are
 * replaced, never concatenated.
 */
export function mergeDefaults(
  defaults: Record<string, unknown>,
  own: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(own)) {
    const d = out[k];
    if (isPlainObject(d) && isPlainObject(v)) {
      const kindKey = 'provider' in d || 'provider' in v ? 'provider' : 'type';
      const sameKind = v[kindKey] === undefined || v[kindKey] === d[kindKey];
      out[k] = sameKind ? mergeDefaults(d, v) : v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/**
 * An issue inside a certificate, at a path whose value came from `defaults`, is reported there
 * (`defaults.dns.ttl`, not `certificates[3].dns.ttl`): that is where the user wrote it.
 */
export function homePathFor(rawDefaults: Record<string, unknown>, rawCerts: unknown) {
  return (p: PropertyKey[]): PropertyKey[] => {
    if (p[0] !== 'certificates' || typeof p[1] !== 'number' || p.length <= 2) return p;
    const own = Array.isArray(rawCerts) ? rawCerts[p[1]] : undefined;
    if (!isPlainObject(own)) return p;
    const rest = p.slice(2);
    if (hasPath(own, rest)) return p;
    const fromDefaults = hasPath(own, rest.slice(0, 1))
      ? hasPath(rawDefaults, rest)
      : hasPath(rawDefaults, rest.slice(0, 1));
    return fromDefaults ? ['defaults', ...rest] : p;
  };
}
