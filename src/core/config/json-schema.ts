import * as z from 'zod';
import type { AdapterRegistry } from '../../ports/adapter.js';
import { configSchemas } from './schema.js';

/** `${env:NAME}` anywhere in a string; editors must accept it in place of a patterned value. */
const ENV_REF_PATTERN = '\\$\\{env:[A-Za-z_][A-Za-z0-9_]*\\}';

/** The JSON Schema for editors (schema/certkeeper.schema.json), from the same zod schema as the validator. */
export function configJsonSchema(registry: AdapterRegistry): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchemas(registry).raw, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      const s = jsonSchema as Record<string, unknown>;
      if (s.type !== 'string') return;
      if (typeof s.pattern === 'string' && !s.pattern.endsWith(`|${ENV_REF_PATTERN}`)) {
        s.pattern = `${s.pattern}|${ENV_REF_PATTERN}`;
      }
      // `format` would reject "${env:NAME}"; the pattern says the same and allows it.
      if (typeof s.format === 'string' && typeof s.pattern === 'string') delete s.format;
    },
  }) as Record<string, unknown>;
  // Offer the directory aliases as completions while still allowing any https URL.
  const acmeProps = (schema.properties as Record<string, { properties: Record<string, Record<string, unknown>> }>).acme
    ?.properties;
  if (acmeProps?.directory) {
    acmeProps.directory = {
      ...acmeProps.directory,
      anyOf: [
        { enum: registry.cas.map((c) => c.name) },
        { type: 'string', pattern: '^https://' },
        { type: 'string', pattern: ENV_REF_PATTERN },
      ],
    };
  }
  // A certificate may take `domains`/`dns` from `defaults`: require them per certificate only when
  // `defaults` does not supply them.
  const certItems = (schema.properties as Record<string, { items: Record<string, unknown> }>).certificates?.items;
  const allOf: Record<string, unknown>[] = [];
  if (certItems && Array.isArray(certItems.required)) {
    const required = certItems.required as string[];
    for (const key of required.filter((k) => k !== 'id')) {
      allOf.push({
        if: { type: 'object', properties: { defaults: { type: 'object', required: [key] } }, required: ['defaults'] },
        else: { properties: { certificates: { type: 'array', items: { type: 'object', required: [key] } } } },
      });
    }
    certItems.required = required.filter((k) => k === 'id');
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/certkeeper/certkeeper/schema/certkeeper.schema.json',
    title: 'certkeeper configuration',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
    ...(allOf.length > 0 ? { allOf } : {}),
  };
}
