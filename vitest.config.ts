import { defineConfig } from 'vitest/config';

// Two projects. `unit` needs nothing. `integration` holds every test that needs a Docker
// engine: test/integration (engine, sandbox, CLI, server) and test/e2e (headless Chromium).
// They are one project on purpose: a global setup runs once per project, and these files
// share one test sandbox (its images and tags), so they must also run one file at a time.
// Run the browser tests alone with `npx vitest run test/e2e`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
