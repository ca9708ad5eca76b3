import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code (*.test.ts); integration tests talk to the real Postgres and Redis
// (test/**/*.int.test.ts); browser tests drive Debian's Chromium (test/e2e/*.e2e.test.ts).
// Each file gets its own database cloned from the template that globalSetup migrates once.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    projects: [
      { extends: true, test: { name: 'unit', include: ['server/**/*.test.ts', 'worker/**/*.test.ts', 'scripts/**/*.test.ts', 'load-tests/**/*.test.ts', 'web/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.int.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.e2e.test.ts'], maxWorkers: 1 } },
    ],
  },
});
