// Stand-in for test/support/secrets-guard.ts when the bench loads the vendor fakes outside vitest
// (the real one registers vitest hooks at import). The fakes only call registerSecret; the bench
// prints no credential, so there is nothing to scan for.

export function registerSecret() {}
