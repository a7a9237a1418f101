import * as z from 'zod';
import type { DnsDescriptor } from '../../../ports/adapter.js';
import type { ConfigIssue } from '../../../ports/errors.js';
import { AZURE_CLOUDS, authorityHostFor } from './clouds.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Resource group names: 1–90 of letters, digits, `_`, `-`, `.`, `(`, `)`, not ending in a period. */
const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{0,89}[-\p{L}\p{N}_()]$/u;
const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

/** https only, loopback included: the SDK sends its bearer token there. */
const httpsUrl = z.string().refine(
  (s) => {
    try {
      return new URL(s).protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'endpoint must be an https URL' },
);

const options = {
  subscriptionId: z
    .string()
    .regex(GUID, 'an Azure subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)'),
  resourceGroup: z
    .string()
    .regex(
      RESOURCE_GROUP,
      'a resource group name: 1–90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period',
    )
    .meta({ description: 'The resource group of the DNS zone.' }),
  zoneName: z.string().regex(DNS_NAME, 'a DNS zone name such as example.com').optional().meta({
    description: 'The DNS zone; default the public zone of the resource group with the longest matching name.',
  }),
  endpoint: httpsUrl.optional().meta({
    description:
      'Azure Resource Manager endpoint of a sovereign cloud (default https://management.azure.com); the Entra ID authority follows it.',
  }),
};

export const azureDns: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'azure-dns',
  doc:
    'Azure DNS through Azure Resource Manager (the `@azure/arm-dns` SDK). The zone is the public DNS zone of ' +
    '`resourceGroup` whose name is the longest suffix of the record name, unless `zoneName` names one. The TXT ' +
    'record set is read with its ETag and written back with `If-Match` (`If-None-Match: *` when new), so a ' +
    'concurrent writer makes Azure answer 412 and the set is read again instead of losing a value; cleanup ' +
    'removes only our records and deletes the set (with `If-Match`) when ours were the last. Credentials come ' +
    'from `DefaultAzureCredential`: in GitHub Actions a federated credential (`AZURE_CLIENT_ID`, ' +
    '`AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` with the OIDC token), a client secret, a managed identity ' +
    'or `az login`. `endpoint` selects a sovereign cloud (`https://management.chinacloudapi.cn`, ' +
    '`https://management.usgovcloudapi.net`); the Entra ID authority follows it (or `AZURE_AUTHORITY_HOST`).',
  options,
  secrets: [],
  shortcutEnv: { subscriptionId: 'AZURE_SUBSCRIPTION_ID', resourceGroup: 'AZURE_RESOURCE_GROUP' },
  // Read by DefaultAzureCredential (EnvironmentCredential) from the environment.
  secretEnv: ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PASSWORD'],
  check(config, { env }) {
    const issues: ConfigIssue[] = [];
    if (env.AZURE_AUTHORITY_HOST && !/^https:\/\/[^/]/.test(env.AZURE_AUTHORITY_HOST)) {
      issues.push({
        path: 'endpoint',
        message: `AZURE_AUTHORITY_HOST must be an https URL (is ${env.AZURE_AUTHORITY_HOST})`,
      });
    } else if (!authorityHostFor(config.endpoint, env)) {
      issues.push({
        path: 'endpoint',
        message: `${config.endpoint} is not a known Azure cloud (${AZURE_CLOUDS.map((c) => c.arm).join(', ')}); set AZURE_AUTHORITY_HOST to its Entra ID authority host`,
      });
    }
    return issues;
  },
  permissions(config) {
    const zone = config.zoneName ? `the DNS zone ${config.zoneName}` : 'the DNS zone holding the challenge names';
    const grants = [
      `"DNS Zone Contributor" on ${zone} in resource group ${config.resourceGroup} of subscription ${config.subscriptionId}, ` +
        'or (least privilege) a custom role with Microsoft.Network/dnsZones/read, Microsoft.Network/dnsZones/TXT/read, ' +
        'Microsoft.Network/dnsZones/TXT/write and Microsoft.Network/dnsZones/TXT/delete on it',
    ];
    if (!config.zoneName) {
      grants.push(
        `Microsoft.Network/dnsZones/read on resource group ${config.resourceGroup} (e.g. "Reader"), to find the zone; or set zoneName`,
      );
    }
    return { grants };
  },
  async create(config, ctx) {
    const { createAzureDnsProvider } = await import('./provider.js');
    return createAzureDnsProvider(config, ctx);
  },
};
