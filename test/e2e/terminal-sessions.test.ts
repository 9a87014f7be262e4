/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { pasteRandomText } from '../support/page-paste.js';

/**
 * The page's terminal against the real `course start`, in headless Chromium: a 10 MB paste
 * arrives whole (flow control end to end), a dropped connection comes back to the same
 * shell, and a runner restarted with a new link is explained rather than retried forever.
 */
const execFileAsync = promisify(execFile);
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
let course: StartedCourse;
let browser: Browser;

beforeAll(async () => {
  course = await startCourse(inject('sandboxEnv'));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
});

afterAll(async () => {
  await browser?.close();
  await course?.stop();
});

interface PageTerminal {
  terminal: { paste(text: string): void };
  typeCommand(command: string): void;
  readText(): string;
}
type PageWindow = Window & { layerlab?: { terminal: PageTerminal }; seenStates?: string[] };

/** Opens lesson 1 through the link and waits for the shell's prompt. */
async function openTerminalPage(link: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(link);
  await page.goto(`${new URL(link).origin}/lessons/lesson-1/`);
  await page.waitForFunction(() => /[#$] ?$/.test((window as PageWindow).layerlab?.terminal.readText().trimEnd() ?? ''), null, { timeout: 60_000 });
  // Every state the connection badge shows from now on, however briefly.
  await page.evaluate(() => {
    const panel = document.querySelector<HTMLElement>('[data-terminal-panel]')!;
    const seen: string[] = [];
    (window as PageWindow).seenStates = seen;
    new MutationObserver(() => seen.push(`${panel.dataset.state}: ${panel.querySelector('[data-connection-text]')?.textContent}`)).observe(panel, { attributes: true, attributeFilter: ['data-state'] });
  });
  return page;
}

async function typeAndWait(page: Page, command: string, expected: string, timeout = 30_000): Promise<void> {
  await page.evaluate((line) => (window as PageWindow).layerlab!.terminal.typeCommand(line), command);
  await page.waitForFunction((text) => (window as PageWindow).layerlab!.terminal.readText().includes(text), expected, { timeout });
}

/** Cuts every established TCP connection to the runner's port, both ends, as a network drop would. */
async function dropConnections(port: number): Promise<void> {
  await execFileAsync('ss', ['-K', 'state', 'established', `( sport = :${port} or dport = :${port} )`]);
}

describe('the page\'s terminal', () => {
  it('takes a 10 MB paste whole, in flow-controlled chunks, and the runner stays up', async () => {
    const page = await openTerminalPage(course.url);
    try {
      const size = 10 * 1024 * 1024;
      // Raw mode: no line limit, no echo, every byte as pasted reaches `head`.
      await typeAndWait(page, `stty raw -echo opost; echo "ready-$((6*7))"; head -c ${size} | sha256sum | cut -d' ' -f1; echo "pasted-$((6*11))"; stty sane`, 'ready-42');
      const { expected, startedAt } = await pasteRandomText(page, size);
      const seconds = await page.waitForFunction(
        (start) => ((window as PageWindow).layerlab!.terminal.readText().includes('pasted-66') ? (performance.now() - start) / 1000 : false),
        startedAt,
        { timeout: 120_000, polling: 100 },
      );
      const text = await page.evaluate(() => (window as PageWindow).layerlab!.terminal.readText());
      expect(/([0-9a-f]{64})\s+pasted-66/.exec(text)?.[1]).toBe(expected);
      console.log(`10 MB paste arrived whole in ${(await seconds.jsonValue() as number).toFixed(1)} s`);
      expect(course.child.exitCode).toBe(null);
      // Still the same socket and shell, and it answers.
      expect(await page.evaluate(() => (window as PageWindow).seenStates)).toEqual([]);
      await typeAndWait(page, 'echo "after-$((40+2))"', 'after-42');
    } finally {
      await page.close();
    }
  });

  it('reconnects after a dropped connection, says so, and comes back to the same shell', async () => {
    const page = await openTerminalPage(course.url);
    try {
      await typeAndWait(page, 'KEPT="kept-$((6*7))"; echo "set-$((6*7))"', 'set-42');
      await dropConnections(Number(new URL(course.origin).port));
      await page.waitForFunction(() => (window as PageWindow).seenStates!.some((state) => state.startsWith('connected')), null, { timeout: 30_000 });
      const states = await page.evaluate(() => (window as PageWindow).seenStates!);
      expect(states).toContain('reconnecting: Reconnecting…');
      // The same shell: its variable is still set, and no "new shell" notice was drawn.
      await typeAndWait(page, 'echo "back-$KEPT"', 'back-kept-42');
      expect(await page.evaluate(() => (window as PageWindow).layerlab!.terminal.readText())).not.toContain('a new shell');
      expect(course.child.exitCode).toBe(null);
    } finally {
      await page.close();
    }
  });

  it('after a restart of the runner, says the page\'s link is out of date instead of retrying forever', async () => {
    const page = await openTerminalPage(course.url);
    try {
      // Stopped, then started again on the same port: the page's token is the old one.
      const port = new URL(course.origin).port;
      // Ctrl-C ends at once although this page reconnects while the server stops.
      expect(await course.stop()).toBe(0);
      course = await startCourse(inject('sandboxEnv'), ['--port', port]);
      const problem = page.locator('[data-terminal-problem]');
      await problem.waitFor({ state: 'visible', timeout: 30_000 });
      await page.waitForFunction(() => document.querySelector('[data-terminal-panel]')?.getAttribute('data-state') === 'failed', null, { timeout: 30_000 });
      expect(await problem.textContent()).toContain('link is from an earlier `course start`');
      // The new link works in the same tab.
      const fresh = await openTerminalPage(course.url);
      await typeAndWait(fresh, 'echo "fresh-$((40+2))"', 'fresh-42');
      await fresh.close();
    } finally {
      await page.close();
    }
  });
});
