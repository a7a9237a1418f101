// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import * as z from 'zod';
import type { DnsDescriptor, OptionsOf } from '../../../ports/adapter.js';
import { hostPort } from '../../../ports/schema.js';

/** TSIG algorithms (RFC 8945 §6), the default first. Kept here, light, for the config schema. */
export const TSIG_ALGORITHM_NAMES = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** "host:port" → parts (validated by `hostPort` in the config; the factory checks again for direct callers). */
export function parseServer(value: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([a-zA-Z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  return m && port > 0 && port < 65536 ? { host: m[1]!, port } : undefined;
}

const options = {
  server: hostPort.meta({
    description: 'The primary name server that accepts DNS UPDATE, as host:port (port required, IPv6 as "[::1]:53").',
  }),
  zone: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'The zone to update; default: found by an SOA query to the server.' }),
  tsig: z
    .strictObject({
      name: z.string().min(1).meta({ description: 'The TSIG key name, as the server knows it.' }),
      algorithm: z
        .enum(TSIG_ALGORITHM_NAMES, {
          error: () => `unknown TSIG algorithm: use one of ${TSIG_ALGORITHM_NAMES.join(', ')}`,
        })
        .default('hmac-sha256'),
      secret: z
        .string()
        .superRefine((value, ctx) => {
          // The message never repeats the value: it is a credential.
          if (value.length === 0 || !BASE64.test(value)) {
            ctx.addIssue({
              code: 'custom',
              message: 'must be the key secret in base64, as tsig-keygen, keymgr or pdnsutil print it',
            });
          }
        })
        .meta({ description: 'The TSIG key secret (base64); use "${env:NAME}".' }),
    })
    .meta({ description: 'The TSIG key (RFC 8945) that signs the updates.' }),
};

export type Rfc2136Options = OptionsOf<typeof options>;

export const rfc2136: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'rfc2136',
  doc:
    'Any name server that accepts dynamic updates (RFC 2136): BIND, Knot, PowerDNS (dnsupdate=yes). ' +
    'certkeeper sends DNS UPDATE messages signed with TSIG (RFC 8945, hmac-sha256 by default) to `server`, ' +
    'over UDP and over TCP when a message does not fit, and accepts only answers signed with the same key. ' +
    'It adds exactly its own TXT values and deletes exactly those again (never the whole record set), so ' +
    'other values on `_acme-challenge` names survive. The zone is found by an SOA query to the server ' +
    'unless `zone` is given, and propagation is checked against the server itself unless resolvers are set. ' +
    'A record set has one TTL, so the server gives the values already at the name the `ttl` of ours (BIND does). ' +
    'Windows DNS accepts only GSS-TSIG (Kerberos) for secure updates, which certkeeper does not speak.',
  options,
  secrets: ['tsig.secret'],
  // As lego names them, so a job that ran lego's rfc2136 provider keeps its environment.
  shortcutEnv: { server: 'RFC2136_NAMESERVER', 'tsig.name': 'RFC2136_TSIG_KEY', 'tsig.secret': 'RFC2136_TSIG_SECRET' },
  permissions(config, ctx) {
    const key = config.tsig.name.replace(/\.$/, '');
    const names = ctx.challengeNames.map((n) => `${n}.`);
    const owners = names.length ? names.join(' ') : '_acme-challenge.<domain>.';
    return {
      grants: [
        `the TSIG key ${key} (${config.tsig.algorithm}) may add and delete TXT records at ${owners} on ${config.server}`,
        `BIND, in the zone statement: update-policy { ${(names.length ? names : ['_acme-challenge.<domain>.']).map((n) => `grant ${key} name ${n} TXT;`).join(' ')} };`,
        `Knot: an acl with key: ${key}, action: update, update-type: TXT, update-owner: name, update-owner-match: equal, update-owner-name: [${names.join(', ')}], listed in the zone's acl`,
        `PowerDNS: dnsupdate=yes, allow-dnsupdate-from including this host, the key imported (pdnsutil import-tsig-key ${key} ${config.tsig.algorithm} …) and zone metadata TSIG-ALLOW-DNSUPDATE=${key}`,
      ],
    };
  },
  async create(config, ctx) {
    const { createRfc2136Provider } = await import('./provider.js');
    return createRfc2136Provider(config, { clock: ctx.clock, logger: ctx.logger });
  },
};
