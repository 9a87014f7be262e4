import { randomUUID } from 'node:crypto';
import { exercises } from '../../exercises/index.js';
import { describeExercises } from '../../runner/src/class/exercise-descriptions.js';
import type { Submission } from '../../runner/src/class/submission.js';

/** The course's exercises as `course class serve` gives them to the class server. */
export const courseExercises = describeExercises(exercises);

/** A valid result as a learner's runner would send it; override what a test is about. */
export function makeSubmission(overrides: Partial<Submission> & { failing?: string[] } = {}): Submission {
  const { failing = [], ...rest } = overrides;
  const passed = overrides.passed ?? failing.length === 0;
  return {
    submissionId: randomUUID(),
    exercise: 'lesson-1',
    passed,
    checkedAt: new Date().toISOString(),
    image: 'lesson-1',
    runnerVersion: '0.1.0',
    durationMs: 1200,
    metrics: { sizeBytes: 80_000_000, layers: 2, buildTools: [], wastedBytes: null },
    checks: [
      { id: 'image-exists', status: 'pass', isAdvisory: false },
      { id: 'on-debian', status: failing.includes('on-debian') ? 'fail' : 'pass', isAdvisory: false },
      { id: 'two-layers', status: failing.includes('two-layers') ? 'fail' : 'pass', isAdvisory: false },
    ],
    ...rest,
  };
}
