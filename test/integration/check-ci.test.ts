import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { packFolder } from '../../runner/src/sandbox/workspace.js';
import { buildInSandbox, contextOf, exerciseDir } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { runCourse } from '../support/run-course.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * `course check` as a CI runs it: on an engine of its own (`--docker-host`, here the test
 * sandbox's engine reached by its socket), against a checkout (`--exercise-folder`), with
 * no learner's progress written. And the same image graded through the sandbox gets the
 * same verdicts.
 */

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const tag = (name: string) => `ll-ci-${name}:${runId}`;

let host: Engine;
let nested: Engine;
let dataDir: string;

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'll-ci-data-'));
  await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-7', 'solution')), tag: tag('lesson-7'), labels });
});

afterAll(async () => {
  await removeTestObjects(nested.docker, runId);
  await rm(dataDir, { recursive: true, force: true });
});

const progressFile = (folder: string) => path.join(folder, 'progress.json');
const exists = (file: string) => stat(file).then(() => true, () => false);
const verdicts = (stdout: string) => (JSON.parse(stdout) as { checks: Array<{ id: string; status: string }> }).checks.map((check) => `${check.id}: ${check.status}`);

describe('course check in CI', () => {
  it('grades on another engine without writing progress, with the same verdicts as in the sandbox', async () => {
    // The sandbox's own engine, named by its socket as a CI would name its engine: the learner's progress file must not change.
    const learnerProgress = progressFile(sandboxEnv.LAYERLAB_DATA_DIR!);
    const before = await readFile(learnerProgress, 'utf8').catch(() => undefined);
    const ci = await runCourse(['check', 'lesson-7', '--image', tag('lesson-7'), '--docker-host', `unix://${instance.socketPath}`, '--format', 'json'], sandboxEnv);
    expect(ci.exitCode, `${ci.stdout}${ci.stderr}`).toBe(0);
    expect(await readFile(learnerProgress, 'utf8').catch(() => undefined)).toBe(before);

    // The sandbox's own check is the learner's: it is recorded.
    const learner = await runCourse(['check', 'lesson-7', '--image', tag('lesson-7'), '--format', 'json'], sandboxEnv);
    expect(learner.exitCode, learner.stderr).toBe(0);
    expect(verdicts(learner.stdout)).toEqual(verdicts(ci.stdout));
    const recorded = JSON.parse(await readFile(learnerProgress, 'utf8'));
    expect(recorded.lessons['lesson-7'].lastCheck).toMatchObject({ passed: true, image: tag('lesson-7') });
  });

  it("rebuilds lesson 5 from a checkout with --exercise-folder, and says how when no folder is given", async () => {
    const dir = `/tmp/ll-ci-lesson-5-${runId}`;
    await host.docker.getContainer(instance.containerName).putArchive(new PassThrough().end(await packFolder(exerciseDir('lesson-5', 'solution'), dir.slice(1))) as unknown as NodeJS.ReadableStream, { path: '/' });
    const built = await execInSandbox(host, instance, `cd ${dir} && docker build -q --label ${testLabel}=${runId} -t ${tag('lesson-5')} . && cd / && rm -rf ${dir}`);
    expect(built.exitCode, built.stderr).toBe(0);
    const env = { ...sandboxEnv, LAYERLAB_DATA_DIR: dataDir };
    expect(await exists(progressFile(dataDir))).toBe(false);
    const dockerHost = `unix://${instance.socketPath}`;
    const withFolder = await runCourse(['check', 'lesson-5', '--image', tag('lesson-5'), '--docker-host', dockerHost, '--exercise-folder', exerciseDir('lesson-5', 'solution'), '--format', 'json'], env);
    const starter = await runCourse(['check', 'lesson-5', '--image', tag('lesson-5'), '--docker-host', dockerHost, '--exercise-folder', exerciseDir('lesson-5', 'starter'), '--format', 'json'], env);
    const without = await runCourse(['check', 'lesson-5', '--image', tag('lesson-5'), '--docker-host', dockerHost, '--format', 'json'], env);
    expect(verdicts(withFolder.stdout)).toContain('dependencies-stay-cached: pass');
    expect(withFolder.exitCode).toBe(0);
    expect(verdicts(starter.stdout)).toContain('dependencies-stay-cached: fail');
    expect(starter.exitCode).toBe(1);
    const skipped = (JSON.parse(without.stdout) as { checks: Array<{ id: string; status: string; message?: string }> }).checks.find((check) => check.id === 'dependencies-stay-cached');
    expect(skipped).toMatchObject({ status: 'skip', message: expect.stringContaining('--exercise-folder DIR') });
    expect(without.exitCode).toBe(1);
    const missing = await runCourse(['check', 'lesson-5', '--docker-host', dockerHost, '--exercise-folder', path.join(dataDir, 'no-such-folder')], env);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such folder');
    expect(await exists(progressFile(dataDir))).toBe(false);
  }, 900_000);
});
