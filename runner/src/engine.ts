import Docker from 'dockerode';
import { environmentError, messageOf, usageError } from './errors.js';

/** A Docker engine we talk to, and how to name it in messages. */
export interface Engine {
  docker: Docker;
  /** Where it answers, e.g. "unix:///var/run/docker.sock". */
  address: string;
  version: string;
  apiVersion: string;
}

const pingTimeoutMs = 5000;

/**
 * Connects to an engine and makes sure it answers.
 * `dockerHost` is a DOCKER_HOST-style URL; without it DOCKER_HOST or the default socket is used.
 */
export async function connectEngine(dockerHost: string | undefined = process.env.DOCKER_HOST): Promise<Engine> {
  const { options, address } = engineOptions(dockerHost);
  const docker = new Docker(options);
  return await ensureAnswers(docker, address, describeHowToStart(address));
}

/** Connects to the nested engine of a sandbox through its socket on this machine. */
export async function connectSocket(socketPath: string, whatToDo: string): Promise<Engine> {
  return await ensureAnswers(new Docker({ socketPath }), `unix://${socketPath}`, whatToDo);
}

async function ensureAnswers(docker: Docker, address: string, whatToDo: string): Promise<Engine> {
  try {
    // The requests are also aborted at the timeout: one left hanging on an engine that never
    // answers (a frozen dockerd) would keep the process from exiting.
    // (dockerode takes the option; its typings do not list it.)
    type WithOptions<T> = (options: { abortSignal: AbortSignal }) => Promise<T>;
    const ping = docker.ping.bind(docker) as unknown as WithOptions<unknown>;
    const readVersion = docker.version.bind(docker) as unknown as WithOptions<Docker.DockerVersion>;
    await withTimeout(ping({ abortSignal: AbortSignal.timeout(pingTimeoutMs) }), pingTimeoutMs, `no answer within ${pingTimeoutMs / 1000} s`);
    const version = await withTimeout(readVersion({ abortSignal: AbortSignal.timeout(pingTimeoutMs) }), pingTimeoutMs, `no answer within ${pingTimeoutMs / 1000} s`);
    return { docker, address, version: version.Version, apiVersion: version.ApiVersion };
  } catch (error) {
    throw environmentError(`Docker is not answering on ${address} (${explainConnectionError(error)}).`, whatToDo);
  }
}

function explainConnectionError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no socket there';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EACCES':
      return 'permission denied';
    default:
      return messageOf(error);
  }
}

function describeHowToStart(address: string): string {
  if (address.startsWith('unix://')) {
    return 'Start the Docker engine (on Debian or Ubuntu as root: `bash setup.sh`), or set DOCKER_HOST to an engine that runs, then try again.';
  }
  return `Check that the engine at ${address} is running and reachable, or unset DOCKER_HOST to use the local one.`;
}

interface EngineOptions {
  options: Docker.DockerOptions | undefined;
  address: string;
}

function engineOptions(dockerHost: string | undefined): EngineOptions {
  if (!dockerHost) {
    return { options: { socketPath: '/var/run/docker.sock' }, address: 'unix:///var/run/docker.sock' };
  }
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw usageError(`"${dockerHost}" is not an engine address.`, 'Write it as unix:///path/to/docker.sock or tcp://host:2375.');
  }
  switch (url.protocol) {
    case 'unix:':
      return { options: { socketPath: url.pathname }, address: `unix://${url.pathname}` };
    case 'tcp:':
    case 'http:':
      return {
        options: { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' },
        address: `tcp://${url.host}`,
      };
    default:
      throw usageError(
        `Engine addresses of the form ${url.protocol}// are not supported: ${dockerHost}.`,
        'Use unix:///path/to/docker.sock or tcp://host:port.',
      );
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A container without a TTY sends its logs as frames: a stream byte (1 stdout, 2 stderr),
 * three zero bytes, a 4-byte big-endian length, then the payload.
 */
export function demuxLogStreams(raw: Buffer): { stdout: string; stderr: string; combined: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const length = raw.readUInt32BE(offset + 4);
    const payload = raw.subarray(offset + 8, offset + 8 + length);
    (raw[offset] === 2 ? err : out).push(payload);
    all.push(payload);
    offset += 8 + length;
  }
  const text = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');
  return { stdout: text(out), stderr: text(err), combined: text(all) };
}

/** True for the Engine API's 404, which dockerode reports as an error with statusCode. */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/**
 * Reads a JSON-lines progress stream (build, import, load, pull) to its end.
 * The engine reports failures inside the stream, not as an HTTP status, so they are checked here.
 */
export async function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void = () => {},
): Promise<Array<Record<string, unknown>>> {
  return await new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<Record<string, unknown>>) => {
        if (error) return reject(error);
        const failure = output.find((event) => event.error || event.errorDetail);
        if (failure) return reject(new Error(String(failure.error ?? JSON.stringify(failure.errorDetail))));
        resolve(output);
      },
      (event: Record<string, unknown>) => {
        const text = typeof event.stream === 'string' ? event.stream : typeof event.status === 'string' ? event.status : '';
        for (const line of text.split('\n')) if (line.trim()) onLine(line.trimEnd());
      },
    );
  });
}
