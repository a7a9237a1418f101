import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // No private key material in any output, log or report of any test (PRODUCT §2).
    setupFiles: ['test/support/secrets-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // On 2 CPUs vitest would otherwise run one file at a time; many files wait on servers and child
    // processes, so three keep both cores busy (four only add contention: measured 64 s vs 70 s).
    maxWorkers: 3,
    // Test files share their worker's module cache (and the worker's moto, reset per file): a fresh
    // process per file spent a second importing the same modules for each of a hundred files.
    // State a file changes (process.env, servers) it restores or keeps to names of its own.
    isolate: false,
    // Transformed modules cached on disk between runs (node_modules/.experimental-vitest-cache,
    // keyed by content): about 5 s of vite transforms per run. `npx vitest --clearCache` empties it.
    experimental: { fsModuleCache: true },
  },
});
