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
}
