/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { progressFilePath } from '../../runner/src/progress-store.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { connectEngine } from '../../runner/src/engine.js';
import { axeViolations } from '../support/axe.js';

/**
 * The course pages as a learner on a phone or with only a keyboard meets them: axe-core on
 * every page at 1440 and 390 pixels (with the runner, and read statically from a subfolder),
 * no sideways page scroll on a phone, the keyboard path from page load to a Check result and
 * out of the terminal again, compressed assets, and reset and compare on a real exercise folder.
 */
const execFileAsync = promisify(execFile);
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const screensDir = process.env.LAYERLAB_SCREENS_DIR ?? path.join(os.tmpdir(), 'layerlab-screens');
const widths = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

let siteDir: string;
let lessonIds: string[];
let course: StartedCourse;
let browser: Browser;
let staticServer: http.Server;
let staticOrigin: string;
/** The static copy is served from a folder, not the server's root. */
const staticFolder = '/some/folder/layerlab/';

beforeAll(async () => {
  siteDir = await mkdtemp(path.join(os.tmpdir(), 'll-e2e-learner-site-'));
  await execFileAsync(process.execPath, [path.join(projectRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', 'site', '--outDir', siteDir], {
    cwd: projectRoot,
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  lessonIds = ((JSON.parse(await readFile(path.join(siteDir, 'course.json'), 'utf8')) as { lessons: Array<{ id: string }> }).lessons).map((lesson) => lesson.id);
  await rm(progressFilePath(instanceFor(inject('sandboxEnv')).dataDir), { force: true });
  course = await startCourse({ ...inject('sandboxEnv'), LAYERLAB_SITE_DIR: siteDir });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  await mkdir(screensDir, { recursive: true });

  // A plain static server (no API), serving the built site from a folder.
  staticServer = http.createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (!pathname.startsWith(staticFolder)) return void response.writeHead(404).end();
    let file = path.join(siteDir, pathname.slice(staticFolder.length));
    if (!file.startsWith(siteDir)) return void response.writeHead(404).end();
    if ((await stat(file).catch(() => undefined))?.isDirectory()) file = path.join(file, 'index.html');
    try {
      const body = await readFile(file);
      const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
      response.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => staticServer.listen(0, '127.0.0.1', resolve));
  staticOrigin = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  staticServer?.close();
  if (course) expect(await course.stop()).toBe(0);
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

async function newPage(width: number, height: number, origin?: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height }, ...(width < 600 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  if (origin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

/** How far the page itself scrolls sideways (0 when it does not). */
async function pageOverflow(page: Page): Promise<number> {
  return await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-runner-status]')?.getAttribute('data-state') !== 'checking');
  if (await page.locator('[data-terminal-panel]').count()) {
    await page.waitForFunction(() => {
      const state = document.querySelector('[data-terminal-panel]')?.getAttribute('data-state');
      return state === 'connected' || state === 'offline';
    });
  }
}

describe('every page, with the runner', () => {
  for (const { name, width, height } of widths) {
    it(`has no serious or critical axe-core violation at ${width} px${width < 600 ? ', and no sideways page scroll' : ''}`, async () => {
      const { page, errors } = await newPage(width, height, course.origin);
      await page.goto(course.url);
      const problems: string[] = [];
      for (const address of ['/', ...lessonIds.map((id) => `/lessons/${id}/`)]) {
        await page.goto(`${course.origin}${address}`);
        await settled(page);
        for (const violation of await axeViolations(page)) problems.push(`${address}: ${violation}`);
        const overflow = await pageOverflow(page);
        if (width < 600 && overflow > 0) problems.push(`${address}: the page scrolls ${overflow} px sideways`);
        if (width < 600 && address === '/lessons/lesson-7/') {
          const figure = page.locator('.stage-diagram').first();
          if (await figure.count()) await figure.screenshot({ path: path.join(screensDir, 'runner-phone-lesson-7-stage-diagram.png') });
        }
        if (address === '/' || address === '/lessons/lesson-3/' || address === '/lessons/lesson-7/') {
          await page.screenshot({ path: path.join(screensDir, `runner-${name}-${address === '/' ? 'map' : address.split('/')[2]}.png`), fullPage: width < 600 && address === '/' });
        }
      }
      expect(problems).toEqual([]);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 300_000);
  }

  it('on a phone shows the lesson and the terminal as two tabs and keeps the lesson\'s place', async () => {
    const { page } = await newPage(390, 844, course.origin);
    await page.goto(course.url);
    await page.goto(`${course.origin}/lessons/lesson-3/`);
    await settled(page);
    expect(await page.locator('[data-terminal-panel]').isVisible()).toBe(false);
    await page.mouse.wheel(0, 2500);
    await page.waitForFunction(() => window.scrollY > 1000);
    const place = await page.evaluate(() => window.scrollY);
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await expect.poll(() => page.locator('[data-terminal-host]').isVisible()).toBe(true);
    // Drawn, not only in the buffer: the rows on screen show the shell's greeting.
    await expect.poll(() => page.locator('[data-terminal-host] .xterm-rows').innerText()).toContain('sandbox');
    expect(await page.locator('.lesson-pane').isVisible()).toBe(false);
    // The terminal fills the screen below the bars.
    const box = (await page.locator('[data-terminal-host]').boundingBox())!;
    expect(box.width).toBeGreaterThan(340);
    await page.screenshot({ path: path.join(screensDir, 'runner-phone-terminal-tab.png') });
    await page.getByRole('tab', { name: 'Lesson' }).click();
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(place);
    // A wide table scrolls inside itself, with its words whole.
    const table = page.locator('.table-scroll.is-overflowing').first();
    if (await table.count()) {
      await table.scrollIntoViewIfNeeded();
      expect(await table.getAttribute('tabindex')).toBe('0');
      await table.screenshot({ path: path.join(screensDir, 'runner-phone-lesson-3-table.png') });
    }
    await page.context().close();
  });
});

describe('the built site without the runner', () => {
  for (const { name, width, height } of widths) {
    it(`works from a folder of a static server at ${width} px, axe-clean, status unknown`, async () => {
      const { page, errors } = await newPage(width, height);
      const problems: string[] = [];
      for (const address of ['', ...lessonIds.map((id) => `lessons/${id}/`)]) {
        await page.goto(`${staticOrigin}${staticFolder}${address}`);
        await settled(page);
        // Styled: the stylesheet loaded from the folder, not the server's root.
        expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain('system-ui');
        for (const violation of await axeViolations(page)) problems.push(`${address || '/'}: ${violation}`);
        const overflow = await pageOverflow(page);
        if (width < 600 && overflow > 0) problems.push(`${address || '/'}: the page scrolls ${overflow} px sideways`);
      }
      expect(problems).toEqual([]);
      await page.goto(`${staticOrigin}${staticFolder}`);
      await settled(page);
      await expect.poll(() => page.locator('[data-lesson-status]').first().textContent()).toBe('Status unknown');
      await page.screenshot({ path: path.join(screensDir, `static-${name}-map.png`) });
      // Links stay inside the folder.
      await page.locator('.lesson-card a').first().click();
      await page.waitForURL(`${staticOrigin}${staticFolder}lessons/${lessonIds[0]}/`);
      await expect(page.getByRole('heading', { level: 1 }).isVisible()).resolves.toBe(true);
      expect(errors).toEqual([]);
      await page.context().close();
    }, 300_000);
  }

  it('opened from file:// says plainly how to open it', async () => {
    const { page } = await newPage(1440, 900);
    await page.goto(`file://${siteDir}/lessons/lesson-1/index.html`);
    const warning = page.locator('[data-file-warning]');
    await expect(warning.isVisible()).resolves.toBe(true);
    await expect(warning.textContent()).resolves.toMatch(/course start[\s\S]*python3 -m http\.server/);
    expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain('system-ui');
    await page.screenshot({ path: path.join(screensDir, 'static-file-url.png') });
    await page.context().close();
  });
});

describe('keyboard only', () => {
  it('goes from page load to a Check result and back out of the terminal', async () => {
    const { page } = await newPage(1440, 900, course.origin);
    await page.goto(course.url);
    await page.goto(`${course.origin}/lessons/lesson-7/`);
    await settled(page);
    const focused = () => page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return element?.closest('.xterm') ? 'terminal' : (element?.textContent?.trim() ?? '');
    });
    // Every code block is one Tab stop.
    const stopsPerBlock = await page.evaluate(() =>
      [...document.querySelectorAll('.code-block')].map((block) => [...block.querySelectorAll<HTMLElement>('*')].filter((element) => element.tabIndex >= 0).length),
    );
    expect(stopsPerBlock.length).toBeGreaterThan(5);
    expect(new Set(stopsPerBlock)).toEqual(new Set([1]));

    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to the terminal');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to Check');
    await page.keyboard.press('Enter');
    expect(await focused()).toMatch(/Check my image/);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-check-results]:not([hidden])', { timeout: 120_000 });
    await expect(page.locator('[data-check-summary]').textContent()).resolves.toMatch(/of \d+ required checks? pass/);

    // Into the terminal by its skip link, type, then leave with Ctrl+M and Tab.
    await page.keyboard.press('Shift+Tab');
    while ((await focused()) !== 'Skip to the terminal') await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('terminal');
    await page.keyboard.type('echo kb-$((2+3))\n');
    await page.waitForFunction(() => (window as unknown as { layerlab: { terminal: { readText(): string } } }).layerlab.terminal.readText().includes('kb-5'));
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('terminal');
    await page.keyboard.press('Control+m');
    await expect(page.locator('[data-tab-mode-announce]').textContent()).resolves.toContain('Tab now moves focus');
    await page.keyboard.press('Tab');
    expect(await focused()).not.toBe('terminal');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('terminal');
    await page.keyboard.press('Control+m');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('terminal');
    await page.context().close();
  }, 180_000);

  it('pastes with plain Ctrl+V', async () => {
    const { page } = await newPage(1440, 900, course.origin);
    await page.goto(course.url);
    await page.goto(`${course.origin}/lessons/lesson-1/`);
    await settled(page);
    await page.locator('[data-terminal-host]').click();
    await page.evaluate(() => navigator.clipboard.writeText('echo plain-paste-$((6*7))'));
    await page.keyboard.press('Control+v');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as unknown as { layerlab: { terminal: { readText(): string } } }).layerlab.terminal.readText().includes('plain-paste-42'));
    await page.context().close();
  });
});

describe('served compressed', () => {
  it('sends the lesson page\'s scripts and styles precompressed, with cache headers and Vary', async () => {
    const headers = { Authorization: `Bearer ${course.token}` };
    const html = await (await fetch(`${course.origin}/lessons/lesson-7/`, { headers })).text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]*_astro\/[^"]+\.(?:js|css))"/g)].map((match) => new URL(match[1]!, `${course.origin}/lessons/lesson-7/`).pathname);
    expect(assets.length).toBeGreaterThan(2);
    let compressed = 0;
    for (const asset of assets) {
      const answer = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${course.origin}${asset}`, { headers: { ...headers, 'Accept-Encoding': 'gzip, deflate, br' } }, resolve).on('error', reject),
      );
      answer.resume();
      expect(answer.headers['cache-control'], asset).toContain('immutable');
      // Files under 1 KiB are not worth a compressed copy; every other one is sent as brotli.
      const plainSize = (await stat(path.join(siteDir, asset))).size;
      if (plainSize < 1024) continue;
      compressed++;
      expect(answer.headers['content-encoding'], asset).toBe('br');
      expect(answer.headers.vary).toBe('Accept-Encoding');
      expect(Number(answer.headers['content-length'])).toBeLessThan(plainSize);
    }
    expect(compressed).toBeGreaterThan(1);
    const page = await (await fetch(`${course.origin}/lessons/lesson-7/`, { headers: { ...headers, 'Accept-Encoding': 'gzip' } })).headers;
    expect(page.get('cache-control')).toBe('no-cache');
  });
});

describe('reset and compare', () => {
  it('compares the learner\'s Dockerfile with the solution, then puts the starter back, keeping their files', async () => {
    const instance = instanceFor(inject('sandboxEnv'));
    const engine = await connectEngine();
    const starter = await readFile(path.join(projectRoot, 'exercises', 'lesson-4', 'starter', 'Dockerfile'), 'utf8');
    const mine = '# my attempt\nFROM scratch\n';
    await execInSandbox(engine, instance, 'rm -rf ~/exercises/lesson-4.saved-*; mkdir -p ~/exercises/lesson-4 && printf "%s" "$FILE_mine" > ~/exercises/lesson-4/Dockerfile && echo notes > ~/exercises/lesson-4/notes.txt', { mine });

    const { page, errors } = await newPage(1440, 900, course.origin);
    await page.goto(course.url);
    await page.goto(`${course.origin}/lessons/lesson-4/`);
    await settled(page);
    await page.getByRole('button', { name: 'Compare with the solution' }).click();
    // Before the lesson is complete it asks first.
    await page.getByRole('button', { name: 'Show the differences' }).click();
    await page.waitForSelector('[data-diff]:not([hidden]) table.diff');
    const removed = await page.locator('.diff-removed').allTextContents();
    expect(removed.join('\n')).toContain('FROM scratch');
    expect(await page.locator('.diff-added').count()).toBeGreaterThan(0);
    await page.locator('[data-check-panel]').screenshot({ path: path.join(screensDir, 'runner-desktop-compare.png') });

    await page.getByRole('button', { name: 'Reset to the starter…' }).click();
    await page.getByRole('button', { name: 'Reset to the starter', exact: true }).click();
    await expect.poll(() => page.locator('[data-tools-status]').textContent()).toMatch(/holds the starter again\. Your files are in ~\/exercises\/lesson-4\.saved-\d{4}-\d{2}-\d{2}-\d{6}\./);
    const after = await execInSandbox(engine, instance, 'cat ~/exercises/lesson-4/Dockerfile; echo ===; cat ~/exercises/lesson-4.saved-*/Dockerfile ~/exercises/lesson-4.saved-*/notes.txt');
    const [current, kept] = after.stdout.split('===\n');
    expect(current).toBe(starter);
    expect(kept).toBe(`${mine}notes\n`);
    expect(errors).toEqual([]);
    await page.context().close();

    // The same from the command line; a second reset in the same second gets its own folder.
    const env = inject('sandboxEnv');
    const first = await runCourse(['reset-exercise', 'lesson-4'], env);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/~\/exercises\/lesson-4 holds the starter again\.\n {2}Your files are kept in ~\/exercises\/lesson-4\.saved-/);
    const listing = await execInSandbox(engine, instance, 'ls -d ~/exercises/lesson-4.saved-* | wc -l');
    expect(Number(listing.stdout.trim())).toBe(2);
    const compare = await runCourse(['compare', 'lesson-4'], env);
    expect(compare.exitCode).toBe(0);
    expect(compare.stdout).toContain('+++ the solution of lesson-4');
    const unknown = await runCourse(['reset-exercise', 'lesson-99'], env);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('There is no exercise "lesson-99"');
    await execInSandbox(engine, instance, 'rm -rf ~/exercises/lesson-4.saved-*');
  }, 180_000);
});
