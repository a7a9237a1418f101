import * as z from 'zod';
import type { HookDescriptor, OptionsOf } from '../../../ports/adapter.js';
import type { HookCommon } from '../../../ports/config.js';
import { duration, httpUrl } from '../../../ports/schema.js';

const options = {
  url: httpUrl('url', { httpsUnlessLoopback: true }).meta({
    description: 'Where the event is POSTed; https only unless loopback.',
  }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: config syntax
  secret: z.string().min(1).optional().meta({ description: 'Standard Webhooks signing secret; use "${env:NAME}".' }),
  timeout: duration('timeout').prefault('15s').meta({ description: 'How long each try may take.' }),
};

export type WebhookConfig = OptionsOf<typeof options> & HookCommon;

export const webhook: HookDescriptor<typeof options> = {
  kind: 'hook',
  name: 'webhook',
  doc:
    'POSTs the event as JSON, signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, ' +
    '`webhook-signature`); https only unless loopback; redirects are not followed; 3 tries with backoff ' +
    '(5xx, 429, 408, timeouts), keeping the same `webhook-id` so receivers can de-duplicate.',
  options,
  secrets: ['secret'],
  permissions: () => ({ grants: ['none: the receiver checks the signature'] }),
  async create(config, ctx) {
    const { createWebhookHook } = await import('./webhook.js');
    return createWebhookHook(config, {
      logger: ctx.logger,
      clock: ctx.clock,
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
  },
};
