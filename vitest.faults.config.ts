import { defineConfig } from 'vitest/config';

// The fault battery: each test owns throwaway PostgreSQL and Redis servers and the built bundles as processes,
// and kills them on purpose, so the files run one at a time.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
