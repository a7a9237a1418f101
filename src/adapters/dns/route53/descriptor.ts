import * as z from 'zod';
import type { DnsDescriptor, IamStatement, OptionsOf } from '../../../ports/adapter.js';
import type { DnsCommon } from '../../../ports/config.js';
import { assumeRoleOptions, region } from '../../aws/schema.js';

const options = {
  hostedZoneId: z
    .string()
    .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, { error: 'must be a hosted zone id like "Z123ABC"' })
    .optional()
    .meta({ description: 'The hosted zone; found by longest suffix match when omitted.' }),
  region: region.optional(),
  ...assumeRoleOptions,
};

export type Route53Config = OptionsOf<typeof options> & DnsCommon;

/** As IAM compares record names: lowercase, no trailing dot, `*` as `\052`. */
function iamRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '').replace(/\*/g, '\\052');
}

export const route53: DnsDescriptor<typeof options> = {
  kind: 'dns',
  name: 'route53',
  doc:
    'Amazon Route 53. The hosted zone is found by longest suffix (public zones; a private zone only when named), ' +
    'apex and wildcard values are merged into one TXT record set, each zone gets one compare-and-swap change batch, ' +
    'and the provider waits for INSYNC. Throttling and PriorRequestNotComplete are retried with jittered backoff, and ' +
    'once Route 53 throttles, calls are paced at its 5 requests/s. `roleArn` assumes a role for zones in another account.',
  options,
  secrets: [],
  async permissions(config, ctx) {
    const names = [...new Set(ctx.challengeNames.map(iamRecordName))].sort();
    let zones = config.hostedZoneId ? [config.hostedZoneId.replace(/^\/hostedzone\//, '')] : [];
    if (zones.length === 0 && ctx.discover && ctx.ctx) {
      const provider = await route53.create(config, ctx.ctx);
      const found = await Promise.all(ctx.challengeNames.map((n) => provider.describeZone?.(n)));
      zones = [...new Set(found.map((z) => z?.id).filter((id): id is string => Boolean(id)))];
    }
    const zoneArns = zones.length
      ? zones.map((id) => `arn:aws:route53:::hostedzone/${id}`)
      : ['arn:aws:route53:::hostedzone/*'];
    const iam: IamStatement[] = [
      {
        Sid: 'Route53ReadHostedZones',
        Effect: 'Allow',
        Action: ['route53:GetHostedZone', 'route53:ListResourceRecordSets'],
        Resource: zoneArns,
      },
      {
        Sid: 'Route53WaitForChanges',
        Effect: 'Allow',
        Action: ['route53:GetChange'],
        Resource: 'arn:aws:route53:::change/*',
      },
      {
        Sid: 'Route53WriteChallengeRecords',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: zoneArns,
        Condition: {
          'ForAnyValue:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
            'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
          },
        },
      },
      // ForAnyValue in an Allow passes a batch with one allowed name among others: these Denies
      // refuse any batch that touches another name or type.
      {
        Sid: 'Route53DenyOtherRecordNames',
        Effect: 'Deny',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: '*',
        Condition: {
          'ForAnyValue:StringNotEquals': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names },
        },
      },
      {
        Sid: 'Route53DenyOtherRecordTypes',
        Effect: 'Deny',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: '*',
        Condition: { 'ForAnyValue:StringNotEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] } },
      },
    ];
    // Zone discovery lists zones by name; a configured zone needs no listing.
    if (!config.hostedZoneId) {
      iam.unshift({
        Sid: 'Route53FindHostedZones',
        Effect: 'Allow',
        Action: ['route53:ListHostedZonesByName'],
        Resource: '*',
      });
    }
    return { iam };
  },
  async create(config, ctx) {
    const [{ createRoute53Provider }, { awsClients }] = await Promise.all([
      import('./provider.js'),
      import('../../aws/services.js'),
    ]);
    return createRoute53Provider(config, { clock: ctx.clock, logger: ctx.logger, clients: awsClients(ctx) });
  },
};
