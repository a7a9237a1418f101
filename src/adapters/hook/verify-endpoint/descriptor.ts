import * as z from 'zod';
import type { HookDescriptor, OptionsOf } from '../../../ports/adapter.js';
import type { HookCommon } from '../../../ports/config.js';
import { duration, hostPort } from '../../../ports/schema.js';

const options = {
  endpoints: z
    .array(hostPort)
    .min(1)
    .meta({ description: 'TLS endpoints ("host:port") that must serve the new certificate.' }),
  timeout: duration('timeout').prefault('5m').meta({ description: 'How long to wait for every endpoint.' }),
};

export type VerifyEndpointConfig = OptionsOf<typeof options> & HookCommon;

export const verifyEndpoint: HookDescriptor<typeof options> = {
  kind: 'hook',
  name: 'verify-endpoint',
  doc:
    'Connects to each endpoint with SNI until it serves the new certificate (compared by serial); load balancers ' +
    'and CDNs pick a new certificate up some time after it is stored. Not served in time is a `warning` result, ' +
    '"renewed but not served", not a failure.',
  options,
  secrets: [],
  permissions: () => ({ grants: ['network access to the endpoints'] }),
  async create(config, ctx) {
    const { createVerifyEndpointHook } = await import('./verify-endpoint.js');
    return createVerifyEndpointHook(config, { logger: ctx.logger, clock: ctx.clock });
  },
};
