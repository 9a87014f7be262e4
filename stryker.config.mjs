// `npm run test:mutation`: StrykerJS mutates the grader's check kinds and facts and runs the
// unit tests (vitest.mutation.config.ts) against each mutant. Not part of `npm test`: it takes
// minutes. Incremental, so a rerun only retests mutants whose code or tests changed; scope a
// run while working with `npm run test:mutation -- --mutate runner/src/grader/kinds/no-secret.ts`.
// `npm run bench` reads the JSON report (mutation-score-kinds, mutation-score-facts).
// For a figure, run once with `-- --force`: in incremental mode a static mutant (module-level
// code such as a zod schema) that survived once is reused even after tests that kill it are
// added (stryker-js #6119), so an incremental report can only understate the score.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: ['runner/src/grader/kinds/**/*.ts', 'runner/src/grader/facts/**/*.ts'],
  // The machine is shared: two test processes at most.
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  timeoutMS: 10000,
};
