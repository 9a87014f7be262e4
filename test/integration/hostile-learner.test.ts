import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveSiteDir } from '../../runner/src/course-catalog.js';
import { connectEngine, connectSocket } from '../../runner/src/engine.js';
import { gradeAndRecord } from '../../runner/src/grade-and-record.js';
import { startCourseServer, type CourseServer } from '../../runner/src/server/index.js';
import { closeCodes } from '../../runner/src/terminal/protocol.js';
import { ownRunnerTag } from '../../runner/src/terminal/sandbox-processes.js';
import { connectNestedEngine, ensureEngineId, expectedEngineId } from '../../runner/src/sandbox/nested-engine.js';
import type { Instance } from '../../runner/src/settings.js';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { RawWebSocket } from '../support/raw-websocket.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { processesOfRunner as terminalProcessesOfRunner, processesOfSession as terminalProcessesOfSession } from '../support/terminal-processes.js';
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

/**
 * The processes in the cgroups of the terminals of runners whose tag starts with `prefix`,
 * as the sandbox's own root lists them (layerlab-terminals): the count the issue measured.
 */
const processesOfRunner = (prefix: string) => terminalProcessesOfRunner(instance, prefix);
const processesOfSession = (sessionId: string) => terminalProcessesOfSession(instance, sessionId);

/**
 * Every process in the sandbox whose command line is exactly `commandLine`, found by its
 * command, not by any cgroup or tag: what a learner would still see running.
 */
async function processesRunning(commandLine: string): Promise<string[]> {
  const { stdout } = await execFileAsync('docker', ['exec', instance.containerName, 'sh', '-c', `pgrep -fx '${commandLine}'; true`]);
  return stdout.split('\n').filter(Boolean);
}

/** Polls until `condition` holds or `timeoutMs` passes; resolves with its last value. */
async function eventually<T>(read: () => Promise<T>, condition: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (condition(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}

/** A course server in this process, so a test can choose its cap and shell lifetime. */
async function startInProcessServer(options: { maxTerminals?: number; detachedShellLifetimeMs?: number }): Promise<{ server: CourseServer; origin: string; token: string }> {
  const token = randomBytes(24).toString('base64url');
  const server = await startCourseServer({
    instance,
    engine: await connectEngine(),
    siteDir: resolveSiteDir(),
    token,
    port: 0,
    runCheck: (exercise, report, signal) => gradeAndRecord({ exercise, instance, signal, report }),
    ...options,
  });
  return { server, origin: `http://127.0.0.1:${server.port}`, token };
}

describe('terminal sessions', () => {
  it('kill -9 of the runner, then a restart, leaves no orphaned shell or background job; live runners keep theirs', async () => {
    // A shell of the suite's runner, which is alive all along: the restart must leave it be.
    const survivor = await TerminalClient.open(course.origin, course.token);
    await survivor.attach();
    survivor.type('echo "alive-$((40+2))"\r');
    await survivor.waitForText('alive-42');

    const doomed = await startCourse(inject('sandboxEnv'));
    // Stopped even when an assertion fails before the test kills it (stop is idempotent).
    onTestFinished(() => doomed.stop().then(() => undefined));
    const doomedPid = doomed.child.pid!;
    const clients: TerminalClient[] = [];
    for (let index = 0; index < 3; index++) {
      const client = await TerminalClient.open(doomed.origin, doomed.token);
      await client.attach();
      client.type(`sleep 1000 & echo "job-$((${index}+40))"\r`);
      await client.waitForText(`job-${index + 40}`);
      clients.push(client);
    }
    // One more, started with an empty environment in a session of its own: no tag a
    // learner can change or drop may decide whether it is found.
    clients[0]!.type('env -i setsid nohup sleep 1717 >/dev/null 2>&1 & echo "hidden-$((40+4))"\r');
    await clients[0]!.waitForText('hidden-44');
    expect(await eventually(() => processesRunning('sleep 1717'), (pids) => pids.length === 1, 10_000)).toHaveLength(1);
    // Three shells, four background jobs (and nothing else of that runner's).
    const before = await eventually(() => processesOfRunner(`${doomedPid}.`), (pids) => pids.length === 7, 10_000);
    expect(before.length).toBe(7);

    doomed.child.kill('SIGKILL');
    await doomed.stop();
    await sleep(1000);
    // Nothing in the sandbox notices a dead client: they stay until a runner reaps them.
    expect(await processesOfRunner(`${doomedPid}.`)).toEqual(before);

    const restarted = await startCourse(inject('sandboxEnv'));
    try {
      // The restarted runner reaps before it prints its link.
      expect(await processesOfRunner(`${doomedPid}.`)).toEqual([]);
      expect(await processesRunning('sleep 1717')).toEqual([]);
      expect(await processesRunning('sleep 1000')).toEqual([]);
      expect(restarted.stdout()).toContain('Ended 7 processes left in the sandbox\'s terminals');
      survivor.type('echo "still-$((40+3))"\r');
      await survivor.waitForText('still-43');
    } finally {
      await survivor.close();
      await restarted.stop();
    }
  });

  it('closing a terminal ends everything it started, even with its environment emptied; its shell cannot leave its cgroup', async () => {
    const { server, origin, token } = await startInProcessServer({ detachedShellLifetimeMs: 500 });
    try {
      const client = await TerminalClient.open(origin, token);
      await client.attach();
      const sessionId = (client.control[0] as { sessionId: string }).sessionId;
      client.type('env -i setsid nohup sleep 1718 >/dev/null 2>&1 & env -u LAYERLAB_TERMINAL sh -c \'trap "" HUP; exec sleep 1719\' & echo "started-$((40+5))"\r');
      await client.waitForText('started-45');
      // Moving itself out of its cgroup (to the shells' own, or the sandbox's) is refused: the cgroup files are read-only here.
      client.type('for d in /sys/fs/cgroup/pids/shells /sys/fs/cgroup/pids /sys/fs/cgroup/shells /sys/fs/cgroup; do [ -e $d/cgroup.procs ] && { echo $$ >$d/cgroup.procs && echo "moved-$((1+1)) $d"; }; done 2>/dev/null; echo "tried-$((40+6))"\r');
      await client.waitForText('tried-46');
      expect(client.text()).not.toContain('moved-2');
      expect(await eventually(() => processesRunning('sleep 1718'), (pids) => pids.length === 1, 10_000)).toHaveLength(1);
      expect(await eventually(() => processesRunning('sleep 1719'), (pids) => pids.length === 1, 10_000)).toHaveLength(1);
      // The shell and its two jobs.
      expect(await eventually(() => processesOfSession(sessionId), (pids) => pids.length === 3, 10_000)).toHaveLength(3);

      await client.close();
      expect(await eventually(() => processesOfSession(sessionId), (pids) => pids.length === 0, 30_000)).toEqual([]);
      expect(await processesRunning('sleep 1718')).toEqual([]);
      expect(await processesRunning('sleep 1719')).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('50 sockets opened and closed, at every moment of an attach, leave no shell behind', async () => {
    const { server, origin, token } = await startInProcessServer({ detachedShellLifetimeMs: 1000 });
    try {
      const rounds: Array<Promise<void>> = [];
      for (let index = 0; index < 50; index++) {
        rounds.push(
          (async () => {
            const client = await TerminalClient.open(origin, token);
            switch (index % 4) {
              case 0: // attach, then close while the shell is starting (0–50 ms in)
                client.send({ type: 'attach', cols: 80, rows: 24 });
                await sleep(index);
                client.socket.close();
                return;
              case 1: // attach, then the connection is cut without a close frame
                client.send({ type: 'attach', cols: 80, rows: 24 });
                await sleep(index);
                client.socket.terminate();
                return;
              case 2: // attached, then closed: the shell waits for a reload, then expires
                await client.attach();
                await client.close();
                return;
              default: // opened and closed without attaching
                await client.close();
            }
          })(),
        );
      }
      await Promise.all(rounds);
      const left = await eventually(() => processesOfRunner(ownRunnerTag), (pids) => pids.length === 0 && server.bridge.sessionCount === 0, 30_000);
      expect(left).toEqual([]);
      expect(server.bridge.sessionCount).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a terminal past the cap with a final close and what to do; a shell waiting for its page gives its place', async () => {
    const { server, origin, token } = await startInProcessServer({ maxTerminals: 3, detachedShellLifetimeMs: 60_000 });
    const clients: TerminalClient[] = [];
    try {
      for (let index = 0; index < 3; index++) {
        const client = await TerminalClient.open(origin, token);
        await client.attach();
        clients.push(client);
      }
      const refused = await TerminalClient.open(origin, token);
      await expect(refused.attach()).rejects.toThrow('attach failed');
      await refused.waitFor(() => refused.closeCode !== undefined);
      expect(refused.closeCode).toBe(closeCodes.tooManyTerminals);
      expect(refused.control).toEqual([
        { type: 'error', message: '3 terminals are already open, the most one course server runs at once.', nextStep: expect.stringContaining('exit') },
      ]);
      expect(server.bridge.sessionCount).toBe(3);

      // The first tab goes away; its shell waits for a reload, but a new terminal may have its place.
      const firstSession = (clients[0]!.control[0] as { sessionId: string }).sessionId;
      await clients[0]!.close();
      // The server hears of the close a moment after the client.
      await eventually(async () => server.bridge.attachedCount, (count) => count === 2, 10_000);
      const next = await TerminalClient.open(origin, token);
      clients.push(next);
      expect((await next.attach()).isNew).toBe(true);
      expect(server.bridge.sessionCount).toBe(3);
      // The shell that gave its place is ended; the three left are one process each once
      // the new one is past its wrapper's start (findmnt, mount), which is slow under load.
      expect(await eventually(() => processesOfSession(firstSession), (pids) => pids.length === 0, 30_000)).toEqual([]);
      expect(await eventually(() => processesOfRunner(ownRunnerTag), (pids) => pids.length === 3, 30_000)).toHaveLength(3);
      // That shell is gone: coming back to it gets a new one (which evicts nobody: all are attached).
      const late = await TerminalClient.open(origin, token);
      await expect(late.attach({ sessionId: firstSession })).rejects.toThrow('attach failed');
      await late.waitFor(() => late.closeCode !== undefined);
      expect(late.closeCode).toBe(closeCodes.tooManyTerminals);
    } finally {
      for (const client of clients) await client.close();
      await server.close();
    }
  });
});
