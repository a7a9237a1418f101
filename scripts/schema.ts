// Prints the JSON Schema of certkeeper.yml. `npm run schema` writes it to schema/certkeeper.schema.json;
// test/schema.test.ts fails when the committed file is stale.
import { configJsonSchema } from '../src/entrypoints/config.js';

process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
