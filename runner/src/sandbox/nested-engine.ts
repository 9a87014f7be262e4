import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { connectSocket, demuxLogStreams, type Engine } from '../engine.js';
import { environmentError } from '../errors.js';
import type { Instance } from '../settings.js';

/** How long a sandbox may take to answer after its container starts (about 2 s is usual). */
const startupTimeoutMs = 90_000;

/** The sandbox's own engine, through its socket in the instance folder. */
export async function connectNestedEngine(instance: Instance): Promise<Engine> {
  return await connectSocket(instance.socketPath, 'Run `course up` to start the sandbox, then try again.');
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
