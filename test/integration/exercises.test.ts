import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exercises, findExercise } from '../../exercises/index.js';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { gradeInSandbox } from '../../runner/src/grade-and-record.js';
import type { CheckRun } from '../../runner/src/grader/types.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { packFolder } from '../../runner/src/sandbox/workspace.js';
import { exerciseDir } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * The course checks itself, with a real engine: for every exercise in the registry, the
 * starter, built as the learner builds it, fails at least one check that counts, and the
 * solution passes every check. Each is built with the sandbox's own `docker build`
 * (BuildKit) under the exercise's image name, then graded through the one core.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const labels = { [testLabel]: runId };

let host: Engine;
let nested: Engine;

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
});

afterAll(async () => {
  await removeTestObjects(nested.docker, runId);
});

/**
 * Copies exercises/<id>/<which> into the sandbox, runs its prepare.sh when it has one (as
 * the lesson tells the learner to), and builds it as the exercise's image. Returns the
 * folder, which the grader reads too (lesson 5 rebuilds it); the caller removes it.
 */
async function buildAsLearner(id: string, which: 'starter' | 'solution', image: string): Promise<string> {
  const dir = `/tmp/ll-exercise-${id}-${which}-${randomBytes(3).toString('hex')}`;
  const container = host.docker.getContainer(instance.containerName);
  const created = await execInSandbox(host, instance, `mkdir -p ${dir}`);
  expect(created.exitCode).toBe(0);
  try {
    await container.putArchive(new PassThrough().end(await packFolder(exerciseDir(id, which))) as unknown as NodeJS.ReadableStream, { path: dir });
    const script = `cd ${dir} && if [ -x prepare.sh ]; then ./prepare.sh; fi && docker build -q --label ${testLabel}=${runId} -t ${image} .`;
    const built = await execInSandbox(host, instance, script);
    expect(built.exitCode, `building exercises/${id}/${which} failed:\n${built.stdout}${built.stderr}`).toBe(0);
    return dir;
  } catch (error) {
    await execInSandbox(host, instance, `rm -rf ${dir}`);
    throw error;
  }
}

/** Builds as the learner does, then grades with the grader reading that same folder. */
async function buildAndGrade(id: string, which: 'starter' | 'solution', image: string): Promise<CheckRun> {
  const dir = await buildAsLearner(id, which, image);
  try {
    return await gradeInSandbox({ exercise: findExercise(id), instance, labels, exerciseFolder: { where: 'engine-host', path: dir } });
  } finally {
    await execInSandbox(host, instance, `rm -rf ${dir}`);
  }
}

const summary = (run: CheckRun) => run.checks.map((check) => `${check.id}: ${check.status}${check.message ? ` (${check.message})` : ''}`).join('\n');

/** A Go build and a grade that rebuilds the project twice (lesson 5) take minutes on a busy machine. */
const exerciseTimeoutMs = 600_000;

describe.each(exercises.map((exercise) => [exercise.id, exercise] as const))('exercise %s', (id, exercise) => {
  it('fails its starter on at least one check that counts', async () => {
    const run = await buildAndGrade(id, 'starter', exercise.image);
    expect(run.checks.find((check) => check.id === 'image-exists')?.status, summary(run)).toBe('pass');
    expect(run.passed, summary(run)).toBe(false);
    expect(run.checks.filter((check) => !check.isAdvisory && check.status === 'fail').length, summary(run)).toBeGreaterThan(0);
  }, exerciseTimeoutMs);

  it('passes its solution on every check', async () => {
    const run = await buildAndGrade(id, 'solution', exercise.image);
    expect(run.checks.filter((check) => check.status !== 'pass'), summary(run)).toEqual([]);
    expect(run.passed).toBe(true);
  }, exerciseTimeoutMs);
});
