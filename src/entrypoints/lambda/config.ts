import type { Config } from '../../ports/config.js';
import { ConfigError } from '../../ports/errors.js';
import { loadConfigFile, parseConfigText } from '../config.js';

const SOURCES = ['CERTKEEPER_CONFIG', 'CERTKEEPER_CONFIG_FILE', 'CERTKEEPER_CONFIG_SSM_PARAMETER'] as const;

export interface ConfigDeps {
  env: Record<string, string | undefined>;
  /** SSM GetParameter (decrypted); injected so the SDK is loaded only when this source is used. */
  readParameter?: (name: string, source: string) => Promise<string>;
}

/**
 * The Lambda's config (PRODUCT §4): inline YAML/JSON, a file in the deployment package or a
 * layer, or an SSM parameter. Exactly one source: with two, which one wins would be a guess.
 */
export async function loadLambdaConfig(deps: ConfigDeps): Promise<Config> {
  const { env } = deps;
  const set = SOURCES.filter((name) => env[name]?.trim());
  if (set.length === 0) {
    throw new ConfigError([{ path: 'environment', message: `set one of ${SOURCES.join(', ')}` }]);
  }
  if (set.length > 1) {
    throw new ConfigError([{ path: 'environment', message: `set only one of ${set.join(', ')}` }]);
  }
  const source = set[0] as (typeof SOURCES)[number];
  const value = (env[source] as string).trim();
  switch (source) {
    case 'CERTKEEPER_CONFIG':
      return parseConfigText(value, { env, source, entry: 'lambda' });
    case 'CERTKEEPER_CONFIG_FILE':
      return loadConfigFile(value, { env, entry: 'lambda' });
    case 'CERTKEEPER_CONFIG_SSM_PARAMETER': {
      const read =
        deps.readParameter ??
        (async (name: string, src: string) =>
          (await import('../../adapters/ssm/parameter.js')).readSsmParameter(name, { source: src }));
      return parseConfigText(await read(value, source), { env, source: `${source} (${value})`, entry: 'lambda' });
    }
  }
}
