import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, connectSocket } from '../../runner/src/engine.js';
import { connectNestedEngine, ensureEngineId, expectedEngineId } from '../../runner/src/sandbox/nested-engine.js';
import type { Instance } from '../../runner/src/settings.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { RawWebSocket } from '../support/raw-websocket.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { TerminalClient } from '../support/terminal-client.js';

/**
 * What a hostile or careless learner can do to the runner and the sandbox, each probe
 * refused or survived. The runner is the real `course start`, in its own process, so a
 * probe that crashes it shows up as an exited process.
 */
const execFileAsync = promisify(execFile);
let course: StartedCourse;
let instance: Instance;

beforeAll(async () => {
  instance = instanceFor(inject('sandboxEnv'));
  course = await startCourse(inject('sandboxEnv'));
});

afterAll(async () => {
  await course?.stop();
});

async function expectRunnerAnswers(): Promise<void> {
  expect(course.child.exitCode).toBe(null);
  const client = await TerminalClient.open(course.origin, course.token);
  try {
    await client.attach();
    client.type('echo "still $((40+2))"\r');
    await client.waitForText('still 42');
  } finally {
    await client.close();
  }
}

describe('bad WebSocket frames', () => {
  const text = 0x1;
  const cases: Array<{ name: string; opcode: number; payload: () => Buffer; mask?: boolean; code: number }> = [
    { name: 'a 5 MB text frame', opcode: text, payload: () => Buffer.alloc(5 * 1024 * 1024, 'a'), code: 1009 },
    { name: 'invalid UTF-8 in a text frame', opcode: text, payload: () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 1007 },
    { name: 'an unmasked frame', opcode: text, payload: () => Buffer.from('{"type":"pause"}'), mask: false, code: 1002 },
    { name: 'reserved opcode 3', opcode: 0x3, payload: () => Buffer.from('x'), code: 1002 },
  ];
  for (const probe of cases) {
    it(`${probe.name} closes that socket with ${probe.code}; the runner keeps serving`, async () => {
      const raw = await RawWebSocket.open(course.origin, course.token);
      raw.sendFrame(probe.opcode, probe.payload(), { mask: probe.mask ?? true });
      expect(await raw.closeCode()).toBe(probe.code);
      await expectRunnerAnswers();
    });
  }

  it('a connection reset in the middle of a handshake or a frame leaves the runner up', async () => {
    const raw = await RawWebSocket.open(course.origin, course.token);
    raw.socket.write(Buffer.from([0x81, 0xfe, 0x10])); // the start of a frame header, then gone
    raw.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expectRunnerAnswers();
    expect(hasStackTrace(course.stderr())).toBe(false);
  });
});

describe('redirecting the runner to another engine', () => {
  it('cannot replace the socket from a learner\'s shell: its folder is read-only inside', async () => {
    const result = await execInSandbox(await connectEngine(), instance, 'ln -sf /var/run/docker.sock /run/layerlab/docker.sock || rm -f /run/layerlab/docker.sock');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Read-only file system/);
  });

  it('is refused when the socket has become a link to this machine\'s engine (as the sandbox\'s own root could make it)', async () => {
    // The sandbox's root can remount; it swaps the socket for a link, as the probe did.
    const sandboxRoot = (script: string) => execFileAsync('docker', ['exec', instance.containerName, 'sh', '-ec', script]);
    await sandboxRoot('cd /run/layerlab && mount -o remount,rw,bind /run/layerlab && mv docker.sock docker.sock.real && ln -s /var/run/docker.sock docker.sock');
    try {
      await expect(connectNestedEngine(instance)).rejects.toThrow(/not the sandbox's socket \(it is a link\)/);
      const status = await runCourse(['status', '--json'], inject('sandboxEnv'));
      expect((JSON.parse(status.stdout) as { nestedEngine: { isAnswering: boolean } }).nestedEngine.isAnswering).toBe(false);
      const check = await runCourse(['check', 'lesson-1'], inject('sandboxEnv'));
      expect(check.exitCode).toBe(3);
      expect(check.stderr).toContain('will not follow it');
      expect(hasStackTrace(check.stderr)).toBe(false);
    } finally {
      await sandboxRoot('cd /run/layerlab && rm -f docker.sock && mv docker.sock.real docker.sock && mount -o remount,ro,bind /run/layerlab');
    }
    await connectNestedEngine(instance);
  });

  it('refuses a real socket that leads to an engine without the sandbox\'s id', async () => {
    const hostEngine = await connectEngine();
    const expected = await expectedEngineId(hostEngine, instance);
    expect(expected).toMatch(/^[0-9a-f]{32}$/);
    const other = await connectSocket('/var/run/docker.sock', '');
    await expect(ensureEngineId(other, expected)).rejects.toThrow(/not this sandbox's own engine/);
    await ensureEngineId(await connectNestedEngine(instance, hostEngine), expected);
  });
});

describe('the token and other local web servers', () => {
  it('a second server on another loopback port never receives a usable token, while the course page works', async () => {
    // Another local web app the learner opens in the same browser: it records what it receives.
    const received: string[] = [];
    const other = http.createServer((request, response) => {
      received.push(request.headers.cookie ?? '', request.url ?? '');
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<!doctype html><title>other app</title><p>other</p>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(course.url);
      // The page reached the API with its token: the runner badge says the sandbox runs.
      await page.waitForSelector('[data-runner-status][data-state="ready"]', { timeout: 30_000 });
      expect(page.url()).not.toContain(course.token);
      await page.goto(`${otherOrigin}/`);
      expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain(course.token);
      expect(received.join('\n')).not.toContain(course.token);

      // Whatever it received (the page cookie) opens neither the API nor the terminal.
      const cookies = received.filter((value) => value.includes('='));
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) {
        for (const path of ['/api/status', '/api/progress']) {
          expect((await fetch(`${course.origin}${path}`, { headers: { Cookie: cookie } })).status).toBe(401);
        }
        await expect(TerminalClient.open(course.origin, 'unused', { cookie })).rejects.toThrow('HTTP 401');
      }
    } finally {
      await browser.close();
      other.close();
    }
  });
});
