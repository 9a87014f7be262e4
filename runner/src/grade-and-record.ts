import type { Engine } from './engine.js';
import { gradeExercise } from './grader/grade.js';
import type { CheckRun } from './grader/types.js';
import { recordCheck } from './progress-store.js';
import { connectNestedEngine } from './sandbox/nested-engine.js';
import type { Instance } from './settings.js';

export interface GradeAndRecordOptions {
  /** The exercise id, which is also the lesson id (lesson-7). */
  exercise: string;
  /** The image to grade; the exercise's own image name when absent. */
  image?: string;
  instance: Instance;
  /** The engine holding the image; the sandbox's own engine when absent. */
  engine?: Engine;
  signal?: AbortSignal;
  /** One line per step, for a spinner or the Check button's status. */
  report?: (text: string) => void;
}

export interface GradedAndRecorded {
  run: CheckRun;
  passed: boolean;
  lessonComplete: boolean;
  isNewlyComplete: boolean;
}

/**
 * The one place a check becomes progress: grades the learner's image in the sandbox and
 * records the result, so `course check` and the Check button always agree.
 */
export async function gradeAndRecord(options: GradeAndRecordOptions): Promise<GradedAndRecorded> {
  const engine = options.engine ?? (await connectNestedEngine(options.instance));
  // The instance's labels mark any container the grader starts (tests find theirs by them).
  const run = await gradeExercise(options.exercise, options.image, engine, options.signal, options.report, { labels: options.instance.labels });
  const recorded = await recordCheck(options.instance.dataDir, { lessonId: run.exercise, passed: run.passed, image: run.image });
  return {
    run,
    passed: run.passed,
    lessonComplete: recorded.progress.lessons[run.exercise]?.completedAt !== undefined,
    isNewlyComplete: recorded.isNewlyComplete,
  };
}
