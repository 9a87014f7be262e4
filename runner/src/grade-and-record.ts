import path from 'node:path';
import { deliverQueue, enqueueRun, type DeliveryReport } from './class/membership.js';
import type { Engine } from './engine.js';
import { openLayerFactsCache } from './grader/facts/layer-cache.js';
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
  /**
   * Set when the learner is in a class: the result is already in the outbox, and this
   * settles when the background delivery attempt ends (never rejects). Nobody has to wait for it.
   */
  classDelivery?: Promise<DeliveryReport>;
}

/** Where layer facts are kept between checks (see grader/facts/layer-cache.ts). */
export function layerFactsFolder(dataDir: string): string {
  return path.join(dataDir, 'cache', 'layer-facts');
}

/**
 * The one place a check becomes progress: grades the learner's image in the sandbox and
 * records the result, so `course check` and the Check button always agree.
 */
export async function gradeAndRecord(options: GradeAndRecordOptions): Promise<GradedAndRecorded> {
  const engine = options.engine ?? (await connectNestedEngine(options.instance));
  // The instance's labels mark any container the grader starts (tests find theirs by them).
  const run = await gradeExercise(options.exercise, options.image, engine, options.signal, options.report, {
    labels: options.instance.labels,
    layerCache: openLayerFactsCache(layerFactsFolder(options.instance.dataDir)),
  });
  const recorded = await recordCheck(options.instance.dataDir, { lessonId: run.exercise, passed: run.passed, image: run.image });
  const queued = await queueForClass(options.instance.dataDir, run);
  return {
    ...(queued ? { classDelivery: queued.delivery } : {}),
    run,
    passed: run.passed,
    lessonComplete: recorded.progress.lessons[run.exercise]?.completedAt !== undefined,
    isNewlyComplete: recorded.isNewlyComplete,
  };
}

/**
 * Puts the result in the class outbox (when the learner joined a class) and starts sending
 * it. A class that is down, slow or refusing never fails or delays the check itself.
 */
async function queueForClass(dataDir: string, run: CheckRun): Promise<{ delivery: Promise<DeliveryReport> } | undefined> {
  let isQueued: boolean;
  try {
    isQueued = await enqueueRun(dataDir, run);
  } catch (error) {
    // Wrapped in an object: an async function would otherwise wait for the promise it returns.
    return { delivery: Promise.resolve({ delivered: 0, waiting: 0, rejected: 0, problem: `The result could not be queued for the class: ${(error as Error).message}` }) };
  }
  if (!isQueued) return undefined;
  return { delivery: deliverQueue(dataDir).catch((error: unknown) => ({ delivered: 0, waiting: 1, rejected: 0, problem: (error as Error).message })) };
}
