import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
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
