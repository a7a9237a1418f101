import { PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { HookError } from '../../../ports/errors.js';
import type { CertificateEvent, DeployHook, HookOutcome } from '../../../ports/hooks.js';
import { assertNoKeyMaterial } from '../../../ports/hooks.js';
import type { Logger } from '../../../ports/logger.js';
import { type AwsClientFactory, defaultAwsClientFactory } from '../../aws/clients.js';
import { errorMessage, snippet } from '../common.js';
import type { EventBridgeConfig } from './descriptor.js';

/** The one call this hook makes; an `EventBridgeClient` fits, and so does a stub in tests. */
export interface EventBridgeLike {
  send(command: PutEventsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutEventsCommandOutput>;
}

export interface EventBridgeDeps {
  logger: Logger;
  /** A ready client (tests). Else one from `clients` for the config's region and role. */
  client?: EventBridgeLike;
  clients?: AwsClientFactory;
}

/**
 * PutEvents with `Source` = config.source, `DetailType` = the event type and `Detail` = the whole
 * event, so rules can match on `detail.data.certificate` or `detail-type`.
 */
export function createEventBridgeHook(config: EventBridgeConfig, deps: EventBridgeDeps): DeployHook {
  let client = deps.client;
  const log = deps.logger.child({ hook: 'aws-eventbridge', eventBusName: config.eventBusName ?? 'default' });

  return {
    type: 'aws-eventbridge',
    on: config.on,
    async run(event: CertificateEvent, _context, signal?: AbortSignal): Promise<HookOutcome> {
      assertNoKeyMaterial(event, 'aws-eventbridge');
      // Built on first use so that a run whose hooks never fire needs no AWS configuration; from
      // the shared factory, so a cross-account bus uses the same cached AssumeRole credentials
      // (and the IAM call inventory sees the call) like every other AWS adapter.
      client ??= (deps.clients ?? defaultAwsClientFactory()).eventBridge({
        region: config.region,
        roleArn: config.roleArn,
        externalId: config.externalId,
      });
      let output: PutEventsCommandOutput;
      try {
        output = await client.send(
          new PutEventsCommand({
            Entries: [
              {
                Source: config.source,
                DetailType: event.type,
                Detail: JSON.stringify(event),
                Time: new Date(event.timestamp),
                ...(config.eventBusName ? { EventBusName: config.eventBusName } : {}),
              },
            ],
          }),
          signal ? { abortSignal: signal } : undefined,
        );
      } catch (error) {
        throw new HookError(`aws-eventbridge: PutEvents failed: ${snippet(errorMessage(error))}`, {
          cause: error,
          hint: 'the role needs events:PutEvents on the event bus',
        });
      }
      // PutEvents answers 200 even when it drops an entry; the failure is only in the body.
      if ((output.FailedEntryCount ?? 0) > 0) {
        const entry = output.Entries?.find((e) => e.ErrorCode) ?? output.Entries?.[0];
        const reason = entry?.ErrorCode ? `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}` : 'no reason given';
        throw new HookError(`aws-eventbridge: PutEvents rejected the event (${snippet(reason)})`);
      }
      const eventId = output.Entries?.[0]?.EventId;
      log.info('event put on EventBridge', { eventId });
      return {
        status: 'ok',
        message: `put on ${config.eventBusName ?? 'default'} bus${eventId ? ` (${eventId})` : ''}`,
      };
    },
  };
}
