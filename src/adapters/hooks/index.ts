import type { HookConfig } from '../../core/config.js';
import type { Clock } from '../../ports/clock.js';
import { HookError } from '../../ports/errors.js';
import type { DeployHook } from '../../ports/hooks.js';
import type { Logger } from '../../ports/logger.js';
import { createCommandHook } from './command.js';
import type { Env } from './common.js';
import { createEventBridgeHook, type EventBridgeLike } from './eventbridge.js';
import { createGithubDispatchHook } from './github-dispatch.js';
import { createVerifyEndpointHook, type VerifyEndpointDeps } from './verify-endpoint.js';
import { createWebhookHook } from './webhook.js';

export type { Env } from './common.js';
export type { EventBridgeLike } from './eventbridge.js';
export type { TlsProbe } from './verify-endpoint.js';

export type HookEntry = 'cli' | 'github-action' | 'lambda';

export interface HookDeps {
  logger: Logger;
  clock: Clock;
  /** process.env in production; GITHUB_API_URL, GITHUB_TOKEN, INPUT_GITHUB-TOKEN, the command's env. */
  env: Env;
  /** For webhook and github-dispatch. */
  fetch?: typeof fetch;
  /** For aws-eventbridge; otherwise built from the hook's config and the standard AWS environment. */
  eventBridgeClient?: EventBridgeLike;
  /** command: kill after this long (default 5 min); where its temporary PEM directory goes. */
  commandTimeoutMs?: number;
  tmpDir?: string;
  /** verify-endpoint: poll interval, host mapping and handshake, for tests. */
  verify?: Pick<VerifyEndpointDeps, 'intervalMs' | 'resolveHost' | 'probe'>;
}

/**
 * Builds one hook from its config. Throws a HookError for a hook that cannot run where we are:
 * `command` on Lambda, which has no deploy target on its filesystem to run a command against.
 */
export function createHook(config: HookConfig, deps: HookDeps, entry: HookEntry): DeployHook {
  switch (config.type) {
    case 'webhook':
      return createWebhookHook(config, {
        logger: deps.logger,
        clock: deps.clock,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
    case 'github-dispatch':
      return createGithubDispatchHook(config, {
        logger: deps.logger,
        env: deps.env,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
    case 'aws-eventbridge':
      return createEventBridgeHook(config, {
        logger: deps.logger,
        ...(deps.eventBridgeClient ? { client: deps.eventBridgeClient } : {}),
      });
    case 'command':
      if (entry === 'lambda') {
        throw new HookError('command: command hooks run only from the CLI and the GitHub Action, not on Lambda', {
          hint: 'on Lambda use a webhook, github-dispatch or aws-eventbridge hook to trigger the deployment',
        });
      }
      return createCommandHook(config, {
        logger: deps.logger,
        env: deps.env,
        ...(deps.commandTimeoutMs !== undefined ? { timeoutMs: deps.commandTimeoutMs } : {}),
        ...(deps.tmpDir ? { tmpDir: deps.tmpDir } : {}),
      });
    case 'verify-endpoint':
      return createVerifyEndpointHook(config, { logger: deps.logger, clock: deps.clock, ...deps.verify });
  }
}

export { type RunHooksDeps, runHooks } from '../../core/hooks.js';
export type { HookResult } from '../../core/results.js';
