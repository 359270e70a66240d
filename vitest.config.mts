import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Temporal workers run reliably only in forked processes, not worker threads.
    pool: 'forks',
    // Two cores: more than two forks, each with a worker and a server, only thrash.
    maxWorkers: 2,
    // Sized for a loaded machine (two busy loops beside the suite), not a quiet one.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // expect.poll waits on a condition as long as test/helpers/eventually.ts does (vitest's 1 s is a quiet machine's).
    expect: { poll: { timeout: 60_000, interval: 200 } },
  },
});
