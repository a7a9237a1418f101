import * as z from 'zod';
import type { HookDescriptor, OptionsOf } from '../../../ports/adapter.js';
import type { HookCommon } from '../../../ports/config.js';
import { assumeRoleOptions, partitionOf, region } from '../../aws/schema.js';

const options = {
  eventBusName: z.string().min(1).optional().meta({ description: 'Event bus name or ARN. Default: the default bus.' }),
  source: z.string().min(1).default('certkeeper').meta({ description: 'The event source.' }),
  region: region.optional(),
  ...assumeRoleOptions,
};

export type EventBridgeConfig = OptionsOf<typeof options> & HookCommon;

export const awsEventBridge: HookDescriptor<typeof options> = {
  kind: 'hook',
  name: 'aws-eventbridge',
  doc:
    'PutEvents on an EventBridge bus with `Source` = `source`, `DetailType` = the event type and `Detail` = the ' +
    'whole event, so rules can match on `detail.data.certificate`. `roleArn` for a bus in another account.',
  options,
  secrets: [],
  permissions(config) {
    const bus = config.eventBusName ?? 'default';
    const arn = bus.startsWith('arn:')
      ? bus
      : `arn:${partitionOf(config.region)}:events:${config.region ?? '*'}:*:event-bus/${bus}`;
    return {
      iam: [
        {
          Sid: 'EventBridgePutCertificateEvents',
          Effect: 'Allow',
          Action: ['events:PutEvents'],
          Resource: arn,
          Condition: { StringEquals: { 'events:source': config.source } },
        },
      ],
    };
  },
  async create(config, ctx) {
    const [{ createEventBridgeHook }, { awsClients }] = await Promise.all([
      import('./eventbridge.js'),
      import('../../aws/services.js'),
    ]);
    return createEventBridgeHook(config, { logger: ctx.logger, clients: awsClients(ctx) });
  },
};
