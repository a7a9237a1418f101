// Module hooks (node:module register) for the providers section: the vendor fakes in
// test/support/fakes/ import ../secrets-guard.js, which needs the vitest runner; outside vitest it
// resolves to bench/stubs/secrets-guard.mjs instead. Nothing else is redirected.

const STUB = new URL('./stubs/secrets-guard.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (/(^|\/)secrets-guard(\.js|\.ts)?$/.test(specifier) && context.parentURL?.includes('/test/support/'))
    return { url: STUB, shortCircuit: true, format: 'module' };
  return nextResolve(specifier, context);
}
