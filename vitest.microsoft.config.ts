import { defineConfig } from 'vitest/config';

/**
 * The as-Microsoft tier (`npm run test:microsoft`): run inside tools/as-microsoft.ts's private
 * network namespace, where Microsoft's host names lead to the emulator on 127.0.0.1:443.
 */
export default defineConfig({
  test: {
    include: ['test/microsoft/**/*.microsoft.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every cloud's emulator listens on 127.0.0.1:443: one file, one cloud at a time.
    fileParallelism: false,
  },
});
