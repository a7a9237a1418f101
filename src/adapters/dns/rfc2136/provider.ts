import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../../../ports/clock.js';
import type { DnsProvider, TxtRecord, ZoneInfo } from '../../../ports/dns.js';
import { DnsProviderError } from '../../../ports/errors.js';
import type { Logger } from '../../../ports/logger.js';
import { parseServer, type Rfc2136Options } from './descriptor.js';
import {
  CLASS,
  encodeQuery,
  encodeRecord,
  encodeUpdate,
  type MessageView,
  parseMessage,
  rcodeName,
  rcodeOf,
  rdataName,
  TYPE,
  txtRdata,
} from './message.js';
import { type Endpoint, exchange, TransportError } from './transport.js';
import { signRequest, TSIG_ERROR, type TsigAlgorithm, type TsigKey, tsigErrorName, verifyResponse } from './tsig.js';

/**
 * DNS UPDATE (RFC 2136) provider. Every write is one UPDATE message per zone, signed with TSIG:
 * present adds exactly our values (RFC 2136 §2.5.1), cleanup removes exactly our values with
 * RR-specific deletes (class NONE, §2.5.4). The server applies a message atomically and treats a
 * duplicate add or the delete of an absent record as a no-op (§3.4.2), so apex and wildcard
 * values, concurrent writers and foreign values on the same name never need a read-modify-write.
 * An answer counts only when it carries a valid TSIG of the same key (RFC 8945 §5.3); a forged
 * "NOERROR" would otherwise make us wait for records that were never written.
 */

/** The parsed options (the algorithm may be left to its default) and the TTL from DnsCommon. */
export interface Rfc2136Config extends Omit<Rfc2136Options, 'tsig'> {
  tsig: Omit<Rfc2136Options['tsig'], 'algorithm'> & { algorithm?: TsigAlgorithm };
  /** TTL of the TXT records, seconds. */
  ttl?: number;
}

export interface Rfc2136Deps {
  clock: Clock;
  logger: Logger;
  /** UDP: wait this long for an answer before sending again (default 2 s, 3 tries). */
  udpTimeoutMs?: number;
  udpTries?: number;
  tcpTimeoutMs?: number;
}

const DEFAULT_TTL = 60;

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function parent(name: string): string | undefined {
  const i = name.indexOf('.');
  return i < 0 ? undefined : name.slice(i + 1);
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export function createRfc2136Provider(config: Rfc2136Config, deps: Rfc2136Deps): DnsProvider {
  const { logger } = deps;
  const parsed = parseServer(config.server);
  if (!parsed) {
    throw new DnsProviderError(`rfc2136: server must be "host:port", not ${JSON.stringify(config.server)}`, {
      hint: 'e.g. "ns1.example.com:53" or "[2001:db8::53]:53"',
    });
  }
  const key: TsigKey = {
    name: normalize(config.tsig.name),
    algorithm: config.tsig.algorithm ?? 'hmac-sha256',
    secret: Buffer.from(config.tsig.secret, 'base64'),
  };
  const server = config.server;
  const ttl = config.ttl ?? DEFAULT_TTL;
  const fixedZone = config.zone === undefined ? undefined : normalize(config.zone);
  const transport = {
    clock: deps.clock,
    udpTimeoutMs: deps.udpTimeoutMs ?? 2_000,
    udpTries: deps.udpTries ?? 3,
    tcpTimeoutMs: deps.tcpTimeoutMs ?? 10_000,
  };

  let endpointPromise: Promise<Endpoint> | undefined;
  const endpoint = () => {
    endpointPromise ??= (async () => {
      if (isIP(parsed.host)) return { host: parsed.host, port: parsed.port };
      try {
        const { address } = await lookup(parsed.host);
        return { host: address, port: parsed.port };
      } catch (error) {
        endpointPromise = undefined;
        throw new DnsProviderError(
          `rfc2136: cannot resolve the server name ${parsed.host}: ${(error as Error).message}`,
          {
            cause: error,
            hint: 'check `server` (host:port of the primary name server)',
          },
        );
      }
    })();
    return endpointPromise;
  };

  const send = async (wire: Buffer, what: string, signal?: AbortSignal) => {
    const ep = await endpoint();
    try {
      return await exchange(ep, wire, { ...transport, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      throw new DnsProviderError(`rfc2136: ${what}: ${server} did not answer: ${error.message}`, {
        cause: error,
        hint: `check that ${server} is the primary name server and that it is reachable over UDP and TCP`,
      });
    }
  };

  /** An unsigned query: zone data is public, and TSIG on queries is not supported everywhere. */
  const query = async (name: string, type: 'SOA' | 'NS', signal?: AbortSignal) => {
    const { response } = await send(
      encodeQuery(randomInt(0, 0x10000), name, type),
      `${type} query for ${name}`,
      signal,
    );
    let view: MessageView;
    try {
      view = parseMessage(response);
    } catch (error) {
      throw new DnsProviderError(
        `rfc2136: ${type} query for ${name}: malformed answer from ${server}: ${(error as Error).message}`,
        {
          cause: error,
          hint: `check that ${server} is a DNS server (host:port of the primary)`,
        },
      );
    }
    return { rcode: rcodeOf(response), view, response, aa: (response[2]! & 0x04) !== 0 };
  };

  const zones = new Map<string, Promise<string>>();

  /**
   * The zone holding `name` on this server: the owner of the SOA in the answer (name is an apex)
   * or in the authority section (name is inside the zone, existing or not). A referral means the
   * name sits in a child zone this server does not hold; walking up past it would update the
   * parent, where the validation never looks.
   */
  const discoverZone = async (name: string, signal?: AbortSignal): Promise<string> => {
    for (let candidate: string | undefined = name; candidate; candidate = parent(candidate)) {
      const { rcode, view, response, aa } = await query(candidate, 'SOA', signal);
      if (rcode !== 0 && rcode !== 3) continue;
      const soa = [...view.answers, ...view.authorities].find((r) => r.type === TYPE.SOA);
      if (soa && inZone(candidate, normalize(soa.name))) return normalize(soa.name);
      const cname = view.answers.find((r) => r.type === TYPE.CNAME && normalize(r.name) === candidate);
      if (cname) {
        throw new DnsProviderError(
          `rfc2136: ${candidate} is a CNAME to ${rdataName(response, cname)} on ${server}; TXT records cannot sit beside it`,
          { hint: 'use challengeAlias to write the records under the CNAME target, or remove the CNAME' },
        );
      }
      const referral = view.authorities.find((r) => r.type === TYPE.NS);
      if (referral && !aa) {
        throw new DnsProviderError(
          `rfc2136: ${name} is in ${normalize(referral.name)}, delegated to ${rdataName(response, referral)}, which ${server} does not serve`,
          { hint: `point \`server\` at the primary of ${normalize(referral.name)}, or set \`zone\`` },
        );
      }
    }
    throw new DnsProviderError(`rfc2136: ${server} is authoritative for no zone holding ${name}`, {
      hint: 'point `server` at the primary name server of the zone, or set `zone`',
    });
  };

  const zoneFor = (name: string, signal?: AbortSignal): Promise<string> => {
    // A configured zone is sent as given: the server knows best and answers NOTZONE for a name outside it.
    if (fixedZone !== undefined) return Promise.resolve(fixedZone);
    let z = zones.get(name);
    if (!z) {
      z = discoverZone(name, signal);
      zones.set(name, z);
      z.catch(() => zones.delete(name));
    }
    return z;
  };

  const byZone = async (records: TxtRecord[], signal?: AbortSignal) => {
    const grouped = new Map<string, TxtRecord[]>();
    const names = [...new Set(records.map((r) => normalize(r.name)))];
    const zoneOf = new Map(await Promise.all(names.map(async (n) => [n, await zoneFor(n, signal)] as const)));
    for (const r of records) {
      const name = normalize(r.name);
      const zone = zoneOf.get(name)!;
      const list = grouped.get(zone) ?? [];
      if (!list.some((x) => x.name === name && x.value === r.value)) list.push({ name, value: r.value });
      grouped.set(zone, list);
    }
    return grouped;
  };

  const update = async (zone: string, records: TxtRecord[], op: 'add' | 'delete', signal?: AbortSignal) => {
    const rrs = records.map((r) =>
      op === 'add'
        ? encodeRecord(r.name, TYPE.TXT, CLASS.IN, ttl, txtRdata(r.value))
        : encodeRecord(r.name, TYPE.TXT, CLASS.NONE, 0, txtRdata(r.value)),
    );
    const signed = signRequest(encodeUpdate(randomInt(0, 0x10000), zone, rrs), key, deps.clock.now().getTime());
    const what = `${op === 'add' ? 'adding' : 'deleting'} ${records.length} TXT value(s) in ${zone}`;
    const { response, protocol } = await send(signed.wire, what, signal);
    const verdict = verifyResponse(response, key, signed.mac, deps.clock.now().getTime());
    const rcode = rcodeOf(response);
    logger.debug(`rfc2136: UPDATE ${zone} (${op} ${records.length}) over ${protocol}: ${rcodeName(rcode)}`, {
      server,
      names: [...new Set(records.map((r) => r.name))],
      tsig: verdict.status,
    });
    if (rcode === 0 && verdict.status === 'valid' && verdict.error === 0) return;
    throw updateError({ rcode, verdict, zone, what, server, key, now: deps.clock.now().getTime() });
  };

  return {
    name: 'rfc2136',
    async present(records, signal) {
      if (records.length === 0) return;
      const grouped = await byZone(records, signal);
      await Promise.all([...grouped].map(([zone, list]) => update(zone, list, 'add', signal)));
    },
    async cleanup(records, signal) {
      if (records.length === 0) return;
      const grouped = await byZone(records, signal);
      await Promise.all([...grouped].map(([zone, list]) => update(zone, list, 'delete', signal)));
    },
    async defaultResolvers() {
      // The server is authoritative for the zone: what it answers is what the CA will see, once
      // secondaries caught up (give resolvers to check those too).
      const ep = await endpoint();
      return [isIP(ep.host) === 6 ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`];
    },
    async describeZone(recordName, signal): Promise<ZoneInfo> {
      const zone = await zoneFor(normalize(recordName), signal);
      const { rcode, view, response } = await query(zone, 'NS', signal);
      if (rcode !== 0) {
        throw new DnsProviderError(`rfc2136: NS query for ${zone} answered ${rcodeName(rcode)} by ${server}`, {
          hint: 'check that the server serves the zone',
        });
      }
      return { name: zone, nameServers: nsNames(view, response, zone) };
    },
  };
}

function nsNames(view: MessageView, response: Buffer, zone: string): string[] {
  return [
    ...new Set(
      view.answers.filter((r) => r.type === TYPE.NS && normalize(r.name) === zone).map((r) => rdataName(response, r)),
    ),
  ].sort();
}

interface FailureContext {
  rcode: number;
  verdict: ReturnType<typeof verifyResponse>;
  zone: string;
  what: string;
  server: string;
  key: TsigKey;
  now: number;
}

const POLICY_HINT = (key: string, zone: string) =>
  `allow key ${key} to update TXT at _acme-challenge names of ${zone}: BIND \`update-policy { grant ${key} name _acme-challenge.${zone}. TXT; };\` ` +
  `(or \`allow-update { key ${key}; };\`), Knot an acl with \`key: ${key}\` and \`action: update\`, ` +
  `PowerDNS zone metadata TSIG-ALLOW-DNSUPDATE=${key}`;

/** Maps a failed UPDATE to what a user can act on; never includes key material. */
function updateError(c: FailureContext): DnsProviderError {
  const { verdict, key, zone, server } = c;
  const head = `rfc2136: ${c.what} on ${server}`;
  const tsigError = verdict.status === 'missing' ? 0 : verdict.error;
  if (tsigError === TSIG_ERROR.BADTIME) {
    const serverTime =
      verdict.status === 'valid' && verdict.otherData.length === 6 ? verdict.otherData.readUIntBE(0, 6) : undefined;
    const offset = serverTime === undefined ? undefined : Math.round(c.now / 1000 - serverTime);
    return new DnsProviderError(
      `${head} failed: BADTIME, the server rejected the signature's time` +
        (offset === undefined
          ? ''
          : `: this clock is ${Math.abs(offset)} s ${offset > 0 ? 'ahead of' : 'behind'} the server's`),
      { hint: 'clock skew: TSIG allows 5 minutes; synchronise the clocks of this machine and the name server (NTP)' },
    );
  }
  if (tsigError === TSIG_ERROR.BADKEY) {
    return new DnsProviderError(
      `${head} failed: BADKEY, the server does not know key ${key.name} with ${key.algorithm}`,
      {
        hint: `wrong key name or algorithm: tsig.name and tsig.algorithm must match the key defined on the server (name "${key.name}", ${key.algorithm}); Knot also answers BADKEY when no acl of the zone names the key: ${POLICY_HINT(key.name, zone)}`,
      },
    );
  }
  if (tsigError === TSIG_ERROR.BADSIG) {
    return new DnsProviderError(
      `${head} failed: BADSIG, the server could not verify the signature of key ${key.name}`,
      {
        hint: 'wrong secret (or algorithm) for the key: tsig.secret must be the base64 secret the server has for this key',
      },
    );
  }
  if (tsigError !== 0) {
    return new DnsProviderError(`${head} failed: TSIG ${tsigErrorName(tsigError)} (${rcodeName(c.rcode)})`, {
      hint: 'check tsig.name, tsig.algorithm and tsig.secret against the key on the server',
    });
  }
  if (c.rcode === 0) {
    const why =
      verdict.status === 'missing'
        ? 'the answer is not signed'
        : verdict.status === 'unsigned'
          ? 'the answer carries an empty signature'
          : verdict.status === 'invalid'
            ? `the answer's signature is invalid (${verdict.reason})`
            : 'unexpected answer';
    return new DnsProviderError(`${head}: the server answered NOERROR, but ${why}; not trusting it`, {
      hint: `answers must be signed with key ${key.name}: is something between here and ${server} rewriting DNS, or is it another server?`,
    });
  }
  const rcode = rcodeName(c.rcode);
  const unsigned = verdict.status === 'valid' ? '' : ' (unsigned answer)';
  switch (rcode) {
    case 'REFUSED':
      if (verdict.status !== 'valid') {
        // PowerDNS answers a bad key name, secret or time with an unsigned REFUSED (and logs which).
        return new DnsProviderError(
          `${head} failed: REFUSED, unsigned: the server did not accept key ${key.name}, or does not let it update ${zone}`,
          {
            hint: `check tsig.name, tsig.algorithm, tsig.secret and this machine's clock against the server (its log says which), then the permission: ${POLICY_HINT(key.name, zone)}`,
          },
        );
      }
      return new DnsProviderError(`${head} failed: REFUSED: the server does not let key ${key.name} update ${zone}`, {
        hint: `allow-update / update-policy missing: ${POLICY_HINT(key.name, zone)}`,
      });
    case 'NOTAUTH':
      return new DnsProviderError(
        `${head} failed: NOTAUTH${unsigned}: the server is not authoritative for ${zone}, or not allowing key ${key.name}`,
        {
          hint: `wrong zone or server: \`server\` must be the primary of ${zone} (set \`zone\` if discovery picked the wrong one); Knot answers NOTAUTH when no acl allows the update: ${POLICY_HINT(key.name, zone)}`,
        },
      );
    case 'NOTZONE':
      return new DnsProviderError(`${head} failed: NOTZONE: a record name is outside zone ${zone}`, {
        hint: 'wrong zone: set `zone` to the zone that holds the _acme-challenge names, or leave it out to discover it',
      });
    case 'SERVFAIL':
      return new DnsProviderError(`${head} failed: SERVFAIL${unsigned}: the server could not apply the update`, {
        hint: 'see the name server log: the zone may not be loaded, its journal not writable, or dynamic updates off (PowerDNS: dnsupdate=yes)',
      });
    case 'NOTIMP':
      return new DnsProviderError(`${head} failed: NOTIMP: the server does not accept DNS UPDATE`, {
        hint: 'enable dynamic updates on the server (PowerDNS: dnsupdate=yes), or use its API provider',
      });
    default:
      return new DnsProviderError(`${head} failed: ${rcode}${unsigned}`, {
        hint: 'see the name server log for why it rejected the update',
      });
  }
}
