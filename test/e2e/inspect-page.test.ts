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
import { axeViolations } from '../support/axe.js';

const execFileAsync = promisify(execFile);
const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const image = `ll-inspect-page:${runId}`;
const box = `ll-inspect-box-${runId}`;
const cacheFolder = `/root/ll-inspect-page-cache-${runId}`;
const cacheTag = `ll-inspect-page-cache:${runId}`;
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
  await execIn(host, instance, ['sh', '-c', `rm -rf ${cacheFolder}; docker rmi -f ${cacheTag} >/dev/null 2>&1; true`]);
});

/** A sticky top bar would be drawn over the middle of a tall element's screenshot. */
async function unstickTopBar(page: Page): Promise<void> {
  await page.addStyleTag({ content: 'body > header, .topbar { position: static !important; }' });
}

const sh = (script: string) => execIn(host, instance, ['sh', '-c', script]);

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
    // Layer, its files biggest first, and the file's copies, as the closing note shows them.
    await page.locator('[data-columns]').screenshot({ path: path.join(screensDir, 'inspect-layer-tree-and-copies.png') });
    // The deletion layer names its whiteout.
    await page.click(`[data-layer="${base + 2}"]`);
    await page.click('[data-path="/app"]');
    await expect(page.locator('[data-path="/app/keep.txt"]').getAttribute('data-mark')).resolves.toBe('removed');
    await expect(page.locator('[data-path="/app/keep.txt"]').textContent()).resolves.toMatch(/keep\.txt \(removed\)whiteout: deletes file/);
    await page.locator('[data-ledger-section]').screenshot({ path: path.join(screensDir, 'inspect-image-explorer.png') });
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('follows a rebuild made in the terminal', async () => {
    const before = await page.locator('[data-layers] button').count();
    await execIn(host, instance, ['sh', '-c', `printf 'FROM ${image}\\nRUN echo again > /again.txt\\n' | docker build -q --label ${testLabel}=${runId} -t ${image} - >/dev/null`]);
    await page.waitForFunction((count) => document.querySelectorAll('[data-layers] button').length === count + 1, before, { timeout: 60_000, polling: 250 });
    await expect(page.locator('[data-explorer-status]').textContent()).resolves.toContain('Rebuilt');
    await page.screenshot({ path: path.join(screensDir, 'inspect-explorer-rebuilt.png'), fullPage: true });
  });

  it('shows a container\'s overlay2 mount, each lower folder matched to its layer, and follows copy-ups and deletions as they happen', async () => {
    const nested = await connectNestedEngine(instance);
    await sh(`docker run -d --name ${box} --label ${testLabel}=${runId} ${image} sleep 3600 >/dev/null`);
    const layerCount = (await nested.docker.getImage(image).inspect()).RootFS.Layers!.length;
    await page.goto(`${course.origin}/inspect/?container=${encodeURIComponent(box)}#overlay-view`);
    await page.waitForSelector('[data-overlay-folders] [data-role="image-layer"]', { timeout: 60_000 });
    // Top to bottom: the init layer, then the image's layers from the top one down.
    const roles = await page.locator('[data-lower]').evaluateAll((rows) => rows.map((row) => [(row as HTMLElement).dataset.role, (row as HTMLElement).dataset.layerIndex ?? '']));
    expect(roles).toEqual([['init', ''], ...Array.from({ length: layerCount }, (_, index) => ['image-layer', String(layerCount - 1 - index)])]);
    await expect(page.locator('[data-overlay-mount] pre').textContent()).resolves.toMatch(/lowerdir=.*\nupperdir=/);
    await expect(page.locator('[data-overlay-upper]').textContent()).resolves.toContain('Empty: the container has changed nothing yet');

    // The view asks the sandbox again only while it is on screen (the image explorer above may have pushed it down).
    await page.locator('#overlay-view').scrollIntoViewIfNeeded();
    // As the learner would in the terminal: change a file of the image, delete one, make one.
    await sh(`docker exec ${box} sh -c 'touch /app/note.txt && rm /app/big.bin && echo new > /created.txt'`);
    await page.waitForSelector('[data-upper-path="/app/big.bin"]', { timeout: 30_000 });
    await expect(page.locator('[data-overlay-status]').textContent()).resolves.toMatch(/^Changed: showing/);
    const kinds = Object.fromEntries(await page.locator('[data-upper-path]').evaluateAll((items) => items.map((item) => [(item as HTMLElement).dataset.upperPath, (item as HTMLElement).dataset.kind])));
    expect(kinds).toMatchObject({ '/app/note.txt': 'copied-up', '/app/big.bin': 'whiteout', '/created.txt': 'created', '/app': 'folder' });
    await expect(page.locator('[data-upper-path="/app/big.bin"]').textContent()).resolves.toMatch(/char-device 0\/0/);
    await expect(page.locator('[data-merged-path="/app/big.bin"]').textContent()).resolves.toMatch(/gone: the whiteout hides the file of lower \d+, image layer #\d+/);
    await expect(page.locator('[data-merged-path="/created.txt"]').textContent()).resolves.toContain('new: only the upper folder has it');
    await unstickTopBar(page);
    await page.locator('#overlay-view').screenshot({ path: path.join(screensDir, 'inspect-overlay2.png') });
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('builds a folder and says which step ran again and why, ignoring what .dockerignore excludes', async () => {
    const dockerfile = [`FROM ${image}`, 'WORKDIR /srv', 'COPY deps.txt ./', 'RUN cat deps.txt > installed.txt', 'COPY . ./'].join('\\n');
    await sh(`mkdir -p ${cacheFolder} && cd ${cacheFolder} && printf '${dockerfile}\\n' > Dockerfile && printf '*.log\\n' > .dockerignore && echo dep1 > deps.txt && echo one > debug.log && echo 'echo hi' > app.sh`);
    await page.goto(`${course.origin}/inspect/?folder=${encodeURIComponent(cacheFolder)}#cache-view`);
    await page.waitForFunction((folder) => document.querySelector<HTMLSelectElement>('[data-build-folder]')?.value === folder, cacheFolder, { timeout: 30_000 });
    await page.fill('[data-build-tag]', cacheTag);
    const build = async () => {
      const before = await page.locator('[data-cache-result]').getAttribute('data-generation');
      await page.click('[data-cache-form] button[type="submit"]');
      await page.waitForFunction((generation) => document.querySelector('[data-cache-result]')?.getAttribute('data-generation') !== generation && !document.querySelector('[data-cache-explainer]')?.hasAttribute('aria-busy'), before, { timeout: 170_000 });
      await expect(page.locator('[data-cache-status]').textContent()).resolves.toMatch(/^Built in/);
    };
    await build();
    await expect(page.locator('[data-cache-result] [data-first-ran] [data-cause]').getAttribute('data-cause')).resolves.toBe('no-earlier-build');

    // An ignored file changed: it is never sent, so every step comes from the cache.
    await sh(`echo two > ${cacheFolder}/debug.log`);
    await build();
    await expect(page.locator('[data-cache-summary]').textContent()).resolves.toBe('Every step came from the cache.');

    await sh(`echo dep2 > ${cacheFolder}/deps.txt`);
    await build();
    const first = page.locator('[data-cache-result] [data-first-ran]');
    await expect(first.getAttribute('data-step-line')).resolves.toBe('3');
    await expect(first.locator('[data-cause]').getAttribute('data-cause')).resolves.toBe('context-file-changed');
    await expect(first.locator('[data-context-file]').allTextContents()).resolves.toEqual(['deps.txt (changed)']);
    await expect(first.locator('a').getAttribute('href')).resolves.toBe('../lessons/lesson-5/#how-the-builder-decides');
    // The FROM step is left out: BuildKit marks a local base either way.
    const steps = await page.locator('[data-cache-result] [data-step-line]:not([data-step-line="1"])').evaluateAll((items) => items.map((item) => [(item as HTMLElement).dataset.stepLine, (item as HTMLElement).dataset.cached, item.querySelector('[data-cause]')?.getAttribute('data-cause') ?? '']));
    expect(steps).toEqual([['2', 'true', ''], ['3', 'false', 'context-file-changed'], ['4', 'false', 'earlier-step-rebuilt'], ['5', 'false', 'earlier-step-rebuilt']]);
    // The same builds, as BuildKit's history keeps them (the list asks every 5 s), with what ran again and why.
    // Other test files build in the same sandbox: this Dockerfile's builds are the ones ending in its `[5/5] COPY . ./`.
    const changedBuild = page
      .locator('[data-terminal-builds] > li', { has: page.locator('[data-cause="context-file-changed"]') })
      .filter({ has: page.locator('code', { hasText: '[5/5] COPY . ./' }) })
      .first();
    await changedBuild.waitFor({ timeout: 30_000 });
    await expect(changedBuild.locator('[data-cached="false"]:not([data-step^="[1/"]) code').allTextContents()).resolves.toEqual(['[3/5] COPY deps.txt ./', '[4/5] RUN cat deps.txt > installed.txt', '[5/5] COPY . ./']);
    await unstickTopBar(page);
    await page.locator('#cache-view').screenshot({ path: path.join(screensDir, 'inspect-cache-explainer.png') });
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('asks for the build history again only once the last request has answered, however slow the runner is', async () => {
    const pollPage = await browser.newPage();
    let inFlight = 0;
    let mostInFlight = 0;
    let requests = 0;
    // Every answer takes 12 s: with a 5 s interval, a poller without a guard had three
    // requests out at once by the end of this test.
    await pollPage.route('**/api/inspect/builds', async (route) => {
      requests += 1;
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      inFlight -= 1;
      await route.continue().catch(() => undefined);
    });
    // The course link first: it gives this new page the runner's token.
    await pollPage.goto(course.url);
    await pollPage.goto(`${course.origin}/inspect/#cache-view`);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    await pollPage.close();
    // The first look and at least one poll, never two at the same time.
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(mostInFlight).toBe(1);
  });

  it('shows lesson 8\'s container live beside the text, waiting for it until the lesson\'s docker run makes it', async () => {
    // The lesson's own name: this sandbox is the test run's, never a learner's.
    const lessonBox = 'l8-box';
    await sh(`docker rm -f ${lessonBox} >/dev/null 2>&1; true`);
    await page.goto(`${course.origin}/lessons/lesson-8/`);
    const figure = page.locator('[data-overlay-live]');
    await figure.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => /There is no container l8-box in your sandbox yet/.test(document.querySelector('[data-overlay-live] [data-overlay-status]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await expect(figure.locator('a').getAttribute('href')).resolves.toBe('../../inspect/?container=l8-box#overlay-view');

    await sh(`docker run -d --name ${lessonBox} --label ${testLabel}=${runId} busybox:latest sleep 3600 >/dev/null && docker exec ${lessonBox} sh -c 'touch /etc/group && rm /etc/passwd'`);
    await figure.locator('[data-upper-path="/etc/passwd"][data-kind="whiteout"]').waitFor({ timeout: 30_000 });
    await expect(figure.locator('[data-upper-path="/etc/group"]').getAttribute('data-kind')).resolves.toBe('copied-up');
    await expect(figure.locator('[data-lower]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.role))).resolves.toEqual(['init', 'image-layer']);
    await unstickTopBar(page);
    // The lesson scrolls inside its own pane: a tall window lets the whole figure be drawn.
    await page.setViewportSize({ width: 1400, height: 2600 });
    await figure.scrollIntoViewIfNeeded();
    await figure.screenshot({ path: path.join(screensDir, 'lesson-8-overlay-live.png') });
    await page.setViewportSize({ width: 1400, height: 1000 });
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await sh(`docker rm -f ${lessonBox} >/dev/null`);
  });
});
