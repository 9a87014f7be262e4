import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { demuxLogStreams, withTimeout, type Engine } from '../../engine.js';
import type { HttpAnswer, HttpProbeRequest, HttpProbeResult } from '../types.js';
import { containerState, engineCallTimeoutMs, removeQuietly, startProbeContainer } from './probe-container.js';

const attemptTimeoutMs = 1000;
/** Once the service has answered, each further path gets this long. */
const laterRequestTimeoutMs = 3000;
const pollIntervalMs = 100;
const logTailBytes = 2000;

export interface HttpProbeOptions {
  /** Where ports published on the engine can be dialled from here (see published-port-host.ts). */
  publishedPortHost: string;
  signal?: AbortSignal;
  labels?: Record<string, string>;
}

/**
 * Starts a container from the image with `port` published on an ephemeral port, and asks
 * for the first path until it answers HTTP, exits, or `withinMs` passes; once it answers,
 * each other path is asked once. The container is removed afterwards whatever happened, an
 * abort included. A TCP connection alone is not an answer: the engine's port proxy accepts
 * connections even when nothing listens inside.
 */
export async function probeHttp(engine: Engine, imageId: string, request: HttpProbeRequest, options: HttpProbeOptions): Promise<HttpProbeResult> {
  const { signal } = options;
  const portKey = `${request.port}/tcp`;
  const started = await startProbeContainer(engine, {
    imageId,
    exposedPorts: { [portKey]: {} },
    hostConfig: {
      PortBindings: { [portKey]: [{ HostIp: '', HostPort: '' }] },
      Memory: 512 * 1024 * 1024,
      PidsLimit: 256,
    },
    ...(options.labels ? { labels: options.labels } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    if ('notStarted' in started) return { ...request, outcome: 'not-started', reason: started.notStarted };
    const { container } = started;
    const hostPort = await publishedPort(container, portKey);
    return await askUntilAnswered(request, {
      ...(hostPort ? { ask: (path: string, timeoutMs: number) => requestOnce(options.publishedPortHost, hostPort, path, timeoutMs, signal) } : {}),
      state: () => containerState(container),
      logTail: () => logTail(container),
      processes: () => processesOf(container),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    if (started.container) await removeQuietly(started.container);
  }
}

/** How a started service is asked: over HTTP (absent when the engine published no port), its state and its last words. */
export interface ServiceWatch {
  ask?(path: string, timeoutMs: number): Promise<Attempt>;
  state(): Promise<Pick<Docker.ContainerInspectInfo['State'], 'Running' | 'ExitCode'>>;
  logTail(): Promise<string>;
  /** The command lines of its processes, or undefined when the engine does not say. */
  processes?(): Promise<string[] | undefined>;
  signal?: AbortSignal;
  pollIntervalMs?: number;
}

/**
 * Asks the first path until the service answers HTTP, exits, or `request.withinMs` passes;
 * once it answers, each other path is asked once.
 */
export async function askUntilAnswered(request: HttpProbeRequest, watch: ServiceWatch): Promise<HttpProbeResult> {
  const { signal, pollIntervalMs: interval = pollIntervalMs } = watch;
  const startedAt = performance.now();
  const deadline = startedAt + request.withinMs;
  let lastError = watch.ask ? 'no answer yet' : 'the engine published no port';
  const [firstPath = '/', ...otherPaths] = request.paths;
  for (;;) {
    signal?.throwIfAborted();
    if (watch.ask) {
      const remaining = deadline - performance.now();
      const attempt = await watch.ask(firstPath, Math.max(50, Math.min(attemptTimeoutMs, remaining)));
      if (attempt.kind === 'answered') {
        const afterMs = Math.round(performance.now() - startedAt);
        const answers: HttpAnswer[] = [{ path: firstPath, statusCode: attempt.statusCode, bodyStart: attempt.bodyStart }];
        for (const otherPath of otherPaths) {
          const other = await watch.ask(otherPath, laterRequestTimeoutMs);
          answers.push(other.kind === 'answered' ? { path: otherPath, statusCode: other.statusCode, bodyStart: other.bodyStart } : { path: otherPath, error: other.error });
        }
        const processes = await watch.processes?.();
        return { ...request, outcome: 'answered', answers, afterMs, ...(processes ? { processes } : {}) };
      }
      lastError = attempt.error;
    }
    const state = await watch.state();
    if (!state.Running) {
      return { ...request, outcome: 'exited', exitCode: state.ExitCode, logTail: await watch.logTail(), afterMs: Math.round(performance.now() - startedAt) };
    }
    if (performance.now() >= deadline) {
      return { ...request, outcome: 'timed-out', logTail: await watch.logTail(), lastError };
    }
    await sleep(Math.min(interval, Math.max(0, deadline - performance.now())), undefined, signal ? { signal } : {});
  }
}

async function publishedPort(container: Docker.Container, portKey: string): Promise<number | undefined> {
  return publishedPortOf(await withTimeout(container.inspect(), engineCallTimeoutMs, 'the engine did not answer'), portKey);
}

/** The host port `portKey` ("8080/tcp") is published on, from the container's inspect data. */
export function publishedPortOf(info: Pick<Docker.ContainerInspectInfo, 'NetworkSettings'>, portKey: string): number | undefined {
  const bindings = (info.NetworkSettings.Ports?.[portKey] ?? []) as Array<{ HostIp: string; HostPort: string }>;
  // Prefer the IPv4 binding; engines with IPv6 list "::" as well.
  const binding = bindings.find((candidate) => !candidate.HostIp.includes(':')) ?? bindings[0];
  return binding ? Number(binding.HostPort) : undefined;
}

export type Attempt = { kind: 'answered'; statusCode: number; bodyStart: string } | { kind: 'failed'; error: string };

/** One GET: its status and the first 200 characters of its body, or why there was no answer. */
export function requestOnce(host: string, port: number, requestPath: string, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: requestPath, timeout: timeoutMs, agent: false, ...(signal ? { signal } : {}) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 200) body += chunk;
      });
      response.on('end', () => resolve({ kind: 'answered', statusCode: response.statusCode ?? 0, bodyStart: body.slice(0, 200) }));
      response.on('error', () => resolve({ kind: 'answered', statusCode: response.statusCode ?? 0, bodyStart: body.slice(0, 200) }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ kind: 'failed', error: describeRequestError(error) }));
  });
}

function describeRequestError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'the connection was closed without an answer (nothing listens on the port inside the container?)';
    default:
      return error.message;
  }
}

/**
 * What runs in the container, as `docker top` shows it (the engine runs ps): the command
 * line of each process. Undefined when the engine does not say (an older or recorded engine).
 */
async function processesOf(container: Docker.Container): Promise<string[] | undefined> {
  try {
    const top = (await withTimeout(container.top() as Promise<unknown>, engineCallTimeoutMs, 'top timed out')) as { Titles?: unknown; Processes?: unknown };
    return commandLinesOf(top);
  } catch {
    return undefined;
  }
}

/** The CMD (or COMMAND) column of a `docker top` answer; undefined when it has none. */
export function commandLinesOf(top: { Titles?: unknown; Processes?: unknown }): string[] | undefined {
  if (!Array.isArray(top.Titles) || !Array.isArray(top.Processes)) return undefined;
  const column = top.Titles.findIndex((title) => title === 'CMD' || title === 'COMMAND');
  if (column < 0) return undefined;
  return top.Processes.flatMap((row: unknown) => (Array.isArray(row) && typeof row[column] === 'string' ? [row[column] as string] : []));
}

async function logTail(container: Docker.Container): Promise<string> {
  try {
    const raw = (await withTimeout(
      container.logs({ stdout: true, stderr: true, tail: 20, follow: false }) as Promise<Buffer>,
      engineCallTimeoutMs,
      'logs timed out',
    )) as Buffer;
    return logTailOf(raw);
  } catch {
    return '';
  }
}

/** What a service said before it exited or stopped answering, both streams as written, its end kept. */
export function logTailOf(raw: Buffer): string {
  const text = demuxLogStreams(raw).combined.trim();
  return text.length > logTailBytes ? `...${text.slice(-logTailBytes)}` : text;
}
