/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, execIn } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

const execFileAsync = promisify(execFile);
const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const image = `ll-inspect-page:${runId}`;
const screensDir = path.join(projectRoot, '..', 'screens');
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let siteDir: string;
let course: StartedCourse;
let browser: Browser;
let page: Page;
let host: Engine;
const pageErrors: string[] = [];

beforeAll(async () => {
  host = await connectEngine();
  await buildInSandbox(host, instance, { context: await contextOf(path.join(projectRoot, 'test', 'fixtures', 'inspect', 'layers')), tag: image, labels });
  siteDir = await mkdtemp(path.join(os.tmpdir(), 'll-e2e-site-'));
  await execFileAsync(process.execPath, [path.join(projectRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', 'site', '--outDir', siteDir], {
    cwd: projectRoot,
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  course = await startCourse({ ...sandboxEnv, LAYERLAB_SITE_DIR: siteDir });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(course.url);
  await mkdir(screensDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (course) expect(await course.stop()).toBe(0);
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
  await removeTestObjects((await connectNestedEngine(instance)).docker, runId);
});

describe('the image explorer page', () => {
  it('shows the ledger, the layers, a layer\'s files biggest first, and a file\'s copies across layers', async () => {
    await page.goto(`${course.origin}/inspect/?image=${encodeURIComponent(image)}`);
    await page.waitForSelector('[data-layers] button', { timeout: 120_000 });
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Image explorer');
    const ledger = await page.locator('[data-ledger]').innerText();
    expect(ledger).toContain('From busybox:latest');
    expect(ledger).toContain('Efficiency, as dive counts');
    const base = (await (await connectNestedEngine(instance)).docker.getImage('busybox:latest').inspect()).RootFS.Layers!.length;
    // The first of the fixture's own steps writes big.bin (300 kB), keep.txt and data/a.txt.
    await page.click(`[data-layer="${base}"]`);
    await page.click('[data-path="/app"]');
    const rows = await page.locator('[data-path^="/app/"]').evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.path));
    expect(rows.slice(0, 2)).toEqual(['/app/big.bin', '/app/keep.txt']);
    await page.click('[data-path="/app/big.bin"]');
    await page.waitForSelector('[data-copy-layer]');
    const copyLayers = await page.locator('[data-copy-layer]').evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.copyLayer)));
    expect(copyLayers).toEqual([base, base + 1]);
    // The deletion layer names its whiteout.
    await page.click(`[data-layer="${base + 2}"]`);
    await page.click('[data-path="/app"]');
    await expect(page.locator('[data-path="/app/keep.txt"]').getAttribute('aria-label')).resolves.toMatch(/removed, whiteout/);
    await page.screenshot({ path: path.join(screensDir, 'inspect-explorer-e2e.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('follows a rebuild made in the terminal', async () => {
    const before = await page.locator('[data-layers] button').count();
    await execIn(host, instance, ['sh', '-c', `printf 'FROM ${image}\\nRUN echo again > /again.txt\\n' | docker build -q --label ${testLabel}=${runId} -t ${image} - >/dev/null`]);
    await page.waitForFunction((count) => document.querySelectorAll('[data-layers] button').length === count + 1, before, { timeout: 60_000, polling: 250 });
    await expect(page.locator('[data-explorer-status]').textContent()).resolves.toContain('Rebuilt');
    await page.screenshot({ path: path.join(screensDir, 'inspect-explorer-rebuilt.png'), fullPage: true });
  });
});
