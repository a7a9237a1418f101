import * as z from 'zod';
import type { DnsDescriptor, Env, OptionsOf } from '../../../ports/adapter.js';
import type { DnsCommon } from '../../../ports/config.js';
import type { ConfigIssue } from '../../../ports/errors.js';
import { TOKEN_ENV } from './env.js';

export const cloudflareOptions = {
  apiToken: z
    .string()
    .min(1)
    .optional()
    .describe(`API token (a \`\${env:NAME}\` reference); default the ${TOKEN_ENV} environment variable`),
  zoneId: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'a Cloudflare zone id is 32 hexadecimal characters')
    .optional()
    .describe('the zone to write into; default: the zone of each challenge name, found among the zones the token sees'),
};

export type CloudflareOptions = OptionsOf<typeof cloudflareOptions>;
export type CloudflareConfig = CloudflareOptions & DnsCommon;

const DNS_EDIT = 'an API token with Zone → DNS → Edit on the zone of each challenge name';
const ZONE_READ = 'Zone → Zone → Read on that zone, to find it (and for `certkeeper doctor`)';
const ZONE_READ_DOCTOR = 'Zone → Zone → Read on that zone only for `certkeeper doctor` (dns.zoneId names it)';

export const cloudflareDescriptor: DnsDescriptor<typeof cloudflareOptions> = {
  kind: 'dns',
  name: 'cloudflare',
  doc:
    'Cloudflare DNS through the official `cloudflare` SDK. Each challenge value is one TXT record (Cloudflare keeps ' +
    'same-name TXT records side by side), created and deleted by id; after a crash, cleanup finds its own records ' +
    'again by name and content and leaves every other value alone. The zone is the longest suffix of the challenge ' +
    'name among the zones the token can see (a child zone held as its own zone wins), unless `zoneId` names it. ' +
    `The token comes from \`apiToken\` (\`\${env:…}\`) or ${TOKEN_ENV}; CLOUDFLARE_BASE_URL points the client at ` +
    'another API endpoint, as the SDK does. Calls stay within Cloudflare’s 1,200 requests per 5 minutes and a 429 ' +
    'is retried after its Retry-After.',
  options: cloudflareOptions,
  secrets: ['apiToken'],
  shortcutEnv: { apiToken: TOKEN_ENV },
  secretEnv: [TOKEN_ENV],
  check(options: CloudflareOptions, ctx: { env: Env }): ConfigIssue[] {
    if (options.apiToken || ctx.env[TOKEN_ENV]) return [];
    return [
      {
        path: 'apiToken',
        message: `no Cloudflare API token: set apiToken to \${env:NAME}, or set ${TOKEN_ENV}`,
      },
    ];
  },
  permissions(config) {
    return { grants: [DNS_EDIT, config.zoneId ? ZONE_READ_DOCTOR : ZONE_READ] };
  },
  async create(config, ctx) {
    const { createCloudflareProvider } = await import('./cloudflare.js');
    return createCloudflareProvider(config, ctx);
  },
};
