// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import * as z from 'zod';
import type { DnsDescriptor, OptionsOf } from '../../../ports/adapter.js';

const options = {
  url: z
    .string()
    .superRefine((value, ctx) => {
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be the http(s) URL of the PowerDNS webserver, e.g. "http://ns1.example.com:8081"',
        });
      }
    })
    .meta({ description: 'Base URL of the PowerDNS Authoritative webserver (the API is under /api/v1).' }),
  apiKey: z.string().min(1).meta({ description: 'The server\'s api-key, sent as X-API-Key; use "${env:NAME}".' }),
  serverId: z.string().min(1).default('localhost').meta({ description: 'The API server id (default localhost).' }),
  zone: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "The zone to write into; default: the longest suffix among the server's zones." }),
};

export type PowerDnsOptions = OptionsOf<typeof options>;

export const powerDnsDescriptor: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'powerdns',
  doc:
    'PowerDNS Authoritative through its HTTP API (api=yes, webserver=yes). PowerDNS replaces whole record sets, ' +
    'so certkeeper reads the TXT record set at `_acme-challenge.<domain>`, writes it back with its values added ' +
    '(PATCH, changetype REPLACE; other values and their TTL kept) or removed (DELETE once empty), and reads it ' +
    'again to catch a concurrent writer, retrying when one dropped a value. The zone is the longest suffix among ' +
    "the server's zones unless `zone` is given. Give the propagation resolvers (the server's DNS port) unless " +
    "the zone's name servers are reachable.",
  options,
  secrets: ['apiKey'],
  permissions(config, ctx) {
    const names = ctx.challengeNames.length ? ctx.challengeNames.join(', ') : '_acme-challenge.<domain>';
    return {
      grants: [
        `the PowerDNS api-key of server ${config.serverId} at ${config.url}: it may list zones and PATCH the TXT record sets at ${names}` +
          ' (PowerDNS API keys are not scoped: any holder can change every zone; keep the webserver reachable from this runner only, webserver-allow-from)',
      ],
    };
  },
  async create(config, ctx) {
    const { createPowerDnsProvider } = await import('./powerdns.js');
    return createPowerDnsProvider(config, {
      clock: ctx.clock,
      logger: ctx.logger,
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
  },
};
