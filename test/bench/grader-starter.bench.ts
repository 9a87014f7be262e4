import { readdir, rm } from 'node:fs/promises';
import { connectEngine } from '../../runner/src/engine.js';
import { gradeAndRecord, layerFactsFolder } from '../../runner/src/grade-and-record.js';
import type { CheckRun } from '../../runner/src/grader/types.js';
import { silentProgress } from '../../runner/src/progress.js';
import { bringUpSandbox } from '../../runner/src/sandbox/sandbox.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, exerciseDir } from '../support/build-image.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import type { BenchResult, BenchSuite } from './types.js';

const warmRuns = 3;

/**
 * The Check button on the lesson-7 starter (the ~719 MB single-stage image every learner
 * checks first), through gradeAndRecord as the course server runs it, in the bench's own
 * sandbox and data directory:
 * - check-starter-first-ms: nothing cached (the layer-facts folder emptied first);
 * - check-starter-ms: the same image checked again, its layers' facts cached (median of 3).
 * A figure is refused unless the run graded that very image, read every layer, judged every
 * check, and the cache was really empty (first) or really used (again).
 */
export const graderStarterBench: BenchSuite = {
  name: 'grader-starter',
  async run({ sandboxEnv, runId, log }) {
    const engine = await connectEngine();
    const instance = instanceFor(sandboxEnv);
    await bringUpSandbox(engine, instance, silentProgress);
    const nested = await connectNestedEngine(instance);
    const starter = `ll-bench-starter:${runId}`;
    await buildInSandbox(engine, instance, { context: await contextOf(exerciseDir('lesson-7', 'starter')), tag: starter, labels: { [testLabel]: runId } });
    const image = await nested.docker.getImage(starter).inspect();
    const cacheFolder = layerFactsFolder(instance.dataDir);
    const check = async () => {
      const started = performance.now();
      const { run } = await gradeAndRecord({ exercise: 'lesson-7', image: starter, instance });
      const ms = performance.now() - started;
      refuseUnlessGraded(run, image.Id, image.RootFS.Layers?.length ?? 0);
      return ms;
    };

    await rm(cacheFolder, { recursive: true, force: true });
    const first = await check();
    const cachedFiles = await countFiles(cacheFolder);
    if (cachedFiles <= (image.RootFS.Layers?.length ?? 0)) {
      throw new Error(`check-starter-ms refused: after the first check the cache holds ${cachedFiles} files, fewer than the image's layers and config.`);
    }
    const again: number[] = [];
    for (let run = 0; run < warmRuns; run++) again.push(await check());
    if ((await countFiles(cacheFolder)) !== cachedFiles) throw new Error('check-starter-ms refused: checking again wrote to the cache, so it was not used.');
    again.sort((a, b) => a - b);
    log(`lesson-7 starter (${(image.Size / 1e6).toFixed(0)} MB): first check ${first.toFixed(0)} ms, again ${again.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    return [
      { name: 'check-starter-first-ms', value: Math.round(first), unit: 'ms' },
      { name: 'check-starter-ms', value: Math.round(again[Math.floor(warmRuns / 2)]!), unit: 'ms' },
    ] satisfies BenchResult[];
  },
};

/** A figure only counts when the run graded the image meant, every layer read and every check judged. */
function refuseUnlessGraded(run: CheckRun, imageId: string, layerCount: number): void {
  const problems: string[] = [];
  if (run.imageId !== imageId) problems.push(`it graded ${run.imageId ?? 'no image'}, not ${imageId}`);
  if (run.layers.length !== layerCount || run.layers.some((layer) => layer.unreadable)) problems.push(`it read ${run.layers.filter((layer) => !layer.unreadable).length} of ${layerCount} layers`);
  const skipped = run.checks.filter((check) => check.status === 'skip');
  if (skipped.length) problems.push(`it could not judge ${skipped.map((check) => `${check.id} (${check.message})`).join(', ')}`);
  // The starter is the fat single-stage answer: it must fail, and it must run.
  if (run.passed) problems.push('the starter passed, so the checks did not run as they should');
  if (problems.length) throw new Error(`check-starter figures refused: ${problems.join('; ')}.`);
}

async function countFiles(folder: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => [])) if (entry.isFile()) count++;
  return count;
}
