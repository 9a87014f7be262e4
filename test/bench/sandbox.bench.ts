import { ensureBaseImages } from '../../runner/src/base-images/build.js';
import { connectEngine } from '../../runner/src/engine.js';
import { silentProgress } from '../../runner/src/progress.js';
import { resetSandbox, stopSandbox } from '../../runner/src/sandbox/sandbox.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import type { BenchResult, BenchSuite } from './types.js';

const warmStartRuns = 3;
const firstUpRuns = 3;

/**
 * The spine: how long each base image takes to build from nothing (under a namespace of
 * its own, without the engine's cache, so the course's images are left alone), how long a
 * first `course up` takes with the course's images already built (median of 3, each from
 * no sandbox at all; a run that built a base image is refused), and `course up` from a
 * stopped sandbox.
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

    // first-up-s is `course up` with the base images there: build or update the course's own
    // first (only when missing or stale), untimed.
    await ensureBaseImages(engine, silentProgress);
    const firstUps: number[] = [];
    for (let run = 0; run < firstUpRuns; run++) {
      await resetSandbox(engine, instanceFor(sandboxEnv), silentProgress);
      const started = performance.now();
      const { stderr } = await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
      firstUps.push(performance.now() - started);
      const built = stderr.split('\n').filter((line) => /Building /.test(line));
      if (built.length) throw new Error(`first-up-s refused: course up built base images, so it timed more than a first start:\n${built.join('\n')}`);
    }
    results.push({ name: 'first-up-s', value: round(median(firstUps) / 1000), unit: 's' });

    let started: number;

    const warmStarts: number[] = [];
    for (let run = 0; run < warmStartRuns; run++) {
      await stopSandbox(engine, instanceFor(sandboxEnv), silentProgress);
      started = performance.now();
      await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
      warmStarts.push(performance.now() - started);
    }
    results.push({ name: 'warm-start-ms', value: Math.round(median(warmStarts)), unit: 'ms' });

    started = performance.now();
    await mustSucceed(runCourse(['up'], sandboxEnv), 'course up');
    results.push({ name: 'up-when-running-ms', value: Math.round(performance.now() - started), unit: 'ms' });
    return results;
  },
};

async function mustSucceed(result: ReturnType<typeof runCourse>, what: string): Promise<Awaited<ReturnType<typeof runCourse>>> {
  const outcome = await result;
  if (outcome.exitCode !== 0) throw new Error(`${what} exited ${outcome.exitCode}:\n${outcome.stderr}`);
  return outcome;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
