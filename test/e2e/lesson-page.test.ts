/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { progressFilePath } from '../../runner/src/progress-store.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { isNotFound } from '../../runner/src/engine.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';

const execFileAsync = promisify(execFile);
let siteDir: string;
const lessonPath = '/lessons/lesson-7/';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface LayerlabWindow {
  layerlab?: { terminal: { readText(): string; typeCommand(command: string): void } };
}

let course: StartedCourse;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function terminalText(target: Page = page): Promise<string> {
  return await target.evaluate(() => (window as unknown as LayerlabWindow).layerlab?.terminal.readText() ?? '');
}

async function waitForTerminalText(text: string, target: Page = page, timeout = 60_000): Promise<void> {
  await target.waitForFunction((wanted) => (window as unknown as LayerlabWindow).layerlab?.terminal.readText().includes(wanted) === true, text, {
    timeout,
    polling: 100,
  });
}

beforeAll(async () => {
  // Build the site once for this file into a folder of its own (another build of site/dist
  // may run at the same time), then start the runner on it.
  siteDir = await mkdtemp(path.join(os.tmpdir(), 'll-e2e-site-'));
  await execFileAsync(process.execPath, [path.join(projectRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', 'site', '--outDir', siteDir], {
    cwd: projectRoot,
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  // These tests follow a learner from "not complete" to "complete"; other files may already
  // have passed lesson 7 with `course check` in this shared sandbox, which records progress.
  await rm(progressFilePath(instanceFor(inject('sandboxEnv')).dataDir), { force: true });
  course = await startCourse({ ...inject('sandboxEnv'), LAYERLAB_SITE_DIR: siteDir });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: course.origin });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  if (course) expect(await course.stop()).toBe(0);
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

describe('lesson 7 with the runner', () => {
  it('opens lesson 7 from the printed link', async () => {
    await page.goto(course.url);
    await page.goto(`${course.origin}${lessonPath}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Multi-stage builds');
    await page.waitForSelector('[data-terminal-panel][data-state="connected"]');
    await waitForTerminalText('sandbox');
  });

  it('runs what is typed in the terminal and shows its output in the terminal buffer', async () => {
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('echo "typed-$((6*7))"; stty size\n');
    await waitForTerminalText('typed-42');
    const text = await terminalText();
    const [rows, cols] = /(\d+) (\d+)\n/.exec(text.slice(text.indexOf('typed-42')))!.slice(1).map(Number);
    const terminal = await page.evaluate(() => {
      const term = (window as unknown as { layerlab: { terminal: { terminal: { rows: number; cols: number } } } }).layerlab.terminal.terminal;
      return { rows: term.rows, cols: term.cols };
    });
    expect({ rows, cols }).toEqual(terminal);
  });

  it('resizes the shell when the split between text and terminal moves', async () => {
    const size = () =>
      page.evaluate(() => {
        const term = (window as unknown as { layerlab: { terminal: { terminal: { rows: number; cols: number } } } }).layerlab.terminal.terminal;
        return { rows: term.rows, cols: term.cols };
      });
    const before = await size();
    await page.locator('[data-splitter]').focus();
    for (let step = 0; step < 3; step++) await page.keyboard.press('ArrowLeft');
    await page.waitForFunction((cols) => (window as unknown as { layerlab: { terminal: { terminal: { cols: number } } } }).layerlab.terminal.terminal.cols > cols, before.cols);
    const after = await size();
    await page.locator('[data-terminal-host]').click();
    // The docker CLI passes the new size on a moment later: wait for it in the shell.
    await page.keyboard.type(`for i in $(seq 100); do [ "$(stty size)" = "${after.rows} ${after.cols}" ] && break; sleep 0.1; done; echo "now $(stty size)"\n`);
    await waitForTerminalText(`now ${after.rows} ${after.cols}`);
  });

  it('types a lesson command into the terminal with its Run button', async () => {
    const block = page.locator('.code-block', { hasText: 'mkdir -p ~/greeter' }).first();
    await block.getByRole('button', { name: 'Type this command into the terminal' }).click();
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('pwd\n');
    await waitForTerminalText('/root/greeter');
  });

  it('copies with Ctrl+Shift+C and pastes with Ctrl+Shift+V', async () => {
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('echo copy-me-$((20+3))\n');
    await waitForTerminalText('copy-me-23');
    await page.evaluate(() => {
      const term = (window as unknown as { layerlab: { terminal: { terminal: { selectAll(): void } } } }).layerlab.terminal.terminal;
      term.selectAll();
    });
    await page.keyboard.press('Control+Shift+C');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain('copy-me-23');

    await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((40+2))'));
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitForTerminalText('pasted-42');
  });

  it('survives a flood: the page stays responsive and keeps only its scrollback', async () => {
    const scrollback = 5000;
    const lineCount = () => page.evaluate(() => (window as unknown as LayerlabWindow).layerlab?.terminal.readText().split('\n').length ?? 0);
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('yes flood-line\n');
    // Wait until the flood has filled the scrollback; it goes on until Ctrl-C arrives.
    await page.waitForFunction(
      (lines) => ((window as unknown as LayerlabWindow).layerlab?.terminal.readText().match(/flood-line/g) ?? []).length >= lines,
      scrollback,
      { timeout: 60_000, polling: 100 },
    );
    await page.keyboard.press('Control+C');
    await page.keyboard.type('echo "after-flood-$((9*9))"\n');
    await waitForTerminalText('after-flood-81');
    // However long the flood ran, the terminal holds its scrollback and one screen (a 900 px
    // high window shows far fewer than 200 rows), no more.
    expect(await lineCount()).toBeLessThanOrEqual(scrollback + 200);
  });

  it('shows failures with hints when Check runs on an image not built yet', async () => {
    // The image may exist from another test file in this shared sandbox; this test needs it gone.
    const nested = await connectNestedEngine(instanceFor(inject('sandboxEnv')));
    await nested.docker
      .getImage('lesson-7')
      .remove({ force: true })
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });

    // Record what the status line and the button go through: on a missing image the check
    // takes a fraction of a second, too short to catch by polling. Several updates can land
    // before one observer callback, so read each record (every text set is a new text node,
    // and aria-busy changes keep their old value) rather than the element's text at callback time.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { checkLog: string[] }).checkLog = seen;
      const status = document.querySelector('[data-check-status]')!;
      new MutationObserver((records) => {
        for (const record of records) {
          if (record.type === 'childList' && status.contains(record.target)) {
            record.addedNodes.forEach((node) => seen.push(`status: ${node.textContent}`));
          } else if (record.type === 'characterData' && status.contains(record.target)) {
            seen.push(`status: ${record.target.textContent}`);
          } else if (record.type === 'attributes' && record.attributeName === 'aria-busy') {
            const isBusyNow = (record.target as Element).getAttribute('aria-busy') === 'true';
            if (isBusyNow || record.oldValue === 'true') seen.push('busy');
          }
        }
      }).observe(document.querySelector('[data-check-panel]')!, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
        attributeOldValue: true,
      });
    });
    const button = page.getByRole('button', { name: /Check my image|Check again/ });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-check-results]:not([hidden])', { timeout: 120_000 });
    const log = await page.evaluate(() => (window as unknown as { checkLog: string[] }).checkLog);
    expect(log).toContain('busy');
    expect(log).toContain('status: Looking for the image lesson-7…');
    const status = page.getByRole('status').filter({ hasText: 'Check finished' });
    await expect(status.textContent()).resolves.toMatch(/Check finished: 0 of \d+ required checks? pass/);
    // Each phase is listed with the time it took.
    await expect(page.locator('[data-check-phases]').textContent()).resolves.toMatch(/Looking for the image lesson-7\d+\.\d s/);
    const failed = page.locator('[data-check-list] li.is-fail');
    await expect(failed.first().textContent()).resolves.toContain('The image lesson-7 exists');
    await expect(failed.first().locator('.check-hint').textContent()).resolves.toContain('docker build -t lesson-7');
    await expect(page.locator('[data-lesson-status]').textContent()).resolves.toBe('Checked, not passing yet');
  });

  it('builds the solution through the terminal, then Check passes and draws the layers', async () => {
    const dockerfile = await readFile(path.join(projectRoot, 'exercises', 'lesson-7', 'solution', 'Dockerfile'), 'utf8');
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('cd ~/exercises/lesson-7\n');
    await page.keyboard.type(`cat > Dockerfile <<'END_OF_DOCKERFILE'\n${dockerfile.trimEnd()}\nEND_OF_DOCKERFILE\n`);
    await page.keyboard.type('docker build -q -t lesson-7 . && echo "built-$((50+5))"\n');
    await waitForTerminalText('built-55', page, 300_000);

    await page.getByRole('button', { name: /Check again/ }).click();
    await page.waitForFunction(() => document.querySelector('[data-check-status]')?.textContent?.includes('Lesson complete'), null, { timeout: 120_000 });
    await expect(page.locator('[data-check-summary]').textContent()).resolves.toMatch(/^(\d+) of \1 required checks pass( · \d+ (piece|pieces) of advice)?$/);
    await expect(page.locator('[data-lesson-status]').textContent()).resolves.toBe('Complete');
    expect(await page.locator('[data-layer-bar] .segment').count()).toBeGreaterThan(0);
    await expect(page.locator('[data-layer-legend]').textContent()).resolves.toContain('COPY');
    await page.locator('[data-check-panel]').screenshot({ path: '/tmp/layerlab-e2e-check-passed.png' });
  }, 420_000);

  it('after a reload shows the lesson complete and reattaches to the same shell without repeating output', async () => {
    await page.reload();
    await page.waitForSelector('[data-terminal-panel][data-state="connected"]');
    await page.waitForFunction(() => document.querySelector('[data-lesson-status]')?.textContent === 'Complete');
    await waitForTerminalText('built-55');
    const text = await terminalText();
    expect(text.split('built-55').length - 1).toBe(1);
    await page.locator('[data-terminal-host]').click();
    await page.keyboard.type('pwd\n');
    await waitForTerminalText('/root/exercises/lesson-7');
    await page.screenshot({ path: '/tmp/layerlab-e2e-lesson-7.png' });

    await page.goto(`${course.origin}/`);
    await page.waitForFunction(() => document.querySelector('[data-lesson-id="lesson-7"] [data-lesson-status]')?.textContent === 'Complete');
  });

  it('course list shows the lesson complete in a plain terminal', async () => {
    const result = await runCourse(['list'], { ...inject('sandboxEnv'), LAYERLAB_SITE_DIR: siteDir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/✓ lesson-7\s+Multi-stage builds\s+complete/);
  });

  it('answers a browser without the token with 401', async () => {
    const stranger = await browser.newContext();
    const response = await (await stranger.newPage()).goto(`${course.origin}${lessonPath}`);
    expect(response!.status()).toBe(401);
    await stranger.close();
  });

  it('refuses a terminal WebSocket opened by a page of another origin, even with the token', async () => {
    const foreign = http.createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const foreignPage = await context.newPage();
    try {
      await foreignPage.goto(`http://localhost:${(foreign.address() as AddressInfo).port}/`);
      const outcome = await foreignPage.evaluate(
        (target) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(target);
            socket.onopen = () => resolve('opened');
            socket.onclose = (event) => resolve(`closed ${event.code}`);
          }),
        `${course.origin.replace('http:', 'ws:')}/api/terminal?token=${course.token}`,
      );
      expect(outcome).toBe('closed 1006');
    } finally {
      await foreignPage.close();
      foreign.close();
    }
  });

  it('raised no script errors on the way', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the static build, with no runner', () => {
  it('renders lesson 7 readably, says how to start a runner, and gives Check as a command', async () => {
    const server = http.createServer(async (request, response) => {
      const pathname = new URL(request.url!, 'http://x').pathname;
      const file = path.join(siteDir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
      try {
        const body = await readFile(file);
        const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
        response.writeHead(200, { 'Content-Type': type });
        response.end(body);
      } catch {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const staticPage = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    staticPage.on('pageerror', (error) => errors.push(error.message));
    try {
      await staticPage.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}${lessonPath}`);
      await expect(staticPage.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Multi-stage builds');
      await staticPage.waitForSelector('[data-terminal-offline]:not([hidden])');
      await expect(staticPage.locator('[data-terminal-offline]').textContent()).resolves.toContain('course start');
      expect(await staticPage.locator('.prose p').count()).toBeGreaterThan(10);
      expect(await staticPage.locator('.code-block').count()).toBeGreaterThan(5);
      await staticPage.getByRole('button', { name: /Check my image/ }).click();
      await staticPage.waitForSelector('[data-check-offline]:not([hidden])');
      await expect(staticPage.locator('[data-check-offline]').textContent()).resolves.toContain('course check lesson-7');
      await staticPage.screenshot({ path: '/tmp/layerlab-e2e-static.png' });
      expect(errors).toEqual([]);
    } finally {
      await staticPage.close();
      server.close();
    }
  });
});
