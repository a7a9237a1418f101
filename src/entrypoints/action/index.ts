// The Action's entry (action.yml runs.main → dist/action/index.js). All logic is in main.ts.
import { run } from './main.js';

await run();
