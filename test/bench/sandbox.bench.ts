import { ensureBaseImages } from '../../runner/src/base-images/build.js';
import { connectEngine } from '../../runner/src/engine.js';
import { silentProgress } from '../../runner/src/progress.js';
import { stopSandbox } from '../../runner/src/sandbox/sandbox.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import type { BenchResult, BenchSuite } from './types.js';

const warmStartRuns = 3;

/**
 * The spine: how long each base image takes to build from nothing (under a namespace of
 * its own, without the engine's cache, so the course's images are left alone), how long a
 * first `course up` takes with the images built, and `course up` from a stopped sandbox.
 */
export const sandboxBench: BenchSuite = {
  name: 'sandbox',
  async run({ sandboxEnv, runId, log }) {
    const engine = await connectEngine();
    const results: BenchResult[] = [];

    const builds = await ensureBaseImages(engine, silentProgress, {
      rebuild: true,
      namespace: `ll-bench-${runId}`,
      labels: { [testLabel]: runId },
    });
    for (const build of builds) {
      const name = build.hostName.split('/')[1]!.replace(/[:.]/g, '-');
      results.push({ name: `cold-build-${name}-s`, value: round(build.seconds), unit: 's' });
      const size = (await engine.docker.getImage(build.hostName).inspect()).Size;
      results.push({ name: `image-size-${name}-mb`, value: round(size / 1e6), unit: 'MB' });
      log(`built ${build.hostName} in ${build.seconds.toFixed(1)} s`);
    }

    let started = performance.now();
    await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
    results.push({ name: 'first-up-s', value: round((performance.now() - started) / 1000), unit: 's' });

    const warmStarts: number[] = [];
    for (let run = 0; run < warmStartRuns; run++) {
      await stopSandbox(engine, instanceFor(sandboxEnv), silentProgress);
      started = performance.now();
      await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
      warmStarts.push(performance.now() - started);
    }
    warmStarts.sort((a, b) => a - b);
    results.push({ name: 'warm-start-ms', value: Math.round(warmStarts[Math.floor(warmStarts.length / 2)]!), unit: 'ms' });

    started = performance.now();
    await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
    results.push({ name: 'up-when-running-ms', value: Math.round(performance.now() - started), unit: 'ms' });
    return results;
  },
};

async function mustSucceed(result: ReturnType<typeof runCourse>, what: string): Promise<void> {
  const { exitCode, stderr } = await result;
  if (exitCode !== 0) throw new Error(`${what} exited ${exitCode}:\n${stderr}`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
