import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectEngine } from '../../runner/src/engine.js';
import { findExercise } from '../../exercises/index.js';
import { layerFactsFolder, sandboxAddress } from '../../runner/src/grade-and-record.js';
import { gradeExercise } from '../../runner/src/grader/grade.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { silentProgress } from '../../runner/src/progress.js';
import { bringUpSandbox } from '../../runner/src/sandbox/sandbox.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, exerciseDir } from '../support/build-image.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import type { BenchResult, BenchSuite } from './types.js';

const gradeRuns = 3;
const largeImageRuns = 3;
const largeImage = 'golang:1.24';

/**
 * The grader, in the bench's own sandbox:
 * - check-lesson7-ms: gradeExercise on the lesson-7 solution, every check, `runs` included
 *   (median of 3);
 * - check-vs-save-ratio: `course check` of golang:1.24 in the sandbox, as a learner runs it
 *   (where reading layers dominates; it reads the engine's layer folders), cold (no layer
 *   facts kept), over `docker save golang:1.24 > /dev/null` on the same engine, measured back
 *   to back (median of 3 pairs). Each check's JSON report must show it graded that very image,
 *   on that engine, every layer read and every check judged; otherwise there is no figure.
 * - grader-large-image-rss-mb: peak RSS of that `course check` process (median of 3).
 */
export const graderBench: BenchSuite = {
  name: 'grader',
  async run({ sandboxEnv, runId, log }) {
    const engine = await connectEngine();
    const instance = instanceFor(sandboxEnv);
    await bringUpSandbox(engine, instance, silentProgress);
    const nested = await connectNestedEngine(instance);
    const labels = { [testLabel]: runId };
    const solution = `ll-bench-lesson-7:${runId}`;
    await buildInSandbox(engine, instance, { context: await contextOf(exerciseDir('lesson-7', 'solution')), tag: solution, labels });
    const results: BenchResult[] = [];

    const durations: number[] = [];
    for (let run = 0; run < gradeRuns; run++) {
      const started = performance.now();
      const checkRun = await gradeExercise({ exercise: findExercise('lesson-7'), engine: nested, image: solution, publishedPortHost: await sandboxAddress(instance, engine), labels });
      durations.push(performance.now() - started);
      if (!checkRun.passed) throw new Error(`the lesson-7 solution did not pass: ${JSON.stringify(checkRun.checks)}`);
    }
    results.push({ name: 'check-lesson7-ms', value: Math.round(median(durations)), unit: 'ms' });

    // Both commands are pointed at the sandbox's engine explicitly: a DOCKER_HOST in the
    // bench's environment must not send either of them elsewhere.
    const dockerHost = `unix://${instance.socketPath}`;
    const image = await nested.docker.getImage(largeImage).inspect();
    await timeCommand('docker', ['--host', dockerHost, 'save', largeImage], {}); // warm the engine's and the kernel's caches alike
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'll-bench-grader-'));
    try {
      // Reports the process's peak RSS as it exits; loaded before the CLI with --import.
      const reporter = path.join(workDir, 'report-rss.mjs');
      await writeFile(reporter, "process.on('exit', () => process.stderr.write(`\\nmax-rss-kb=${process.resourceUsage().maxRSS}\\n`));\n");
      const reportFile = path.join(workDir, 'report.json');
      const ratios: number[] = [];
      const peaks: number[] = [];
      for (let run = 0; run < largeImageRuns; run++) {
        const save = await timeCommand('docker', ['--host', dockerHost, 'save', largeImage], {});
        await rm(reportFile, { force: true });
        // Cold, as the figure means: no layer facts kept from an earlier check.
        await rm(layerFactsFolder(sandboxEnv.LAYERLAB_DATA_DIR!), { recursive: true, force: true });
        const check = await timeCommand(
          process.execPath,
          ['--import', reporter, path.join(projectRoot, 'runner', 'bin', 'course.js'), 'check', 'lesson-7', '--image', largeImage, '--format', 'json', '--output', reportFile],
          { ...sandboxEnv, DOCKER_HOST: '' }, // the sandbox, not an engine named by DOCKER_HOST
          [0, 1], // golang:1.24 fails lesson 7's checks: that is expected; what it graded is checked below
        );
        refuseUnlessGraded(JSON.parse(await readFile(reportFile, 'utf8')) as GradedReport, { image: largeImage, imageId: image.Id, dockerHost, layerCount: image.RootFS.Layers?.length ?? 0 });
        const rssKb = Number(/max-rss-kb=(\d+)/.exec(check.stderr)?.[1]);
        if (!Number.isFinite(rssKb) || rssKb <= 0) throw new Error(`course check did not report its peak RSS; its stderr:\n${check.stderr}`);
        ratios.push(check.ms / save.ms);
        peaks.push(rssKb);
        log(`docker save ${largeImage}: ${save.ms.toFixed(0)} ms; course check: ${check.ms.toFixed(0)} ms, peak RSS ${(rssKb / 1024).toFixed(0)} MiB`);
      }
      results.push({ name: 'check-vs-save-ratio', value: Math.round(median(ratios) * 100) / 100, unit: 'x' });
      results.push({ name: 'grader-large-image-rss-mb', value: Math.round((median(peaks) * 1024) / 1e6), unit: 'MB' });
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    return results;
  },
};

interface GradedReport {
  image?: string;
  imageId?: string;
  engine?: { address?: string };
  layers?: unknown[];
  checks?: Array<{ id: string; status: string; message?: string }>;
}

/** A figure only counts when the run graded the image meant, on the engine meant, in full. */
function refuseUnlessGraded(report: GradedReport, wanted: { image: string; imageId: string; dockerHost: string; layerCount: number }): void {
  const problems: string[] = [];
  if (report.image !== wanted.image || report.imageId !== wanted.imageId) problems.push(`it graded ${report.image} (${report.imageId ?? 'no image'}), not ${wanted.image} (${wanted.imageId})`);
  if (report.engine?.address !== wanted.dockerHost) problems.push(`it used the engine at ${report.engine?.address}, not ${wanted.dockerHost}`);
  if (report.layers?.length !== wanted.layerCount) problems.push(`it read ${report.layers?.length ?? 0} of ${wanted.layerCount} layers`);
  const skipped = (report.checks ?? []).filter((check) => check.status === 'skip');
  if (!report.checks?.length) problems.push('it judged no check');
  if (skipped.length) problems.push(`it could not judge ${skipped.map((check) => `${check.id} (${check.message})`).join(', ')}`);
  if (problems.length) throw new Error(`check-vs-save-ratio refused: ${problems.join('; ')}.`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs a command with its stdout discarded (like `> /dev/null`) and times it. */
async function timeCommand(command: string, args: string[], env: Record<string, string>, okCodes = [0]): Promise<{ ms: number; stderr: string }> {
  const started = performance.now();
  const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const ms = performance.now() - started;
  if (code === null || !okCodes.includes(code)) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`);
  return { ms, stderr };
}
