/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { classPaths } from '../../runner/src/class/contract.js';
import { parseJoinLink } from '../../runner/src/class/join-link.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { connectEngine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, exerciseDir } from '../support/build-image.js';
import { makeSubmission } from '../support/class-fixtures.js';
import { startClassServer, type StartedClass } from '../support/class-server-process.js';
import { removeTestObjects } from '../support/cleanup.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * The instructor's dashboard in headless Chromium, served by `course class serve`: it shows
 * the class, updates without a reload when a learner passes, and shows what learners sent
 * as text only. LAYERLAB_SCREENSHOT_DIR, when set, receives a screenshot of it.
 */

const execFileAsync = promisify(execFile);
const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const passImage = `ll-class-e2e-pass-${runId}`;
const failImage = `ll-class-e2e-fail-${runId}`;
const hostileName = '<img src=x onerror="window.__classXss=1">';

let workDir: string;
let siteDir: string;
let server: StartedClass;
let browser: Browser;
let page: Page;
let learnerEnv: Record<string, string>;
const pageErrors: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-e2e-'));
  siteDir = path.join(workDir, 'site');
  // The site built into a folder of its own: another build of site/dist may run meanwhile.
  await execFileAsync(process.execPath, [path.join(projectRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', 'site', '--outDir', siteDir], {
    cwd: projectRoot,
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const host = await connectEngine();
  const labels = { [testLabel]: runId };
  await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-1', 'solution')), tag: passImage, labels });
  await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-1', 'starter')), tag: failImage, labels });

  server = await startClassServer({ ...sandboxEnv, LAYERLAB_DATA_DIR: path.join(workDir, 'instructor'), LAYERLAB_SITE_DIR: siteDir }, ['--port', '0', '--db', path.join(workDir, 'class.sqlite')]);
  const learnerDir = path.join(workDir, 'ada');
  await mkdir(path.join(learnerDir, 'sandboxes'), { recursive: true });
  await symlink(instance.socketDir, path.join(learnerDir, 'sandboxes', instance.name));
  learnerEnv = { ...sandboxEnv, LAYERLAB_DATA_DIR: learnerDir };
  expect((await runCourse(['join', server.joinLink, '--name', 'Ada Lovelace'], learnerEnv)).exitCode).toBe(0);
  expect((await runCourse(['check', 'lesson-1', '--image', failImage], learnerEnv)).exitCode).toBe(1);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  if (server) expect(await server.stop()).toBe(0);
  await removeTestObjects((await connectNestedEngine(instance)).docker, runId);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const cell = (learner: string, exercise: string) => page.locator(`tr[data-learner-name="${learner}"] td[data-exercise="${exercise}"]`);

describe('the class dashboard', () => {
  it('opens from the instructor link and shows the roster', async () => {
    await page.goto(server.instructorUrl);
    // The token went into a cookie; the address bar no longer shows it.
    expect(new URL(page.url()).search).toBe('');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Class dashboard');
    await page.waitForSelector('[data-live][data-state="live"]');
    await expect.poll(() => cell('Ada Lovelace', 'lesson-1').getAttribute('data-status')).toBe('failing');
    await expect(cell('Ada Lovelace', 'lesson-1').textContent()).resolves.toContain('1 attempt');
  });

  it('shows a learner\'s name and image exactly as text, never as markup', async () => {
    const join = await fetch(`${server.origin}${classPaths.apiJoin}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: parseJoinLink(server.joinLink).code, name: hostileName }),
    });
    const { key } = await join.json();
    const sent = await fetch(`${server.origin}${classPaths.apiSubmissions}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify(makeSubmission({ image: '<script>window.__classXss=2</script>', failing: ['two-layers'], metrics: { sizeBytes: 123_000_000, layers: 7, buildTools: ['<b>gcc</b>'], wastedBytes: null } })),
    });
    expect(sent.status).toBe(201);
    const row = page.locator('tr[data-learner-row]', { hasText: hostileName });
    await row.waitFor();
    await row.getByRole('button').click();
    await page.locator('[data-history-body] tr').first().waitFor();
    await expect(page.locator('[data-history-body]').textContent()).resolves.toContain('<script>window.__classXss=2</script>');
    await expect(page.locator('[data-history-body]').textContent()).resolves.toContain('<b>gcc</b>');
    expect(await page.evaluate(() => (window as unknown as { __classXss?: number }).__classXss)).toBeUndefined();
    expect(await page.locator('[data-class-dashboard] img, [data-class-dashboard] script, [data-class-dashboard] b').count()).toBe(0);
  });

  it('updates without a reload when a learner passes', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const passed = await runCourse(['check', 'lesson-1', '--image', passImage], learnerEnv);
    expect(passed.exitCode, passed.stderr).toBe(0);
    await expect.poll(() => cell('Ada Lovelace', 'lesson-1').getAttribute('data-status'), { timeout: 15_000 }).toBe('passed');
    await expect(cell('Ada Lovelace', 'lesson-1').textContent()).resolves.toMatch(/2 attempts, passed in/);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    const card = page.locator('[data-exercise-card="lesson-1"]');
    await expect(card.locator('[data-passed-count]').textContent()).resolves.toBe('1 of 2 passed, 2 tried');
    await expect(card.locator('[data-common-failure]').textContent()).resolves.toMatch(/Most often failed: .+\(2 learners\)/);
    // One bar chart for sizes and one for layers, each with its reference line.
    expect(await card.locator('svg[role="img"]').count()).toBe(2);
    expect(await card.locator('line.reference').count()).toBe(2);

    await page.locator('tr[data-learner-name="Ada Lovelace"]').getByRole('button').click();
    await expect.poll(() => page.locator('[data-history-heading]').textContent()).toBe('History of Ada Lovelace (2 attempts)');
    if (process.env.LAYERLAB_SCREENSHOT_DIR) {
      await mkdir(process.env.LAYERLAB_SCREENSHOT_DIR, { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(process.env.LAYERLAB_SCREENSHOT_DIR, 'class-dashboard.png'), fullPage: true });
    }
    expect(pageErrors).toEqual([]);
  });
});
