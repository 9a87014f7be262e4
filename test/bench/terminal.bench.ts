import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { instanceFor } from '../support/sandbox-env.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { TerminalClient } from '../support/terminal-client.js';
import type { BenchResult, BenchSuite } from './types.js';
import { pasteRandomText } from '../support/page-paste.js';
import { processesOfRunner } from '../support/terminal-processes.js';

const execFileAsync = promisify(execFile);
const pasteBytes = 10 * 1024 * 1024;
const terminalCount = 50;

/**
 * The terminal under load, through the real `course start`:
 * - paste-10mb-s: a 10 MB paste into the page's terminal (headless Chromium, xterm's own
 *   paste) until `head -c` in the sandbox has read every byte, median of 3; a run counts only
 *   if the sha256 the sandbox computed is the page's.
 * - runner-50-terminals-host-mb: the resident memory on this machine of the runner and
 *   every process under it, with 50 terminals open (each at a prompt that answered); refused
 *   unless the sandbox holds 50 shells of that runner.
 */
export const terminalBench: BenchSuite = {
  name: 'terminal',
  async run({ sandboxEnv, log }) {
    const results: BenchResult[] = [];
    const course = await startCourse(sandboxEnv);
    try {
      const seconds = await measurePastes(course, log);
      results.push({ name: 'paste-10mb-s', value: round(seconds), unit: 's' });
      const megabytes = await measureFiftyTerminals(course, sandboxEnv, log);
      results.push({ name: 'runner-50-terminals-host-mb', value: round(megabytes), unit: 'MB' });
    } finally {
      await course.stop();
    }
    return results;
  },
};

async function measurePastes(course: StartedCourse, log: (line: string) => void): Promise<number> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(course.url);
    await page.goto(`${course.origin}/lessons/lesson-1/`);
    type PageWindow = Window & { layerlab?: { terminal: { readText(): string; typeCommand(line: string): void; terminal: { paste(text: string): void } } } };
    const readText = () => page.evaluate(() => (window as PageWindow).layerlab?.terminal.readText() ?? '');
    await page.waitForFunction(() => /[#$] ?$/.test((window as PageWindow).layerlab?.terminal.readText().trimEnd() ?? ''), null, { timeout: 60_000 });
    const samples: number[] = [];
    for (let run = 1; run <= 3; run++) {
      await page.evaluate(
        ({ bytes, run }) => (window as PageWindow).layerlab!.terminal.typeCommand(`clear; stty raw -echo opost; echo "ready-$((${run}*7))"; head -c ${bytes} | sha256sum | cut -d' ' -f1; echo "pasted-$((${run}*11))"; stty sane`),
        { bytes: pasteBytes, run },
      );
      await page.waitForFunction((marker) => (window as PageWindow).layerlab!.terminal.readText().includes(marker), `ready-${run * 7}`);
      const { expected, startedAt } = await pasteRandomText(page, pasteBytes);
      const finishedAt = await page
        .waitForFunction((marker) => ((window as PageWindow).layerlab!.terminal.readText().includes(marker) ? performance.now() : false), `pasted-${run * 11}`, {
          timeout: 120_000,
          polling: 'raf',
        })
        .catch(async (error: unknown) => {
          throw new Error(`paste bench refused: no sha256 from the sandbox (${String(error)}); the terminal ends with ${JSON.stringify((await readText()).trimEnd().slice(-300))}`);
        });
      const seconds = ((await finishedAt.jsonValue()) as number - startedAt) / 1000;
      const got = new RegExp(`([0-9a-f]{64})\\s+pasted-${run * 11}`).exec(await readText())?.[1];
      if (got !== expected) throw new Error(`paste bench refused: the sandbox read a paste with sha256 ${got ?? '(none)'}, the page pasted ${expected}`);
      if (course.child.exitCode !== null) throw new Error('paste bench refused: the runner exited during the paste');
      samples.push(seconds);
      log(`10 MB paste ${run}: ${seconds.toFixed(2)} s, sha256 matches`);
    }
    samples.sort((a, b) => a - b);
    return samples[1]!;
  } finally {
    await browser.close();
  }
}

export async function measureFiftyTerminals(course: StartedCourse, sandboxEnv: Record<string, string>, log: (line: string) => void): Promise<number> {
  const clients: TerminalClient[] = [];
  try {
    for (let index = 0; index < terminalCount; index++) {
      const client = await TerminalClient.open(course.origin, course.token);
      clients.push(client);
      await client.attach();
      client.type(`echo "ready-$((${index}+1000))"\r`);
      await client.waitForText(`ready-${index + 1000}`);
    }
    // Every shell runs in the sandbox, as that runner's.
    const container = instanceFor(sandboxEnv).containerName;
    const runnerPid = course.child.pid!;
    const pids = await processesOfRunner(instanceFor(sandboxEnv), `${runnerPid}.`);
    const { stdout } = await execFileAsync('docker', ['exec', container, 'sh', '-c', `for p in ${pids.join(' ')}; do [ "$(cat /proc/$p/comm 2>/dev/null)" = bash ] && echo; done | wc -l`]);
    const shells = Number(stdout.trim());
    if (shells < terminalCount) throw new Error(`terminal memory bench refused: the sandbox holds ${shells} course shells, not ${terminalCount}`);
    // A moment for start-up garbage, then the runner and everything under it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const tree = await processTree(runnerPid);
    let bytes = 0;
    for (const pid of tree) bytes += await residentBytes(pid);
    log(`${terminalCount} terminals open: ${tree.length} processes on this machine (the runner and ${tree.length - 1} under it), ${(bytes / 1e6).toFixed(1)} MB resident`);
    return bytes / 1e6;
  } finally {
    for (const client of clients) {
      client.type('exit\r');
      await client.close();
    }
  }
}

/** `pid` and every process descended from it, from /proc. */
async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The parent id is the second field after the command name, which may hold spaces.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (stat) parents.set(Number(entry), parent);
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child);
  }
  return tree;
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
