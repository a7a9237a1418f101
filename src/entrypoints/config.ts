import { registry } from '../adapters/registry.js';
import { configJsonSchema as jsonSchemaOf } from '../core/config/json-schema.js';
import {
  loadConfigFile as loadWith,
  type ParseOptions,
  parseConfigText as parseTextWith,
  parseConfig as parseWith,
} from '../core/config/parse.js';
import type { Config } from '../ports/config.js';

/** The config pipeline bound to the adapter registry: what every entry point (and test) parses with. */

export type EntryParseOptions = Omit<ParseOptions, 'registry'>;

export function parseConfig(input: unknown, options: EntryParseOptions = {}): Config {
  return parseWith(input, { registry, ...options });
}

export function parseConfigText(text: string, options: EntryParseOptions & { source?: string } = {}): Config {
  return parseTextWith(text, { registry, ...options });
}

export function loadConfigFile(path: string, options: EntryParseOptions = {}): Promise<Config> {
  return loadWith(path, { registry, ...options });
}

export function configJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(registry);
}
