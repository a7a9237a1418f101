import type { HookConfig } from '../../core/config.js';
import { type ErrorInfo, HookError, toErrorInfo } from '../../core/errors.js';
import { assertNoKeyMaterial, EVENT_KIND } from '../../core/events.js';
import type { Clock } from '../../ports/clock.js';
import type { CertificateEvent, DeployHook, HookContext } from '../../ports/hooks.js';
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

export interface HookResult {
  type: string;
  status: 'ok' | 'warning' | 'failed';
  message?: string;
  /** For `failed`: class `hook` (or `timeout`, `network`) and a hint, as in PRODUCT §3. */
  error?: ErrorInfo;
}

export interface RunHooksDeps {
  logger: Logger;
  /** Cancels the hook under way (e.g. the Lambda is about to time out). */
  signal?: AbortSignal;
}

/**
 * Runs, in order, the hooks that selected this event's kind (`on:`). One hook failing never stops
 * the next. Only `command` hooks are handed the PEMs; every other hook gets an empty context.
 * Returns one result per hook that ran.
 */
export async function runHooks(
  hooks: readonly DeployHook[],
  event: CertificateEvent,
  context: HookContext,
  deps: RunHooksDeps,
): Promise<HookResult[]> {
  const kind = EVENT_KIND[event.type];
  const selected = hooks.filter((h) => h.on.includes(kind));
  if (selected.length === 0) return [];
  const log = deps.logger.child({ certificate: event.data.certificate, event: event.type });

  // Checked once for all hooks, so a tainted event fails every hook the same way instead of
  // reaching the first receivers that forgot to check.
  try {
    assertNoKeyMaterial(event, 'hooks');
  } catch (error) {
    const info = toErrorInfo(error);
    log.error('event not sent: it contains private key material');
    return selected.map((h) => ({ type: h.type, status: 'failed', message: info.message, error: info }));
  }

  const results: HookResult[] = [];
  for (const hook of selected) {
    try {
      const outcome = await hook.run(event, hook.type === 'command' ? context : {}, deps.signal);
      results.push({
        type: hook.type,
        status: outcome.status,
        ...(outcome.message ? { message: outcome.message } : {}),
      });
      if (outcome.status === 'warning') log.warn(`hook ${hook.type}: ${outcome.message ?? 'warning'}`);
      else log.info(`hook ${hook.type}: ok`, outcome.message ? { detail: outcome.message } : undefined);
    } catch (error) {
      const info = toErrorInfo(error);
      // Whatever threw it, the result belongs to the hook class (PRODUCT §3), timeouts excepted.
      const cls = info.class === 'timeout' ? 'timeout' : 'hook';
      const message = info.message.startsWith(`${hook.type}:`) ? info.message : `${hook.type}: ${info.message}`;
      results.push({ type: hook.type, status: 'failed', message, error: { ...info, class: cls, message } });
      log.error(`hook ${hook.type} failed`, { error: message });
    }
  }
  return results;
}
