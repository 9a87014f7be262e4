import { lstat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { connectEngine, connectSocket, demuxLogStreams, isNotFound, type Engine } from '../engine.js';
import { environmentError } from '../errors.js';
import type { Instance } from '../settings.js';
import { sandboxLabels } from './host-config.js';

/** How long a sandbox may take to answer after its container starts (about 2 s is usual). */
const startupTimeoutMs = 90_000;

/**
 * The sandbox's own engine, through its socket in the instance folder, and no other. The
 * sandbox can see that folder (its engine creates the socket there), so what is there is
 * checked before anything is sent: a socket, not a link (a link to this machine's
 * /var/run/docker.sock would hand the runner's calls to the learner's own engine), and an
 * engine that shows the random id the sandbox container was created with.
 * `hostEngine` is the learner's engine, where that id is kept as a label out of the sandbox's reach.
 */
export async function connectNestedEngine(instance: Instance, hostEngine?: Engine): Promise<Engine> {
  const whatToDo = 'Run `course up` to start the sandbox, then try again.';
  const expectedId = await expectedEngineId(hostEngine ?? (await connectEngine()), instance);
  await ensurePlainSocket(instance.socketPath);
  const nested = await connectSocket(instance.socketPath, whatToDo);
  await ensureEngineId(nested, expectedId);
  return nested;
}

/** The engine id given to the sandbox at creation, from its container's labels. */
export async function expectedEngineId(hostEngine: Engine, instance: Instance): Promise<string> {
  let labels: Record<string, string> | undefined;
  try {
    labels = (await hostEngine.docker.getContainer(instance.containerName).inspect()).Config.Labels ?? undefined;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw environmentError('There is no sandbox yet.', 'Run `course up` to create it, then try again.');
  }
  const id = labels?.[sandboxLabels.engineId];
  if (!id) {
    throw environmentError(
      `The sandbox ${instance.containerName} was made by an older Layerlab and has no engine id.`,
      'Run `course up` to recreate it (your images and files are kept), then try again.',
    );
  }
  return id;
}

async function ensurePlainSocket(socketPath: string): Promise<void> {
  const info = await lstat(socketPath).catch(() => undefined);
  if (info && !info.isSocket()) {
    throw environmentError(
      `${socketPath} is not the sandbox's socket (it is a ${info.isSymbolicLink() ? 'link' : 'file'}); something inside the sandbox replaced it, and the runner will not follow it.`,
      'Run `course stop` and then `course up`: the sandbox\'s engine makes a new socket when it starts.',
    );
  }
}

/** Refuses an engine that does not show the sandbox's id (another engine behind the socket). */
export async function ensureEngineId(nested: Engine, expectedId: string): Promise<void> {
  const info = (await nested.docker.info()) as { Labels?: string[] };
  if (!info.Labels?.includes(`${sandboxLabels.engineId}=${expectedId}`)) {
    throw environmentError(
      `The engine behind ${nested.address} is not this sandbox's own engine; the runner will not talk to it.`,
      'Run `course stop` and then `course up`: the sandbox\'s engine makes a new socket when it starts.',
    );
  }
}

export async function waitForNestedEngine(engine: Engine, instance: Instance): Promise<void> {
  const nested = new Docker({ socketPath: instance.socketPath });
  const deadline = Date.now() + startupTimeoutMs;
  for (;;) {
    try {
      await nested.ping();
      return;
    } catch {
      // Not listening yet: the socket appears once dockerd has started.
    }
    const container = await engine.docker.getContainer(instance.containerName).inspect();
    if (!container.State.Running || Date.now() > deadline) {
      const logTail = await containerLogTail(engine, instance.containerName);
      throw environmentError(
        container.State.Running
          ? `The sandbox's Docker engine did not answer within ${startupTimeoutMs / 1000} s. Its last log lines:\n${logTail}`
          : `The sandbox stopped while starting (exit code ${container.State.ExitCode}). Its last log lines:\n${logTail}`,
        'Run `course up` again; if it fails the same way, `course reset` starts from a clean sandbox (it deletes what you built inside).',
      );
    }
    await sleep(100);
  }
}

export async function containerLogTail(engine: Engine, containerName: string, lines = 12): Promise<string> {
  const raw = (await engine.docker.getContainer(containerName).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as Buffer;
  return demuxLogStreams(raw)
    .combined
    .split('\n')
    .filter(Boolean)
    .map((line) => `    ${line}`)
    .join('\n');
}
