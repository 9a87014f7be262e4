import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { askUntilAnswered, commandLinesOf, logTailOf, requestOnce, type ServiceWatch } from '../../../runner/src/grader/facts/http-probe.js';
import { outputOfLogs, watchRun } from '../../../runner/src/grader/facts/run-probe.js';
import { useLocalServers } from '../../support/local-servers.js';

// How the run and HTTP probes follow a started container: its states as a real engine reported
// them (recorded once, test/fixtures/probes/README.md), its logs as recorded, and a real HTTP
// service on this machine standing in for the published port.

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/probes/${name}`, import.meta.url));
const exited = JSON.parse(fixture('container-state-exited.json').toString()) as Docker.ContainerInspectInfo['State'];
const running = (JSON.parse(fixture('container-inspect-published.json').toString()) as Docker.ContainerInspectInfo).State;
const output = outputOfLogs(fixture('logs-both-streams.bin'));
const lastWords = logTailOf(fixture('logs-both-streams.bin'));

/** The recorded states in turn: running `runningPolls` times, then exited; counts the polls. */
function states(runningPolls: number) {
  const polls = { count: 0 };
  return { polls, state: async () => (polls.count++ < runningPolls ? running : exited) };
}

describe('following a run', () => {
  it('is the exit code, the time it took and what it wrote, once it exited', async () => {
    expect(running.Running).toBe(true);
    expect(exited).toMatchObject({ Running: false, ExitCode: 3 });
    const { polls, state } = states(2);
    const result = await watchRun({ args: ['--version'], withinMs: 5000 }, { state, output: async () => output, pollIntervalMs: 10 });
    expect(result).toEqual({ args: ['--version'], withinMs: 5000, outcome: 'exited', exitCode: 3, afterMs: expect.any(Number), stdout: 'out-1\nout-2\n', stderr: 'err-1\nerr-2\n' });
    expect(polls.count).toBe(3);
    expect((result as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(15);
    expect((result as { afterMs: number }).afterMs).toBeLessThan(4000);
  });

  it('is timed out, with what it wrote so far, when it runs past its time', async () => {
    const { polls, state } = states(Number.POSITIVE_INFINITY);
    const started = performance.now();
    const result = await watchRun({ withinMs: 120 }, { state, output: async () => output, pollIntervalMs: 10 });
    const tookMs = performance.now() - started;
    expect(result).toEqual({ withinMs: 120, outcome: 'timed-out', stdout: 'out-1\nout-2\n', stderr: 'err-1\nerr-2\n' });
    expect(tookMs).toBeGreaterThanOrEqual(115);
    expect(tookMs).toBeLessThan(3000);
    expect(polls.count).toBeGreaterThan(3);
  });

  it('polls about every 100 ms by default, never past the deadline', async () => {
    const { polls, state } = states(Number.POSITIVE_INFINITY);
    await watchRun({ withinMs: 450 }, { state, output: async () => output });
    // 0, 100, 200, 300, 400, 450 ms and a timer tick or two at the deadline (fewer on a busy machine), never a busy loop.
    expect(polls.count).toBeGreaterThanOrEqual(2);
    expect(polls.count).toBeLessThanOrEqual(9);
  });

  it('stops when the check is stopped', async () => {
    const controller = new AbortController();
    const { state } = states(Number.POSITIVE_INFINITY);
    setTimeout(() => controller.abort(new Error('stopped')), 40);
    // Stopped while waiting between polls (probeRun then gives the signal's reason).
    await expect(watchRun({ withinMs: 10_000 }, { state, output: async () => output, signal: controller.signal, pollIntervalMs: 10 })).rejects.toMatchObject({ name: 'AbortError' });
    const aborted = new AbortController();
    aborted.abort(new Error('before it began'));
    await expect(watchRun({ withinMs: 10_000 }, { state, output: async () => output, signal: aborted.signal })).rejects.toThrow('before it began');
  });
});

describe('asking a started service', () => {
  const { listening } = useLocalServers();
  /** Asks the real service, and notes each path and time limit asked with. */
  function asking(port: number) {
    const asked: Array<[string, number]> = [];
    return { asked, ask: (path: string, timeoutMs: number) => (asked.push([path, timeoutMs]), requestOnce('127.0.0.1', port, path, timeoutMs)) };
  }
  const watch = (overrides: Partial<ServiceWatch>): ServiceWatch => ({ state: async () => running, logTail: async () => lastWords, pollIntervalMs: 10, ...overrides });

  /** Resets the first `resets` connections (nothing listens inside yet), then answers as a small service. */
  async function service(resets: number): Promise<number> {
    let connections = 0;
    const server = http.createServer((request, response) => {
      if (request.url === '/healthz') response.end('ok');
      else if (request.url === '/broken') request.socket.destroy();
      else response.writeHead(404).end('not here');
    });
    server.prependListener('connection', (socket: net.Socket) => {
      if (connections++ < resets) socket.resetAndDestroy();
    });
    return await listening(server);
  }

  it('asks the first path until it answers, then every other path once, each with its own answer', async () => {
    const { asked, ask } = asking(await service(2));
    const result = await askUntilAnswered({ port: 8080, paths: ['/healthz', '/missing', '/broken'], withinMs: 5000 }, watch({ ask }));
    expect(result).toEqual({
      port: 8080,
      paths: ['/healthz', '/missing', '/broken'],
      withinMs: 5000,
      outcome: 'answered',
      afterMs: expect.any(Number),
      answers: [
        { path: '/healthz', statusCode: 200, bodyStart: 'ok' },
        { path: '/missing', statusCode: 404, bodyStart: 'not here' },
        { path: '/broken', error: 'the connection was closed without an answer (nothing listens on the port inside the container?)' },
      ],
    });
    expect(asked).toEqual([['/healthz', 1000], ['/healthz', 1000], ['/healthz', 1000], ['/missing', 3000], ['/broken', 3000]]);
    expect((result as { afterMs: number }).afterMs).toBeLessThan(5000);
  });

  it('says what runs once it answered, when the engine says, and leaves it out when it does not', async () => {
    const { ask } = asking(await service(0));
    const request = { port: 8080, paths: ['/'], withinMs: 5000 };
    const told = await askUntilAnswered(request, { ...watch({ ask }), processes: async () => ['/app/hello'] });
    expect(told).toMatchObject({ outcome: 'answered', processes: ['/app/hello'] });
    const silent = await askUntilAnswered(request, { ...watch({ ask }), processes: async () => undefined });
    expect(silent).not.toHaveProperty('processes');
  });

  it('reads the command column of docker top, whatever its title, and nothing else', () => {
    // The columns of ps -ef, which docker top runs by default.
    const top = { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['65534', '4242', '4220', '0', '03:30', '?', '00:00:00', '/app/hello -v']] };
    expect(commandLinesOf(top)).toEqual(['/app/hello -v']);
    expect(commandLinesOf({ Titles: ['PID', 'COMMAND'], Processes: [['1', 'httpd -f'], ['2'], 'junk'] })).toEqual(['httpd -f']);
    expect(commandLinesOf({ Titles: ['PID'], Processes: [['1']] })).toBeUndefined();
    expect(commandLinesOf({ Titles: ['CMD'], Processes: [['/app/hello']] })).toEqual(['/app/hello']);
    expect(commandLinesOf({ Titles: 'CMD', Processes: [] })).toBeUndefined();
    expect(commandLinesOf({ Titles: ['CMD'], Processes: null })).toBeUndefined();
  });

  it('asks for / when the check names no path', async () => {
    const { asked, ask } = asking(await service(0));
    const result = await askUntilAnswered({ port: 80, paths: [], withinMs: 5000 }, watch({ ask }));
    expect(result).toMatchObject({ outcome: 'answered', answers: [{ path: '/', statusCode: 404 }] });
    expect(asked).toEqual([['/', 1000]]);
  });

  it('is timed out with the last error and the last words when the service never answers', async () => {
    const { asked, ask } = asking(await service(Number.POSITIVE_INFINITY));
    const started = performance.now();
    const result = await askUntilAnswered({ port: 8080, paths: ['/healthz'], withinMs: 300 }, watch({ ask }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(result).toEqual({
      port: 8080,
      paths: ['/healthz'],
      withinMs: 300,
      outcome: 'timed-out',
      logTail: 'out-1\nerr-1\nout-2\nerr-2',
      lastError: 'the connection was closed without an answer (nothing listens on the port inside the container?)',
    });
    // Never longer than the time left, never shorter than 50 ms.
    expect(asked.length).toBeGreaterThan(2);
    for (const [, timeoutMs] of asked) {
      expect(timeoutMs).toBeGreaterThanOrEqual(50);
      expect(timeoutMs).toBeLessThanOrEqual(300);
    }
    expect(asked.at(-1)![1]).toBeLessThan(250);
  });

  it('says the engine published no port, and never asks, when there is nothing to ask', async () => {
    const result = await askUntilAnswered({ port: 8080, paths: ['/'], withinMs: 60 }, watch({}));
    expect(result).toMatchObject({ outcome: 'timed-out', lastError: 'the engine published no port', logTail: 'out-1\nerr-1\nout-2\nerr-2' });
  });

  it('is the exit code and the last words of a service that exits before answering', async () => {
    const { asked, ask } = asking(await service(Number.POSITIVE_INFINITY));
    const { polls, state } = states(1);
    const result = await askUntilAnswered({ port: 8080, paths: ['/healthz'], withinMs: 10_000 }, watch({ ask, state }));
    expect(result).toEqual({ port: 8080, paths: ['/healthz'], withinMs: 10_000, outcome: 'exited', exitCode: 3, logTail: 'out-1\nerr-1\nout-2\nerr-2', afterMs: expect.any(Number) });
    expect(polls.count).toBe(2);
    expect(asked).toHaveLength(2);
    expect((result as { afterMs: number }).afterMs).toBeLessThan(10_000);
  });

  it('stops when the check is stopped', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped')), 40);
    await expect(askUntilAnswered({ port: 8080, paths: ['/'], withinMs: 10_000 }, watch({ signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
    await expect(askUntilAnswered({ port: 8080, paths: ['/'], withinMs: 10_000 }, watch({ signal: controller.signal }))).rejects.toThrow('stopped');
  });
});
