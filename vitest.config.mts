import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Temporal workers run reliably only in forked processes, not worker threads.
    pool: 'forks',
    // Two cores: more than two forks, each with a worker and a server, only thrash.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
