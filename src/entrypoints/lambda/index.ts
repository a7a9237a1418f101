// The Lambda's entry (handler `index.handler` in dist/lambda/index.mjs). All logic is in main.ts.
export { handler } from './main.js';
