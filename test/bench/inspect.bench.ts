import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { connectEngine } from '../../runner/src/engine.js';
import { layerFactsFolder } from '../../runner/src/grade-and-record.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { silentProgress } from '../../runner/src/progress.js';
import { bringUpSandbox } from '../../runner/src/sandbox/sandbox.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import type { InspectReport } from '../../runner/src/contract/inspect.js';
import { instanceFor } from '../support/sandbox-env.js';
import { chromium } from 'playwright-core';
import { startCourse } from '../support/course-server-process.js';
import type { BenchResult, BenchSuite } from './types.js';

const runs = 3;
/** The course's biggest image (layerlab/golang:1.24 on the host, golang:1.24 in the sandbox). */
const image = 'golang:1.24';

/**
 * `course inspect golang:1.24 --format json` in the bench's sandbox, as a learner runs it:
 * - inspect-golang-ms: cold (no layer facts kept from an earlier run), median of 3;
 * - inspect-golang-warm-ms: again with the layer facts the first run kept, median of 3.
 * - inspect-page-golang-ms: the image explorer page (headless Chromium) from navigation to
 *   golang:1.24's layers on screen, with a runner just started (no report in its memory) and the
 *   layer facts kept on disk, as after a first look; median of 3.
 * A figure is refused unless the report is of that very image, with every layer read.
 */
export const inspectBench: BenchSuite = {
  name: 'inspect',
  async run({ sandboxEnv, log }) {
    const engine = await connectEngine();
    const instance = instanceFor(sandboxEnv);
    await bringUpSandbox(engine, instance, silentProgress);
    const wanted = await (await connectNestedEngine(instance)).docker.getImage(image).inspect();
    const inspect = async () => {
      const run = await runCourse(['inspect', image, '--format', 'json'], sandboxEnv);
      refuseUnlessWhole(JSON.parse(run.stdout) as InspectReport, wanted.Id, wanted.RootFS.Layers?.length ?? 0);
      return run.ms;
    };
    await inspect(); // warm the engine's and the kernel's caches, as for docker save in the grader bench
    const cold: number[] = [];
    const warm: number[] = [];
    for (let run = 0; run < runs; run++) {
      await rm(layerFactsFolder(sandboxEnv.LAYERLAB_DATA_DIR!), { recursive: true, force: true });
      cold.push(await inspect());
      warm.push(await inspect());
      log(`course inspect ${image}: ${cold.at(-1)!.toFixed(0)} ms cold, ${warm.at(-1)!.toFixed(0)} ms with kept layer facts`);
    }
    const results: BenchResult[] = [
      { name: 'inspect-golang-ms', value: Math.round(median(cold)), unit: 'ms' },
      { name: 'inspect-golang-warm-ms', value: Math.round(median(warm)), unit: 'ms' },
    ];
    const pageLoads: number[] = [];
    for (let run = 0; run < runs; run++) pageLoads.push(await measurePageLoad(sandboxEnv, wanted.RootFS.Layers?.length ?? 0));
    log(`image explorer page with ${image}: ${pageLoads.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    results.push({ name: 'inspect-page-golang-ms', value: Math.round(median(pageLoads)), unit: 'ms' });
    return results;
  },
};

/** A figure only counts when the report is of the image meant, every layer read. */
export function refuseUnlessWhole(report: InspectReport, imageId: string, layerCount: number): void {
  const problems: string[] = [];
  if (report.id !== imageId) problems.push(`it inspected ${report.id ?? 'no image'}, not ${imageId}`);
  if (report.layers.length !== layerCount) problems.push(`it reports ${report.layers.length} of ${layerCount} layers`);
  const unreadable = report.layers.filter((layer) => layer.unreadable);
  if (unreadable.length) problems.push(`it could not read layers ${unreadable.map((layer) => `#${layer.index} (${layer.unreadable})`).join(', ')}`);
  if (!(report.sizeBytes > 0) || !report.layers.some((layer) => layer.added.length > 0)) problems.push('it found no files');
  if (problems.length) throw new Error(`inspect-golang-ms refused: ${problems.join('; ')}.`);
}

/** A fresh runner and browser; time from navigation to every layer of the image listed. */
async function measurePageLoad(sandboxEnv: Record<string, string>, layerCount: number): Promise<number> {
  const course = await startCourse(sandboxEnv);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(course.url); // the token moves into the page's storage
    const started = performance.now();
    await page.goto(`${course.origin}/inspect/?image=${encodeURIComponent(image)}`);
    await page.waitForFunction((count) => document.querySelectorAll('[data-layers] button').length === count, layerCount, { timeout: 300_000, polling: 50 });
    const ms = performance.now() - started;
    const status = (await page.locator('[data-explorer-status]').textContent()) ?? '';
    if (!status.startsWith(`Showing ${image}: ${layerCount} layers`)) throw new Error(`inspect-page-golang-ms refused: the page says "${status}".`);
    return ms;
  } finally {
    await browser.close();
    await course.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function runCourse(args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(projectRoot, 'runner', 'bin', 'course.js'), ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`course ${args.join(' ')} exited ${code}:\n${stderr}`);
  return { ms, stdout: Buffer.concat(stdout).toString('utf8') };
}
