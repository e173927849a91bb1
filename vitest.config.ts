import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'test/bench/**', 'test/soak/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: the process-level suites (PM2, SIGKILL, Chromium) are heavy, keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
