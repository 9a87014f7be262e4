import type { Exercise, LoadedCheck } from '../../../exercises/define.js';
import type { Engine } from '../engine.js';
import { environmentError, UserError } from '../errors.js';
import { formatSize, plural } from './describe.js';
import { gatherImageFacts } from './facts/gather.js';
import { checkKinds } from './kinds/index.js';
import type { LayerFactsCache } from './facts/layer-cache.js';
import type { CheckKind, CheckOutcome, CheckResult, CheckRun, ExerciseFolder, ImageFacts, LayerFolders, ProbeNeeds } from './types.js';

export interface GradeOptions {
  /** The exercise, resolved by the caller (the grader knows no registry). */
  exercise: Exercise;
  /**
   * The engine holding the image: the sandbox's nested engine, or any other (every check,
   * the container probes included, works against it).
   */
  engine: Engine;
  /** The image to grade; the exercise's own tag (e.g. "lesson-7") when absent. */
  image?: string;
  /**
   * Where ports published on `engine` can be dialled from this process. The caller knows:
   * the sandbox's address for its nested engine, the host of a tcp:// engine, 127.0.0.1 for
   * a local one. Needed only when a check answers HTTP (see gradeNeeds).
   */
  publishedPortHost?: string;
  /** The exercise's project, for checks that rebuild it; without it they say how to give one. */
  exerciseFolder?: ExerciseFolder;
  /** Labels for the containers the grader starts (the tests add `layerlab.test`). */
  labels?: Record<string, string>;
  /** Aborting it stops the run and removes any container it started, then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** One line per phase ("Reading the layers of lesson-7"), for a spinner. */
  onProgress?: (text: string) => void;
  /** Facts of layers graded before, by diffID (facts/layer-cache.ts); the caller says where it lives. */
  layerCache?: LayerFactsCache;
  /** The engine's layer folders, where the caller can reach them: read instead of `docker save` (see LayerFolders). */
  layerFolders?: LayerFolders;
}

/** The id of the check every run starts with; it is not one of the exercise's own. */
export const imageExistsCheckId = 'image-exists';

/** What a caller must provide for an exercise: where published ports are dialled, an exercise folder. */
export function gradeNeeds(exercise: Exercise): { publishedPortHost: boolean; exerciseFolder: boolean } {
  const probes = probesFor(exercise);
  return { publishedPortHost: probes.http !== undefined, exerciseFolder: probes.rebuild !== undefined || probes.contextChange !== undefined || probes.dockerfile !== undefined };
}

/**
 * Grades an exercise: the one entry point behind `course check`, CI and the web page's
 * Check button, so all show the very same result for the same image. Knows nothing of the
 * sandbox or of the exercise registry: the caller resolves the exercise and says where
 * things are.
 *
 * @returns a CheckRun; a missing image is a failed run, not an error. Throws UserError when
 *          the engine stops answering.
 */
export async function gradeExercise(options: GradeOptions): Promise<CheckRun> {
  const { exercise, engine, signal, onProgress } = options;
  const ref = options.image ?? exercise.image;
  const startedAt = new Date();
  const started = performance.now();
  const probes = probesFor(exercise);
  if (probes.http && !options.publishedPortHost) throw new Error(`gradeExercise: ${exercise.id} starts a service, so the caller must say where published ports are dialled`);
  const exerciseFolder = options.exerciseFolder;
  let facts: ImageFacts | undefined;
  try {
    onProgress?.(`Looking for the image ${ref}`);
    facts = await gatherImageFacts(engine, ref, {
      probes,
      ...(options.publishedPortHost ? { publishedPortHost: options.publishedPortHost } : {}),
      ...(signal ? { signal } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.layerCache ? { layerCache: options.layerCache } : {}),
      ...(options.layerFolders ? { layerFolders: options.layerFolders } : {}),
      ...(exerciseFolder ? { exerciseFolder } : {}),
      onPhase: (phase) =>
        onProgress?.(
          phase === 'reading-layers'
            ? `Reading the layers of ${ref}`
            : phase === 'rebuilding'
              ? `Rebuilding ${exerciseFolder?.path ?? 'the project'} twice, before and after a source-only change`
              : phase === 'rebuilding-changed-context'
                ? `Rebuilding ${exerciseFolder?.path ?? 'the project'} with the files that hold the answer changed`
                : `Starting a container from ${ref}`,
        ),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw asEnvironmentError(error, engine);
  }
  const checks = facts ? judge(exercise, facts) : missingImage(exercise, ref, engine);
  return {
    exercise: exercise.id,
    image: ref,
    ...(facts ? { imageId: facts.id, sizeBytes: facts.sizeBytes, archiveLayout: facts.archiveLayout } : {}),
    engine: { address: engine.address, version: engine.version },
    passed: checks.every((check) => check.passed || check.isAdvisory),
    checks,
    layers: (facts?.layers ?? []).map((layer) => ({
      index: layer.index,
      diffId: layer.diffId,
      sizeBytes: layer.sizeBytes,
      ...(layer.instruction !== undefined ? { instruction: layer.instruction } : {}),
      ...(layer.createdBy !== undefined ? { createdBy: layer.createdBy } : {}),
      buildTools: layer.addedBuildTools,
      ...(layer.unreadable ? { unreadable: layer.unreadable } : {}),
    })),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
  };
}

/** What every check asked for, together: lists (paths, image refs) are joined, not replaced. */
function probesFor(exercise: Exercise): ProbeNeeds {
  const needs: Record<string, unknown> = {};
  for (const check of exercise.checks) {
    const kind = checkKinds[check.kind] as CheckKind<never>;
    for (const [key, value] of Object.entries(kind.probes?.(check.params as never) ?? {})) {
      const earlier = needs[key];
      needs[key] = Array.isArray(earlier) && Array.isArray(value) ? [...new Set([...earlier, ...value])] : value;
    }
  }
  return needs as ProbeNeeds;
}

function judge(exercise: Exercise, facts: ImageFacts): CheckResult[] {
  const exists: CheckResult = {
    id: imageExistsCheckId,
    title: `The image ${facts.ref} exists`,
    kind: imageExistsCheckId,
    status: 'pass',
    passed: true,
    isAdvisory: false,
    expected: `an image tagged ${facts.ref}`,
    actual: `${facts.id.replace(/^sha256:/, '').slice(0, 12)}, ${formatSize(facts.sizeBytes)}, ${plural(facts.layers.length, 'layer')}`,
    hint: exercise.buildHint,
  };
  return [exists, ...exercise.checks.map((check) => resultOf(check, evaluate(check, facts)))];
}

function evaluate(check: LoadedCheck, facts: ImageFacts): CheckOutcome {
  const kind = checkKinds[check.kind] as CheckKind<never>;
  return kind.evaluate(facts, check.params as never);
}

function resultOf(check: LoadedCheck, outcome: CheckOutcome): CheckResult {
  return {
    id: check.id,
    title: check.title,
    kind: check.kind,
    status: outcome.status,
    passed: outcome.status === 'pass',
    isAdvisory: check.isAdvisory,
    expected: outcome.expected,
    actual: outcome.actual,
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    ...(outcome.status === 'fail' && outcome.evidence?.length ? { evidence: outcome.evidence } : {}),
    hint: check.hint,
  };
}

function missingImage(exercise: Exercise, ref: string, engine: Engine): CheckResult[] {
  const exists: CheckResult = {
    id: imageExistsCheckId,
    title: `The image ${ref} exists`,
    kind: imageExistsCheckId,
    status: 'fail',
    passed: false,
    isAdvisory: false,
    expected: `an image tagged ${ref}`,
    actual: 'no such image',
    message: `The engine at ${engine.address} has no image ${ref}.`,
    hint: exercise.buildHint,
  };
  return [
    exists,
    ...exercise.checks.map((check) =>
      resultOf(check, { status: 'skip', expected: '', actual: 'not checked', message: `Not checked: there is no image ${ref} yet.` }),
    ),
  ];
}

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** An engine that stops answering halfway is the machine's problem, not a bug of ours. */
function asEnvironmentError(error: unknown, engine: Engine): unknown {
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const statusCode = (error as { statusCode?: number }).statusCode;
  if ((code && connectionErrorCodes.has(code)) || (statusCode !== undefined && statusCode >= 500)) {
    const message = error instanceof Error ? error.message : String(error);
    return environmentError(
      `The Docker engine at ${engine.address} failed while the image was being checked (${message.trim()}).`,
      'Make sure it is running (for the sandbox: `course up`), then check again.',
    );
  }
  return error;
}
