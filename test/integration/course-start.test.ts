import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { connectEngine } from '../../runner/src/engine.js';
import { inspectContainer } from '../../runner/src/sandbox/sandbox.js';
import { startCourse } from '../support/course-server-process.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';

describe('course start', () => {
  it('prints a link with a fresh token on 127.0.0.1, and stops cleanly on Ctrl-C leaving the sandbox running', async () => {
    const env = inject('sandboxEnv');
    const first = await startCourse(env);
    const second = await startCourse(env);
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
      expect(second.token).not.toBe(first.token);
      expect((await fetch(`${first.origin}/api/status`, { headers: { Authorization: `Bearer ${first.token}` } })).status).toBe(200);
      // One server's token is worthless on the other.
      expect((await fetch(`${first.origin}/api/status`, { headers: { Authorization: `Bearer ${second.token}` } })).status).toBe(401);
    } finally {
      expect(await second.stop()).toBe(0);
    }
    expect(await first.stop()).toBe(0);
    expect(first.stdout()).toContain('Stopped the course server');
    expect(hasStackTrace(first.stderr())).toBe(false);
    const container = await inspectContainer(await connectEngine(), instanceFor(env));
    expect(container?.State.Running).toBe(true);
  });

  it('exits 3 with a clear two-line error when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await runCourse(['start', '--no-open', '--port', String(port)], inject('sandboxEnv'));
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`^error: Port ${port} on 127\\.0\\.0\\.1 is already in use.*\\n  .*--port ${port + 1}`, 'm'));
      expect(hasStackTrace(result.stderr)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('exits 2 for a port that is not a number', async () => {
    const result = await runCourse(['start', '--port', 'eighty'], inject('sandboxEnv'));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--port "eighty" is not a port number.');
    expect(hasStackTrace(result.stderr)).toBe(false);
  });
});

describe('course list', () => {
  it('lists the lessons with their progress in a plain terminal', async () => {
    const result = await runCourse(['list'], inject('sandboxEnv'));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Layerlab: \d+ of \d+ lessons? complete/);
    expect(result.stdout).toMatch(/lesson-7\s+Multi-stage builds/);
  });
});
