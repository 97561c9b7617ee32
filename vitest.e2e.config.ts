import { defineConfig } from 'vitest/config';

/** End-to-end tests: a real browser against the built console and a real server (`npm run test:e2e`). */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    // Builds web/dist once, so the browser never tests a stale console.
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One browser at a time: the CI machine has two cores.
    fileParallelism: false,
  },
});
