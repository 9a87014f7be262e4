import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startCourse } from '../support/course-server-process.js';
import { TerminalClient } from '../support/terminal-client.js';
import type { BenchResult, BenchSuite } from './types.js';

const keystrokes = 400;

/**
 * The web side: the JavaScript the lesson 7 page loads as the runner sends it over the wire
 * (every script, the terminal's chunk included, asked for as a browser does, with
 * Accept-Encoding; kB as sent, compressed or not), a keystroke's round trip (WebSocket →
 * node-pty → docker exec → the sandbox's shell and back, from a client on loopback), the time from
 * page load to the first shell prompt (Chromium), and the runner's memory when idle.
 */
export const siteBench: BenchSuite = {
  name: 'site',
  async run({ sandboxEnv, log }) {
    const results: BenchResult[] = [];

    // The first start also creates the sandbox and loads its images.
    const course = await startCourse(sandboxEnv);
    try {
      const wire = await lessonPageJsWireBytes(course.origin, course.token, '/lessons/lesson-7/');
      results.push({ name: 'lesson-page-js-kb', value: round(wire.bytes / 1000), unit: 'kB' });
      log(`lesson 7 page: ${wire.scripts} scripts, ${(wire.bytes / 1000).toFixed(1)} kB over the wire (${(wire.decodedBytes / 1000).toFixed(1)} kB decoded)`);
      const firstPromptMs = await measureFirstPrompt(course.url, course.origin, log);
      results.push({ name: 'first-prompt-ms', value: round(firstPromptMs), unit: 'ms' });

      const client = await TerminalClient.open(course.origin, course.token);
      await client.attach({ cols: 120, rows: 40 });
      await client.waitForText('sandbox');
      const atPrompt = () => /# $/.test(client.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''));
      await client.waitFor(atPrompt);
      // The new size reaches the shell a moment after attaching, and readline redraws the
      // line when it does: wait until the shell has it, then time on a fresh prompt.
      client.type('for i in $(seq 100); do [ "$(stty size)" = "40 120" ] && break; sleep 0.1; done; echo "size-ready-$((6*7))"\r');
      await client.waitForText('size-ready-42');
      await client.waitFor(atPrompt);
      const samples: number[] = [];
      const lineLength = 50;
      for (let index = 0; index < keystrokes; index++) {
        if (index % lineLength === 0 && index > 0) {
          // Run the line of x's (not found) so it never wraps; wait for the next prompt, so
          // no part of that output is taken for the next echo.
          const textBefore = client.text().length;
          client.type('\r');
          await client.waitFor(() => client.text().indexOf(`${'x'.repeat(lineLength)}: command not found`, textBefore) !== -1 && atPrompt());
        }
        const before = client.output.length;
        const started = performance.now();
        client.type('x');
        await client.waitFor(() => client.output.length > before);
        samples.push(performance.now() - started);
        // The sample counts only if what came back is the echo itself, nothing else.
        const echoed = Buffer.concat(client.output.slice(before)).toString('utf8');
        if (echoed !== 'x') throw new Error(`echo bench refused: typing "x" brought back ${JSON.stringify(echoed)}, not the echo alone`);
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

/**
 * Every script the page loads, followed through static and dynamic imports, fetched from the
 * runner as a browser would and counted as the bytes that crossed the socket.
 */
async function lessonPageJsWireBytes(origin: string, token: string, pagePath: string): Promise<{ bytes: number; decodedBytes: number; scripts: number }> {
  const html = (await fetchRaw(origin, token, pagePath)).decoded.toString('utf8');
  const seen = new Set<string>();
  let bytes = 0;
  let decodedBytes = 0;
  const inline = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]!).filter((body) => body.trim());
  for (const body of inline) bytes += Buffer.byteLength(body); // part of the page; counted as script
  const queue = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"/g)].map((match) => match[1]!);
  for (const body of inline) queue.push(...referencedScripts(body, '/'));
  while (queue.length) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    const response = await fetchRaw(origin, token, url);
    bytes += response.wireBytes;
    decodedBytes += response.decoded.length;
    queue.push(...referencedScripts(response.decoded.toString('utf8'), path.posix.dirname(url)));
  }
  if (seen.size === 0) throw new Error(`lesson-page-js-kb refused: ${pagePath} loads no script`);
  return { bytes, decodedBytes, scripts: seen.size };
}

/** GETs a path with the browser's Accept-Encoding; the body as sent and decoded. */
async function fetchRaw(origin: string, token: string, urlPath: string): Promise<{ wireBytes: number; decoded: Buffer }> {
  return await new Promise((resolve, reject) => {
    const request = http.get(new URL(urlPath, origin), { headers: { Authorization: `Bearer ${token}`, 'Accept-Encoding': 'gzip, deflate, br' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`lesson-page-js-kb refused: ${urlPath} answered HTTP ${response.statusCode}`));
        const raw = Buffer.concat(chunks);
        const encoding = response.headers['content-encoding'];
        try {
          const decoded = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'br' ? brotliDecompressSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
          resolve({ wireBytes: raw.length, decoded });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('error', reject);
  });
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

/**
 * Lesson 7 in headless Chromium through the runner: the time from the start of navigation to
 * the first shell prompt drawn in the terminal, the median of five fresh page loads (each
 * with a new shell: the tab's session is cleared first).
 */
async function measureFirstPrompt(link: string, origin: string, log: (line: string) => void): Promise<number> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(link);
    const prompts: number[] = [];
    for (let load = 0; load < 5; load++) {
      await page.evaluate(() => sessionStorage.clear());
      await page.goto(`${origin}/lessons/lesson-7/`, { waitUntil: 'commit' });
      const promptAt = await page.waitForFunction(
        () => {
          const view = (window as unknown as { layerlab?: { terminal: { readText(): string } } }).layerlab?.terminal;
          return view && /[#$] ?$/.test(view.readText().trimEnd()) ? performance.now() : false;
        },
        null,
        { polling: 'raf', timeout: 60_000 },
      );
      prompts.push((await promptAt.jsonValue()) as number);
      await page.waitForLoadState('networkidle');
    }
    prompts.sort((a, b) => a - b);
    log(`first prompt after ${prompts.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    return percentile(prompts, 0.5);
  } finally {
    await browser.close();
  }
}
