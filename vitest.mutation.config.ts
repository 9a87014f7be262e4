import { defineConfig } from 'vitest/config';

// The grader's unit tests alone, for StrykerJS (`npm run test:mutation`): mutants are judged by the
// tests that need no engine, so a run is repeatable and never touches Docker.
export default defineConfig({
  test: {
    include: ['test/unit/grader/**/*.test.ts'],
  },
});
