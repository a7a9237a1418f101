// The Lambda's entry (handler `index.handler` in dist/lambda/index.mjs). All logic is in main.ts.
// The fleet handlers `index.plan`, `index.renew`, `index.report` (PRODUCT §8) are in fleet.ts.
export { plan, renew, report } from './fleet.js';
export { handler } from './main.js';
