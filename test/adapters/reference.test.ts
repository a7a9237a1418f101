import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { adapterReference } from '../../src/adapters/reference.js';
import { registry } from '../../src/adapters/registry.js';

describe('docs/adapters.md (generated from the descriptors)', () => {
  it('is what `npm run reference` prints: regenerate it with the source that changed it', async () => {
    const committed = await readFile(new URL('../../docs/adapters.md', import.meta.url), 'utf8');
    expect(committed).toBe(await adapterReference(registry));
  });

  it('names every adapter of every kind, with its options and permissions', async () => {
    const text = await adapterReference(registry);
    for (const d of [...registry.dns, ...registry.store, ...registry.export, ...registry.hook]) {
      expect(text).toContain(`: ${d.name}\``);
      for (const option of Object.keys(d.options)) expect(text).toContain(`\`${option}\``);
    }
    expect(text.match(/\*\*Permissions:\*\*/g)?.length).toBe(
      registry.dns.length + registry.store.length + registry.export.length + registry.hook.length,
    );
  });
});

describe('hand-written lists of DNS providers', () => {
  // Prose that names the providers is not generated; these checks fail when a new provider is
  // registered without being named there (the README's list and the Action's `dns-provider` input).
  it("the README and action.yml's dns-provider input name every registered provider", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const action = YAML.parse(await readFile(new URL('../../action.yml', import.meta.url), 'utf8')) as {
      inputs: Record<string, { description?: string }>;
    };
    const input = action.inputs['dns-provider']?.description ?? '';
    expect(input).toMatch(/DNS provider/);
    const listed = readme.split('\n- DNS providers:')[1]?.split('\n- ')[0] ?? '';
    for (const d of registry.dns) {
      expect(listed, `README's DNS provider list lacks ${d.name}`).toContain(`\`${d.name}\``);
      // challtestsrv is Pebble's local test server: no use in a GitHub job.
      if (d.name !== 'challtestsrv')
        expect(input, `action.yml dns-provider lacks ${d.name}`).toMatch(new RegExp(`\\b${d.name}\\b`));
    }
  });
});
