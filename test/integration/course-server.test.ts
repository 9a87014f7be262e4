import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine } from '../../runner/src/engine.js';
import { gradeAndRecord } from '../../runner/src/grade-and-record.js';
import { startCourseServer, type CourseServer } from '../../runner/src/server/index.js';
import type { Instance } from '../../runner/src/settings.js';
import { closeCodes } from '../../runner/src/terminal/protocol.js';
import { buildSiteIntoTempFolder } from '../support/built-site.js';
import { listeningAddresses } from '../support/listening-sockets.js';
import { instanceFor } from '../support/sandbox-env.js';
import { TerminalClient } from '../support/terminal-client.js';
import { processesOfSession as terminalProcessesOfSession } from '../support/terminal-processes.js';

const execFileAsync = promisify(execFile);
const token = 'integration-test-token-0123456789';

let instance: Instance;
let server: CourseServer;
let siteDir: string;
let baseUrl: string;

beforeAll(async () => {
  instance = instanceFor(inject('sandboxEnv'));
  // The real site, as `course start` serves it.
  siteDir = await buildSiteIntoTempFolder();
  server = await startCourseServer({
    instance,
    engine: await connectEngine(),
    siteDir,
    token,
    port: 0,
    runCheck: (exercise, report, signal) => gradeAndRecord({ exercise, instance, signal, report }),
  });
  baseUrl = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

const processesOfSession = (sessionId: string) => terminalProcessesOfSession(instance, sessionId);

/** Runs a short script in the sandbox and returns what it prints, trimmed. */
async function inSandbox(script: string): Promise<string> {
  const { stdout } = await execFileAsync('docker', ['exec', instance.containerName, 'sh', '-c', script]);
  return stdout.trim();
}

const pollInterval = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('the course server', () => {
  it('listens on 127.0.0.1 only', async () => {
    // The kernel's socket table, not the URL the server prints: one listener, on loopback.
    expect(await listeningAddresses(server.port)).toEqual(['127.0.0.1']);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${token}`);
  });

  it('answers pages and API calls without the token with 401, and says where the link is', async () => {
    const page = await fetch(`${baseUrl}/lessons/lesson-7/`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('course start');
    const api = await fetch(`${baseUrl}/api/progress`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { nextStep: string } }).error.nextStep).toContain('?token=');
    expect((await fetch(`${baseUrl}/api/progress?token=wrong-${token}`)).status).toBe(401);
  });

  it('trades the token in the address for a page cookie that is not the token, and moves the token into the fragment', async () => {
    const first = await fetch(`${baseUrl}/lessons/lesson-7/?token=${token}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/lessons/lesson-7/#layerlab-token=${token}`);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain(token);
    const page = await fetch(`${baseUrl}/lessons/lesson-7/`, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Multi-stage builds');
    // The page cookie reads pages and nothing else: cookies reach every port of 127.0.0.1.
    expect((await fetch(`${baseUrl}/api/progress`, { headers: { Cookie: cookie.split(';')[0]! } })).status).toBe(401);
    expect((await fetch(`${baseUrl}/api/progress`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('serves the built site: each page, and every script and stylesheet it loads, with its type', async () => {
    const headers = { Authorization: `Bearer ${token}` };
    const map = await fetch(`${baseUrl}/`, { headers });
    expect(map.status).toBe(200);
    expect(map.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await map.text()).toContain('<title>Course map');
    const lessonUrl = `${baseUrl}/lessons/lesson-7/`;
    const lesson = await (await fetch(lessonUrl, { headers })).text();
    // Links are relative (the static build works from any folder): resolve them as a browser does.
    const assets = [...lesson.matchAll(/(?:src|href)="((?:\.\.\/)*\/?_astro\/[^"]+\.(js|css))"/g)];
    expect(assets.map(([, , type]) => type)).toEqual(expect.arrayContaining(['js', 'css']));
    for (const [, asset, type] of assets) {
      const response = await fetch(new URL(asset!, lessonUrl), { headers });
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type'), asset).toBe(type === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    const catalog = await fetch(`${baseUrl}/course.json`, { headers });
    expect(((await catalog.json()) as { lessons: Array<{ id: string }> }).lessons.map((entry) => entry.id)).toContain('lesson-7');
  });

  it('refuses another Host name (DNS rebinding) with 403', async () => {
    // fetch() does not let a caller set Host; node:http does, as a rebinding page's browser would.
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.get(`${baseUrl}/?token=${token}`, { headers: { Host: `attacker.example:${server.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('refuses a Check posted from another site', async () => {
    const response = await fetch(`${baseUrl}/api/check/lesson-7?token=${token}`, { method: 'POST', headers: { Origin: 'http://evil.example' } });
    expect(response.status).toBe(403);
  });

  it('refuses a terminal socket without the token (401) or from a foreign Origin (403)', async () => {
    await expect(TerminalClient.open(baseUrl, `not-${token}`)).rejects.toThrow('HTTP 401');
    await expect(TerminalClient.open(baseUrl, token, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(TerminalClient.open(baseUrl, token, { origin: 'null' })).rejects.toThrow('HTTP 403');
  });

  it('does not serve files outside the site folder', async () => {
    const response = await fetch(`${baseUrl}/..%2f..%2fetc%2fpasswd`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(404);
  });
});

describe('the terminal bridge', () => {
  it('runs what is typed in a login shell in the sandbox, at the browser\'s size', async () => {
    const client = await TerminalClient.open(baseUrl, token);
    const attached = await client.attach({ cols: 91, rows: 27 });
    expect(attached.isNew).toBe(true);
    await client.waitForText('sandbox');
    client.type('echo "answer $((6*7))"; stty size; hostname\r');
    await client.waitForText('answer 42');
    await client.waitForText('27 91');
    await client.close();
  });

  it('follows a resize', async () => {
    const client = await TerminalClient.open(baseUrl, token);
    await client.attach();
    await client.waitForText('sandbox');
    client.send({ type: 'resize', cols: 120, rows: 33 });
    // The docker CLI passes the new size on by itself, a moment later: wait for it in the shell.
    client.type('for i in $(seq 100); do [ "$(stty size)" = "33 120" ] && break; sleep 0.1; done; echo "size $(stty size)"\r');
    await client.waitForText('size 33 120');
    await client.close();
  });

  it('reattaches to the same shell after a dropped connection, sending only what was missed', async () => {
    const first = await TerminalClient.open(baseUrl, token);
    const attached = await first.attach();
    await first.waitForText('sandbox');
    first.type('export MARKER=kept-$((1000+234)); echo before-$((1+1))-drop\r');
    await first.waitForText('before-2-drop\r\n');
    const seen = first.outputBytes;
    await first.close();

    const second = await TerminalClient.open(baseUrl, token);
    const again = await second.attach({ sessionId: attached.sessionId, offset: seen });
    expect(again).toMatchObject({ sessionId: attached.sessionId, isNew: false, reset: false, offset: seen });
    second.type('echo "still $MARKER"\r');
    await second.waitForText('still kept-1234');
    // Nothing the first socket already had is sent again.
    expect(second.text()).not.toContain('before-2-drop');
    await second.close();
  });

  it('replays the screen to a reloaded page, whose terminal starts empty', async () => {
    const first = await TerminalClient.open(baseUrl, token);
    const attached = await first.attach();
    first.type('echo replay-me-$((2*21))\r');
    await first.waitForText('replay-me-42');
    await first.close();

    const reloaded = await TerminalClient.open(baseUrl, token);
    const again = await reloaded.attach({ sessionId: attached.sessionId });
    expect(again).toMatchObject({ isNew: false, reset: true, offset: 0 });
    await reloaded.waitForText('replay-me-42');
    expect(reloaded.text().split('replay-me-42').length - 1).toBe(1);
    await reloaded.close();
  });

  it('keeps a running command going while no page is attached', async () => {
    const first = await TerminalClient.open(baseUrl, token);
    const attached = await first.attach();
    await first.waitForText('sandbox');
    // 128 lines of 64 KiB to the terminal (far more than the pipes between shell and runner
    // hold), each counted in a file. The page pauses the output and then goes away: a shell
    // still held back once detached stops counting.
    const counter = `/tmp/detached-${attached.sessionId}`;
    first.send({ type: 'pause' });
    first.type(`for i in $(seq 128); do head -c 65535 /dev/zero | tr '\\0' .; echo; echo $i > ${counter}; done; echo "finished $((3*3))"\r`);
    await first.close();

    let count = '';
    while (count !== '128') {
      await pollInterval();
      count = await inSandbox(`cat ${counter} 2>/dev/null || true`);
    }
    await inSandbox(`rm -f ${counter}`);

    const back = await TerminalClient.open(baseUrl, token);
    await back.attach({ sessionId: attached.sessionId });
    await back.waitForText('finished 9');
    await back.close();
  });

  it('hands a session to the newest tab and tells the old one', async () => {
    const first = await TerminalClient.open(baseUrl, token);
    const attached = await first.attach();
    const second = await TerminalClient.open(baseUrl, token);
    await second.attach({ sessionId: attached.sessionId });
    await first.waitFor(() => first.closeCode !== undefined);
    expect(first.control.some((message) => message.type === 'taken-over')).toBe(true);
    expect(first.closeCode).toBe(closeCodes.takenOver);
    await second.close();
  });

  it('holds a flood back while the browser has paused it, and lets it through on resume', async () => {
    const client = await TerminalClient.open(baseUrl, token);
    const attached = await client.attach();
    await client.waitForText('sandbox');
    const floodBytes = 8 * 1024 * 1024;
    client.send({ type: 'pause' });
    // tee counts in a file what got past the terminal: it writes the terminal first, then the file.
    const passed = `/tmp/flood-${attached.sessionId}`;
    client.type(`head -c ${floodBytes} /dev/zero | tr '\\0' y | tee ${passed}; echo; echo flood-$((40+2))-done\r`);
    // Wait until the flood has stopped moving: the same count on five polls in a row.
    const sizes: number[] = [];
    while (sizes.length < 5 || new Set(sizes.slice(-5)).size > 1) {
      await pollInterval();
      sizes.push(Number(await inSandbox(`stat -c %s ${passed} 2>/dev/null || echo 0`)));
    }
    const held = sizes.at(-1)!;
    // Held back by the pipes' buffers, far short of the flood, and the page got none of it.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(floodBytes / 2);
    expect(client.outputBytes).toBeLessThan(held);
    // Still running, blocked on its terminal: the shell and the pipeline's three programs.
    expect((await processesOfSession(attached.sessionId)).length).toBeGreaterThanOrEqual(4);
    expect(client.text()).not.toContain('flood-42-done');
    client.send({ type: 'resume' });
    await client.waitForText('flood-42-done');
    expect(client.outputBytes).toBeGreaterThan(floodBytes);
    expect(Number(await inSandbox(`stat -c %s ${passed}; rm -f ${passed}`))).toBe(floodBytes);
    await client.close();
  }, 600_000); // megabytes through a busy machine's docker exec: a bound on hanging, not a budget

  it('ends the shell and everything it started when its session is closed for good', async () => {
    const client = await TerminalClient.open(baseUrl, token);
    const attached = await client.attach();
    await client.waitForText('sandbox');
    client.type('sleep 600 & echo started-$((5*5))\r');
    await client.waitForText('started-25');
    expect((await processesOfSession(attached.sessionId)).length).toBeGreaterThanOrEqual(2);
    client.type('exit\r');
    await client.waitFor(() => client.closeCode !== undefined);
    expect(client.control).toContainEqual(expect.objectContaining({ type: 'exit' }));
    expect(client.closeCode).toBe(closeCodes.shellExited);
    expect(await processesOfSession(attached.sessionId)).toEqual([]);
  });

  it('ends detached shells, with their processes in the sandbox, when the server stops', async () => {
    const other = await startCourseServer({
      instance,
      engine: await connectEngine(),
      siteDir,
      token,
      port: 0,
      runCheck: () => Promise.reject(new Error('not used')),
    });
    const client = await TerminalClient.open(`http://127.0.0.1:${other.port}`, token);
    const attached = await client.attach();
    await client.waitForText('sandbox');
    client.type('sleep 600 & echo started-$((6*6))\r');
    await client.waitForText('started-36');
    await client.close();
    expect((await processesOfSession(attached.sessionId)).length).toBeGreaterThanOrEqual(2);
    await other.close();
    expect(await processesOfSession(attached.sessionId)).toEqual([]);
  });

  it('reports a taken port as the learner\'s problem, naming the port and what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(
        startCourseServer({ instance, engine: await connectEngine(), siteDir, token, port, runCheck: () => Promise.reject(new Error('not used')) }),
      ).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining(`Port ${port}`), nextStep: expect.stringContaining('--port') });
    } finally {
      blocker.close();
    }
  });
});
