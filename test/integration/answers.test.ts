import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findExercise } from '../../exercises/index.js';
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
import { answers, type Answer } from '../fixtures/answers.js';

/**
 * Checks that mean what they say: for every exercise, the wrong answers a learner could
 * plausibly submit and the right answers that differ from the reference solution, each
 * built for real in the test sandbox as a learner builds it (the exercise's folder, changed
 * as the answer says, its prepare.sh run, then `docker build` with BuildKit), graded through
 * the one core, and its verdict asserted: which checks that count fail, exactly.
 * The table is test/fixtures/answers.ts; the measured times are printed at the end.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const labels = { [testLabel]: runId };

let host: Engine;
let nested: Engine;
const timings: Array<{ answer: string; verdict: string; buildMs: number; gradeMs: number }> = [];

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
});

afterAll(async () => {
  // prepare.sh builds the vault under its fixed name, unlabelled; an edited one must not outlive this file.
  await execInSandbox(host, instance, 'docker rmi -f lesson-6-vault $(docker images -q --filter "reference=ll-answer-prepared-*") >/dev/null 2>&1; rm -rf /tmp/ll-answer-*');
  await removeTestObjects(nested.docker, runId);
  const total = timings.reduce((sum, row) => sum + row.buildMs + row.gradeMs, 0);
  const lines = timings.map((row) => `${row.answer.padEnd(72)} ${row.verdict.padEnd(5)} build ${(row.buildMs / 1000).toFixed(1).padStart(5)} s  grade ${(row.gradeMs / 1000).toFixed(1).padStart(5)} s`);
  console.log(`Wrong and right answers: ${timings.length} images, ${(total / 1000).toFixed(0)} s in all\n${lines.join('\n')}`);
});

/** Copies the exercise's folder, applies the answer's changes, and hands it to the sandbox. */
async function buildAnswer(answer: Answer, index: number): Promise<{ dir: string; tag: string; buildMs: number }> {
  const local = await mkdtemp(path.join(os.tmpdir(), 'll-answer-'));
  const dir = `/tmp/ll-answer-${runId}-${index}`;
  const tag = `ll-answer-${index}:${runId}`;
  try {
    await cp(exerciseDir(answer.exercise, answer.from), local, { recursive: true });
    for (const name of answer.remove ?? []) await rm(path.join(local, name), { recursive: true, force: true });
    for (const [name, content] of Object.entries(answer.files ?? {})) await writeFile(path.join(local, name), content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    const made = await execInSandbox(host, instance, `rm -rf ${dir} && mkdir -p ${dir}`);
    expect(made.exitCode).toBe(0);
    await host.docker.getContainer(instance.containerName).putArchive(new PassThrough().end(await packFolder(local)) as unknown as NodeJS.ReadableStream, { path: dir });
  } finally {
    await rm(local, { recursive: true, force: true });
  }
  const started = performance.now();
  const prepare = answer.prepare ?? 'if [ -x prepare.sh ]; then ./prepare.sh; fi';
  const built = await execInSandbox(host, instance, `set -e; cd ${dir}; ${prepare}; docker build -q --label ${testLabel}=${runId} -t ${tag} .`);
  expect(built.exitCode, `building "${answer.name}" failed:\n${built.stdout}${built.stderr}`).toBe(0);
  return { dir, tag, buildMs: performance.now() - started };
}

const summary = (run: CheckRun) => run.checks.map((check) => `${check.id}: ${check.status}${check.message ? ` (${check.message})` : ''}`).join('\n');

describe.each([...new Set(answers.map((answer) => answer.exercise))])('%s: wrong answers fail, right answers pass', (exerciseId) => {
  const exercise = findExercise(exerciseId);
  it.each(answers.flatMap((answer, index) => (answer.exercise === exerciseId ? [[answer.name, answer, index] as const] : [])))(
    '%s',
    async (_name, answer, index) => {
      const { dir, tag, buildMs } = await buildAnswer(answer, index);
      const started = performance.now();
      let run: CheckRun;
      try {
        run = await gradeInSandbox({ exercise, instance, image: tag, labels, exerciseFolder: { where: 'engine-host', path: dir } });
      } finally {
        await execInSandbox(host, instance, `rm -rf ${dir}`);
      }
      timings.push({ answer: `${exercise.id} ${answer.name}`, verdict: answer.failing.length ? 'fail' : 'pass', buildMs, gradeMs: performance.now() - started });
      const failing = run.checks.filter((check) => !check.isAdvisory && check.status !== 'pass').map((check) => check.id);
      // Exactly the checks the answer gets wrong, so a wrong answer is caught by the check that means it.
      expect(failing.sort(), summary(run)).toEqual([...answer.failing].sort());
      expect(run.passed, summary(run)).toBe(answer.failing.length === 0);
      for (const [id, status] of Object.entries(answer.advisory ?? {})) expect(run.checks.find((check) => check.id === id)?.status, summary(run)).toBe(status);
    },
    600_000,
  );
});
