import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectEngine, isNotFound, type Engine } from '../../runner/src/engine.js';
import { resetSandbox } from '../../runner/src/sandbox/sandbox.js';
import { silentProgress } from '../../runner/src/progress.js';
import type { Instance } from '../../runner/src/settings.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor, testSandboxEnv } from '../support/sandbox-env.js';

/** A sandbox of this file's own: these tests stop and delete it. */
describe('the sandbox lifecycle through `course`', () => {
  const env = testSandboxEnv(inject('testRunId'), 'life');
  let engine: Engine;
  let instance: Instance;

  beforeAll(async () => {
    engine = await connectEngine();
    instance = instanceFor(env);
  });

  afterAll(async () => {
    await resetSandbox(engine, instance, silentProgress);
    await rm(env.LAYERLAB_DATA_DIR!, { recursive: true, force: true });
  });

  it('creates the sandbox with `course up` and says so', async () => {
    const { exitCode, stdout } = await runCourse(['up', '--memory', '2g', '--cpus', '1', '--pids', '2048'], env);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('The sandbox is up.');
    expect(stdout).toContain('2 GiB memory, 1 CPUs, 2048 processes');
  });

  it('keeps what was built inside across `course stop` and `course up`', async () => {
    const built = await execInSandbox(
      engine,
      instance,
      `mkdir -p /root/keep && cd /root/keep && printf 'FROM busybox:latest\\nRUN echo kept > /kept\\n' > Dockerfile && docker build -q -t kept:1 . && echo notes > /root/keep/notes.txt`,
    );
    expect(built.exitCode, built.stderr).toBe(0);

    const stop = await runCourse(['stop'], env);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toContain('The sandbox is stopped.');
    expect((await runCourse(['stop'], env)).stdout).toContain('already stopped');
    const status = JSON.parse((await runCourse(['status', '--json'], env)).stdout);
    expect(status.sandbox.state).toBe('stopped');

    const up = await runCourse(['up'], env);
    expect(up.exitCode).toBe(0);
    const after = await execInSandbox(engine, instance, 'docker run --rm kept:1 cat /kept && cat /root/keep/notes.txt');
    expect(after.stdout).toBe('kept\nnotes\n');
  });

  it('puts each exercise starter in ~/exercises once, and never overwrites the learner\'s edits', async () => {
    const edit = await execInSandbox(engine, instance, 'echo "# my change" >> /root/exercises/lesson-7/Dockerfile && ls /root/exercises');
    expect(edit.stdout.split('\n')).toContain('lesson-7');
    expect((await runCourse(['up'], env)).exitCode).toBe(0);
    const after = await execInSandbox(engine, instance, 'tail -n 1 /root/exercises/lesson-7/Dockerfile');
    expect(after.stdout).toBe('# my change\n');
  });

  it('keeps the limits it was created with when `course up` runs again without flags', async () => {
    const status = JSON.parse((await runCourse(['status', '--json'], env)).stdout);
    expect(status.sandbox.limits).toEqual({ memoryBytes: 2 * 1024 ** 3, cpus: 1, pids: 2048 });
  });

  it('answers a second `course up` while running with exit 0 and "already running"', async () => {
    const { exitCode, stderr } = await runCourse(['up'], env);
    expect(exitCode).toBe(0);
    expect(stderr).toContain('The sandbox is already running.');
    expect(stderr).not.toContain('Loading');
  });

  it('refuses `course reset` without --yes when there is no terminal to ask on', async () => {
    const { exitCode, stderr } = await runCourse(['reset'], env);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('course reset --yes');
    expect(hasStackTrace(stderr)).toBe(false);
    expect((await engine.docker.getContainer(instance.containerName).inspect()).State.Running).toBe(true);
  });

  it('removes the sandbox and its volumes with `course reset --yes`', async () => {
    const { exitCode, stdout } = await runCourse(['reset', '--yes'], env);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('deleted');
    await expect(engine.docker.getContainer(instance.containerName).inspect()).rejects.toSatisfy(isNotFound);
    for (const volume of [instance.volumeName, instance.homeVolumeName]) {
      await expect(engine.docker.getVolume(volume).inspect()).rejects.toSatisfy(isNotFound);
    }
    const status = JSON.parse((await runCourse(['status', '--json'], env)).stdout);
    expect(status.sandbox.state).toBe('absent');
    expect((await runCourse(['shell'], env)).exitCode).toBe(3);
  });
});
