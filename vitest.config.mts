import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Temporal workers run reliably only in forked processes, not worker threads.
    pool: 'forks',
    // Two cores: more than two forks, each with a worker and a server, only thrash.
    maxWorkers: 2,
    // Sized for a loaded machine (two busy loops beside the suite, load 15+ on two cores), where a
    // test takes ten times what it takes on a quiet one: a limit catches a hang, not slowness.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // expect.poll waits on a condition as long as test/helpers/eventually.ts does (vitest's 1 s is a quiet machine's).
    expect: { poll: { timeout: 60_000, interval: 200 } },
  },
});
