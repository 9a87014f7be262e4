import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../../runner/src/project-root.js';
import { startCourse } from '../support/course-server-process.js';
import { TerminalClient } from '../support/terminal-client.js';
import type { BenchResult, BenchSuite } from './types.js';

const siteDir = path.join(projectRoot, 'site', 'dist');
const keystrokes = 400;

/**
 * The web side: a keystroke's round trip (WebSocket → node-pty → docker exec → the sandbox's
 * shell and back, from a client on loopback), the JavaScript the lesson 7 page loads
 * (gzipped, the terminal's chunk included), and the runner's memory when idle.
 */
export const siteBench: BenchSuite = {
  name: 'site',
  async run({ sandboxEnv, log }) {
    const results: BenchResult[] = [];
    const jsBytes = await lessonPageJsGzipBytes('/lessons/lesson-7/');
    results.push({ name: 'lesson-page-js-kb', value: round(jsBytes / 1024), unit: 'KiB' });
    log(`lesson 7 page: ${(jsBytes / 1024).toFixed(1)} KiB of gzipped JavaScript`);

    // The first start also creates the sandbox and loads its images.
    const course = await startCourse(sandboxEnv);
    try {
      const client = await TerminalClient.open(course.origin, course.token);
      await client.attach({ cols: 120, rows: 40 });
      await client.waitForText('sandbox');
      await client.waitFor(() => /# $/.test(client.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')));
      const samples: number[] = [];
      for (let index = 0; index < keystrokes; index++) {
        if (index % 50 === 0) {
          // Clear the line (Ctrl-U) so it never wraps; wait for the redraw before timing again.
          const before = client.outputBytes;
          client.type('\x15');
          if (index > 0) await client.waitFor(() => client.outputBytes > before);
        }
        const before = client.outputBytes;
        const started = performance.now();
        client.type('x');
        await client.waitFor(() => client.outputBytes > before && Buffer.concat(client.output).subarray(before).includes('x'));
        samples.push(performance.now() - started);
      }
      client.type('\x15exit\r');
      await client.waitFor(() => client.closeCode !== undefined);
      samples.sort((a, b) => a - b);
      results.push({ name: 'echo-p50-ms', value: round(percentile(samples, 0.5)), unit: 'ms' });
      results.push({ name: 'echo-p99-ms', value: round(percentile(samples, 0.99)), unit: 'ms' });
      log(`echo over ${samples.length} keystrokes: p50 ${percentile(samples, 0.5).toFixed(2)} ms, p99 ${percentile(samples, 0.99).toFixed(2)} ms`);
    } finally {
      await course.stop();
    }

    // Idle as on any later day: the sandbox already running, the server up, nobody connected,
    // and a moment for start-up garbage to be collected.
    const idle = await startCourse(sandboxEnv);
    try {
      await sleep(3000);
      results.push({ name: 'runner-idle-rss-mb', value: round((await residentBytes(idle.child.pid!)) / 1e6), unit: 'MB' });
    } finally {
      await idle.stop();
    }
    return results;
  },
};

/** Every script the page loads, followed through static and dynamic imports, gzipped one by one. */
async function lessonPageJsGzipBytes(pagePath: string): Promise<number> {
  const html = await readFile(path.join(siteDir, pagePath, 'index.html'), 'utf8');
  const seen = new Set<string>();
  let total = 0;
  const inline = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]!).filter((body) => body.trim());
  for (const body of inline) total += gzipSync(body).length;
  const queue = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"/g)].map((match) => match[1]!);
  for (const body of inline) queue.push(...referencedScripts(body, '/'));
  while (queue.length) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    const text = await readFile(path.join(siteDir, url), 'utf8');
    total += gzipSync(text).length;
    queue.push(...referencedScripts(text, path.posix.dirname(url)));
  }
  return total;
}

function referencedScripts(code: string, fromDir: string): string[] {
  const found: string[] = [];
  for (const match of code.matchAll(/["'`]((?:\.{1,2}\/|\/_astro\/)[^"'`\s]+\.js)["'`]/g)) {
    const reference = match[1]!;
    found.push(reference.startsWith('/') ? reference : path.posix.join(fromDir, reference));
  }
  return found;
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
