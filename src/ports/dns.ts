/** One DNS-01 TXT value at one name. `name` is a lowercase FQDN without the trailing dot. */
export interface TxtRecord {
  name: string;
  value: string;
}

/**
 * A DNS provider writes and removes TXT values. Contract (every provider passes the same suite):
 * - `present` with several values for one name keeps them all, and keeps values already there
 *   (apex and wildcard share `_acme-challenge.<d>`);
 * - `present` resolves when the provider reports the change live (Route 53: INSYNC);
 * - `cleanup` removes only the given values and leaves any other value on the name;
 *   removing a value that is already gone is not an error.
 */
export interface DnsProvider {
  readonly name: string;
  present(records: TxtRecord[], signal?: AbortSignal): Promise<void>;
  cleanup(records: TxtRecord[], signal?: AbortSignal): Promise<void>;
  /**
   * Resolvers (`host:port`) to check propagation against when the config names none,
   * e.g. the zone's authoritative servers, or challtestsrv's own DNS port.
   */
  defaultResolvers?(recordName: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * The zone `recordName` would be written into and the name servers the provider serves it from
   * (lowercase host names), for the doctor's `dns.zone` and `dns.delegation` checks. Reads only.
   * Throws a DnsProviderError (with a hint) when no zone is found with these credentials.
   */
  describeZone?(recordName: string, signal?: AbortSignal): Promise<ZoneInfo>;
}

export interface ZoneInfo {
  /** The zone's name, lowercase, no trailing dot. */
  name: string;
  /** The provider's id for it (Route 53 hosted zone id, Cloudflare zone id, …), when it has one. */
  id?: string;
  /** Name servers the provider serves the zone from; [] when it cannot tell (then delegation is not checked). */
  nameServers: string[];
}

/** A CAA resource record (RFC 8659). */
export interface CaaRecord {
  critical: boolean;
  tag: string;
  value: string;
}

/**
 * DNS lookups the core and the doctor need, against one resolver (`host:port`) or, with
 * `resolver` undefined, the system's. An answer with no data (NODATA, NXDOMAIN) is `[]`; a failing
 * resolver (timeout, SERVFAIL, REFUSED) throws, so a caller can tell "none" from "could not check".
 * Implemented by `src/adapters/resolver/` (node:dns); tests may inject their own.
 */
export interface DnsLookup {
  txt(resolver: string | undefined, name: string): Promise<string[]>;
  /** The CNAME target at `name` (one hop), lowercase without the trailing dot; [] when none. */
  cname(resolver: string | undefined, name: string): Promise<string[]>;
  /** Name server host names of the zone at `name` (lowercase, no trailing dot); [] when none. */
  ns(resolver: string | undefined, name: string): Promise<string[]>;
  caa(resolver: string | undefined, name: string): Promise<CaaRecord[]>;
  /** The SOA at `name` or, in an authority section, of the zone holding it. */
  soa(resolver: string | undefined, name: string): Promise<{ zone: string; mname: string } | undefined>;
  /** Addresses of a host name ("ns1.example.net" → ["192.0.2.1", …]). */
  addresses(host: string): Promise<string[]>;
}
