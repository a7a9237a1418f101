// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is config syntax, not a template
import * as z from 'zod';
import type { DnsDescriptor, OptionsOf } from '../../../ports/adapter.js';
import { httpUrl } from '../../../ports/schema.js';

const options = {
  // PowerDNS's webserver speaks plain HTTP (TLS comes from a proxy in front), so http is allowed.
  url: httpUrl('url', { httpsUnlessLoopback: false }).meta({
    description: 'Base URL of the PowerDNS Authoritative webserver (the API is under /api/v1).',
  }),
  apiKey: z.string().min(1).meta({ description: 'The server\'s api-key, sent as X-API-Key; use "${env:NAME}".' }),
  serverId: z.string().min(1).default('localhost').meta({ description: 'The API server id (default localhost).' }),
  zone: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "The zone to write into; default: the longest suffix among the server's zones." }),
};

export type PowerDnsOptions = OptionsOf<typeof options>;

export const powerdns: DnsDescriptor<typeof options> = {
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
  // As lego names them, so a job that ran lego's pdns provider keeps its environment.
  shortcutEnv: { url: 'PDNS_API_URL', apiKey: 'PDNS_API_KEY' },
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
    const { createPowerDnsProvider } = await import('./provider.js');
    return createPowerDnsProvider(config, {
      clock: ctx.clock,
      logger: ctx.logger,
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
  },
};
