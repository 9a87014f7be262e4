import { PassThrough } from 'node:stream';
import { asLearner } from '../../runner/src/sandbox/learner-shell.js';
import type { Engine } from '../../runner/src/engine.js';
import type { Instance } from '../../runner/src/settings.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a bash script inside the sandbox container, as the learner's shell would.
 * `files` are handed over as environment variables (FILE_<n>), so scripts can write them
 * with `printf '%s' "$FILE_main_go" > main.go` without quoting trouble.
 */
export async function execInSandbox(
  engine: Engine,
  instance: Instance,
  script: string,
  files: Record<string, string> = {},
): Promise<ExecResult> {
  const exec = await engine.docker.getContainer(instance.containerName).exec({
    Cmd: asLearner(['bash', '-c', script]),
    Env: Object.entries(files).map(([name, content]) => `FILE_${name}=${content}`),
    AttachStdout: true,
    AttachStderr: true,
    WorkingDir: '/root',
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  engine.docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: out, stderr: err };
}
