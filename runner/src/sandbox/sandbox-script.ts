import { PassThrough } from 'node:stream';
import type { Engine } from '../engine.js';
import type { Instance } from '../settings.js';

/**
 * Runs a short `sh` script as the sandbox's root (not as the learner: it must be able to
 * end any of the learner's processes) and resolves with what it printed. Through the Engine
 * API, like every terminal: no `docker` CLI process on this machine.
 */
export async function runSandboxScript(engine: Engine, instance: Instance, script: string, timeoutMs = 15_000): Promise<string> {
  const exec = await engine.docker.getContainer(instance.containerName).exec({
    Cmd: ['sh', '-c', script],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  engine.docker.modem.demuxStream(stream, stdout, new PassThrough().resume());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`a script in the sandbox did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return out;
}
