import path from 'node:path';
import { findExercise } from '../../exercises/index.js';
import { deliverQueue, enqueueRun, type DeliveryReport } from './class/membership.js';
import type { Exercise } from '../../exercises/define.js';
import { connectEngine, isNotFound, type Engine } from './engine.js';
import { environmentError } from './errors.js';
import { openLayerFactsCache } from './grader/facts/layer-cache.js';
import { gradeExercise, gradeNeeds } from './grader/grade.js';
import type { CheckRun, ExerciseFolder } from './grader/types.js';
import { recordCheck } from './progress-store.js';
import { sandboxLayerFolders } from './sandbox/layer-folders.js';
import { connectNestedEngine } from './sandbox/nested-engine.js';
import { sandboxExercisesDir } from './sandbox/workspace.js';
import type { Instance } from './settings.js';

export interface GradeInSandboxOptions {
  exercise: Exercise;
  instance: Instance;
  /** The image to grade; the exercise's own image name when absent. */
  image?: string;
  /** The project to rebuild; the exercise's folder in the sandbox (~/exercises/<id>) when absent. */
  exerciseFolder?: ExerciseFolder;
  /** Labels for the containers the grader starts; the instance's when absent. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
  /** One line per step, for a spinner or the Check button's status. */
  report?: (text: string) => void;
}

/**
 * Grades an image in the learner's sandbox: what the sandbox knows (its nested engine, where
 * its published ports are dialled, the exercise's folder in it) is worked out here and handed
 * to the grader, which knows nothing of sandboxes.
 */
export async function gradeInSandbox(options: GradeInSandboxOptions): Promise<CheckRun> {
  const { exercise, instance } = options;
  const engine = await connectNestedEngine(instance);
  const needs = gradeNeeds(exercise);
  return await gradeExercise({
    exercise,
    engine,
    ...(options.image ? { image: options.image } : {}),
    ...(needs.publishedPortHost ? { publishedPortHost: await sandboxAddress(instance) } : {}),
    exerciseFolder: options.exerciseFolder ?? { where: 'engine-host', path: `${sandboxExercisesDir}/${exercise.id}` },
    labels: options.labels ?? instance.labels,
    layerCache: openLayerFactsCache(layerFactsFolder(instance.dataDir)),
    layerFolders: sandboxLayerFolders(() => connectHostEngine(instance), instance),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.report ? { onProgress: options.report } : {}),
  });
}

/** Where layer facts are kept between checks (see grader/facts/layer-cache.ts). */
export function layerFactsFolder(dataDir: string): string {
  return path.join(dataDir, 'cache', 'layer-facts');
}

export interface GradeAndRecordOptions {
  /** The exercise id, which is also the lesson id (lesson-7). */
  exercise: string;
  /** The image to grade; the exercise's own image name when absent. */
  image?: string;
  instance: Instance;
  /** The project to rebuild; the exercise's folder in the sandbox when absent. */
  exerciseFolder?: ExerciseFolder;
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

/**
 * The one place a check becomes progress: grades the learner's image in their sandbox and
 * records the result, so `course check` and the Check button always agree. A check on any
 * other engine (a CI's, `--docker-host`) grades with gradeExercise and records nothing.
 */
export async function gradeAndRecord(options: GradeAndRecordOptions): Promise<GradedAndRecorded> {
  const exercise = findExercise(options.exercise);
  const run = await gradeInSandbox({
    exercise,
    instance: options.instance,
    ...(options.image ? { image: options.image } : {}),
    ...(options.exerciseFolder ? { exerciseFolder: options.exerciseFolder } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.report ? { report: options.report } : {}),
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

/**
 * The sandbox container's address on the engine that runs it: the nested engine publishes
 * ports in the sandbox's network namespace, so they are dialled there.
 */
export async function sandboxAddress(instance: Instance, hostEngine?: Engine): Promise<string> {
  const engine = hostEngine ?? (await connectHostEngine(instance));
  let info;
  try {
    info = await engine.docker.getContainer(instance.containerName).inspect();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw environmentError(`The sandbox container ${instance.containerName} is not on the engine at ${engine.address}.`, 'Run `course up`, then check again.');
  }
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  const legacyAddress = (info.NetworkSettings as { IPAddress?: string }).IPAddress;
  const address = legacyAddress || networks.find((network) => network.IPAddress)?.IPAddress;
  if (!address) {
    throw environmentError(`The sandbox container ${instance.containerName} has no network address.`, 'Run `course up` to restart it, then check again.');
  }
  return address;
}

/**
 * The engine that runs the sandbox, as `course up` finds it; except when DOCKER_HOST points
 * into the sandbox itself (a learner may export it to use the sandbox from the host).
 */
async function connectHostEngine(instance: Instance): Promise<Engine> {
  const dockerHost = process.env.DOCKER_HOST;
  return await connectEngine(dockerHost && dockerHost !== `unix://${instance.socketPath}` ? dockerHost : 'unix:///var/run/docker.sock');
}
