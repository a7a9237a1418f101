import { TimeoutError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';

/**
 * Ctrl-C, or a cancelled GitHub job (the runner sends SIGINT, then SIGTERM, then kills): the
 * first signal aborts the work under way so the run's own cleanup removes its TXT records and
 * releases its leases; a second one exits at once (the leases then expire by themselves).
 * Returns the signal to pass to the run and a function that removes the handlers.
 */
export function abortOnSignals(logger: Logger): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn(`${name} again: exiting now; leases expire by themselves`);
      process.exit(130);
    }
    logger.warn(`${name}: stopping — cleaning up TXT records and leases (send it again to exit at once)`);
    controller.abort(
      new TimeoutError(`interrupted by ${name}`, { hint: 'the run was stopped; the next run picks up' }),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
