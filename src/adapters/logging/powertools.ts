import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../../ports/logger.js';

/**
 * The Logger port over a Powertools logger (Lambda): one JSON object per line, with the
 * invocation's context keys when the handler has added them. `child` fields become persistent
 * keys of a Powertools child logger, so `certificate` is a queryable field in CloudWatch Logs
 * Insights rather than text inside the message.
 */
export function powertoolsLogger(logger: PowertoolsLogger): Logger {
  return {
    debug: (m, f) => logger.debug(m, f ?? {}),
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
    child: (fields) => powertoolsLogger(logger.createChild({ persistentKeys: fields })),
  };
}
