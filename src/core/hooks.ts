import { toErrorInfo } from '../ports/errors.js';
import {
  assertNoKeyMaterial,
  type CertificateEvent,
  type DeployHook,
  EVENT_KIND,
  type HookContext,
} from '../ports/hooks.js';
import type { Logger } from '../ports/logger.js';
import type { HookResult } from './results.js';

export interface RunHooksDeps {
  logger: Logger;
  /** Cancels the hook under way (e.g. the Lambda is about to time out). */
  signal?: AbortSignal;
}

/**
 * Runs, in order, the hooks that selected this event's kind (`on:`). One hook failing never stops
 * the next. Only hooks that declare `receivesKeyMaterial` are handed the PEMs; every other hook
 * gets an empty context.
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
      const outcome = await hook.run(event, hook.receivesKeyMaterial ? context : {}, deps.signal);
      results.push({
        type: hook.type,
        status: outcome.status,
        ...(outcome.message ? { message: outcome.message } : {}),
      });
      if (outcome.status === 'warning') log.warn(`hook ${hook.type}: ${outcome.message ?? 'warning'}`);
      else log.info(`hook ${hook.type}: ok`, outcome.message ? { detail: outcome.message } : undefined);
    } catch (error) {
      let info = toErrorInfo(error);
      // Whatever threw it, the result belongs to the hook class (PRODUCT §3), timeouts excepted: a
      // hook's own plain Error is its failure, not a defect of the run.
      if (info.class === 'internal') {
        info = { class: 'hook', message: error instanceof Error ? error.message : String(error) };
        if (error instanceof Error && error.stack) log.debug(error.stack);
      }
      const cls = info.class === 'timeout' ? 'timeout' : 'hook';
      const message = info.message.startsWith(`${hook.type}:`) ? info.message : `${hook.type}: ${info.message}`;
      results.push({ type: hook.type, status: 'failed', message, error: { ...info, class: cls, message } });
      log.error(`hook ${hook.type} failed`, { error: message });
    }
  }
  return results;
}
