import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { demuxLogStreams, withTimeout, type Engine } from '../../engine.js';
import type { RunProbeRequest, RunProbeResult } from '../types.js';
import { containerState, engineCallTimeoutMs, removeQuietly, startProbeContainer } from './probe-container.js';

const pollIntervalMs = 100;
/** Output is compared with a line or two; a chatty or hostile image is cut off here. */
const maxOutputCharacters = 8000;
const logTailLines = 200;

export interface RunProbeOptions {
  signal?: AbortSignal;
  labels?: Record<string, string>;
}

/**
 * Runs the image as a command, as `docker run --rm IMAGE [args...]` would: the image's
 * ENTRYPOINT, with `args` in place of its CMD when given. The container has no network and
 * the same memory and process limits as the HTTP probe; it is stopped after `withinMs` and
 * removed afterwards whatever happened, an abort included. Standard output and standard
 * error are kept apart, because a command's answer is its standard output.
 */
export async function probeRun(engine: Engine, imageId: string, request: RunProbeRequest, options: RunProbeOptions = {}): Promise<RunProbeResult> {
  const { signal } = options;
  const started = await startProbeContainer(engine, {
    imageId,
    ...(request.args ? { cmd: request.args } : {}),
    hostConfig: { NetworkMode: 'none', Memory: 256 * 1024 * 1024, PidsLimit: 128 },
    ...(options.labels ? { labels: options.labels } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    if ('notStarted' in started) return { ...request, outcome: 'not-started', reason: started.notStarted };
    const { container } = started;
    return await watchRun(request, { state: () => containerState(container), output: () => outputOf(container), ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    if (started.container) await removeQuietly(started.container);
  }
}

/** How a started run is watched: its state and its output, as the engine gives them. */
export interface RunWatch {
  state(): Promise<Pick<Docker.ContainerInspectInfo['State'], 'Running' | 'ExitCode'>>;
  output(): Promise<{ stdout: string; stderr: string }>;
  signal?: AbortSignal;
  pollIntervalMs?: number;
}

/**
 * Polls a started run until it exits (its exit code, how long it took, its output) or
 * `request.withinMs` passes (its output so far).
 */
export async function watchRun(request: RunProbeRequest, watch: RunWatch): Promise<RunProbeResult> {
  const { signal, pollIntervalMs: interval = pollIntervalMs } = watch;
  const startedAt = performance.now();
  const deadline = startedAt + request.withinMs;
  for (;;) {
    signal?.throwIfAborted();
    const state = await watch.state();
    if (!state.Running) {
      const afterMs = Math.round(performance.now() - startedAt);
      return { ...request, outcome: 'exited', exitCode: state.ExitCode, afterMs, ...(await watch.output()) };
    }
    if (performance.now() >= deadline) return { ...request, outcome: 'timed-out', ...(await watch.output()) };
    await sleep(Math.min(interval, Math.max(0, deadline - performance.now())), undefined, signal ? { signal } : {});
  }
}

async function outputOf(container: Docker.Container): Promise<{ stdout: string; stderr: string }> {
  const raw = (await withTimeout(
    container.logs({ stdout: true, stderr: true, tail: logTailLines, follow: false }) as Promise<Buffer>,
    engineCallTimeoutMs,
    'the engine did not send the logs',
  )) as Buffer;
  return outputOfLogs(raw);
}

/** A command's standard output and standard error, apart, from the engine's log stream; each capped. */
export function outputOfLogs(raw: Buffer): { stdout: string; stderr: string } {
  const { stdout, stderr } = demuxLogStreams(raw);
  return { stdout: capped(stdout), stderr: capped(stderr) };
}

function capped(text: string): string {
  return text.length > maxOutputCharacters ? `${text.slice(0, maxOutputCharacters)}…` : text;
}

/** Two checks asking for the same run share one container. */
export function runProbeKey(request: Pick<RunProbeRequest, 'args'>): string {
  return JSON.stringify(request.args ?? null);
}
