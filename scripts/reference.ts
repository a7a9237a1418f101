// Prints docs/adapters.md from the adapter descriptors. `npm run reference` writes it;
// test/adapters/reference.test.ts fails when the committed file is stale.
import { adapterReference } from '../src/adapters/reference.js';
import { registry } from '../src/adapters/registry.js';

process.stdout.write(await adapterReference(registry));
