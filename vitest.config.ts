import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/services.ts'],
    include: ['test/**/*.test.ts'],
    // The fault battery kills servers on purpose; it runs on its own with `npm run test:faults`.
    exclude: ['test/faults/**', '**/node_modules/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
