import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { makeTar } from './tar.js';
import { followProgress, type Engine } from '../../runner/src/engine.js';
import { projectRoot } from '../../runner/src/project-root.js';
import type { Instance } from '../../runner/src/settings.js';

/** Builds the images the grader's tests and bench judge, for real, on a real engine. */

export const fixturesDir = path.join(projectRoot, 'test', 'fixtures', 'grader');
export const exerciseDir = (exercise: string, which: 'starter' | 'solution') => path.join(projectRoot, 'exercises', exercise, which);

/** The files of one folder (not recursive), as a build context. */
export async function contextOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) files.set(entry.name, await readFile(path.join(dir, entry.name)));
  }
  return files;
}

function tarOf(files: Map<string, Buffer>): Promise<Buffer> {
  return makeTar([...files].map(([name, content]) => ({ name, content })));
}

export interface BuildRequest {
  context: Map<string, Buffer>;
  tag: string;
  labels: Record<string, string>;
  buildArgs?: Record<string, string>;
}

/**
 * Builds with the engine's API (the legacy builder on Engine 20.10; what a CI engine
 * without buildx does).
 */
export async function buildWithApi(engine: Engine, request: BuildRequest): Promise<void> {
  const stream = await engine.docker.buildImage(
    Object.assign(new PassThrough().end(await tarOf(request.context)), {}) as unknown as NodeJS.ReadableStream,
    { t: request.tag, labels: request.labels, buildargs: request.buildArgs ?? {}, rm: true, forcerm: true },
  );
  await followProgress(engine.docker, stream);
}

/**
 * Builds inside a sandbox with its own `docker build` (BuildKit, as a learner does): the
 * context is copied into the sandbox container, built there, then removed.
 */
export async function buildInSandbox(hostEngine: Engine, instance: Instance, request: BuildRequest): Promise<void> {
  const container = hostEngine.docker.getContainer(instance.containerName);
  const dir = `/tmp/ll-build-${randomBytes(4).toString('hex')}`;
  await execIn(hostEngine, instance, ['mkdir', '-p', dir]);
  try {
    await container.putArchive(new PassThrough().end(await tarOf(request.context)) as unknown as NodeJS.ReadableStream, { path: dir });
    const args = ['docker', 'build', '-q', '-t', request.tag];
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.buildArgs ?? {})) args.push('--build-arg', `${key}=${value}`);
    await execIn(hostEngine, instance, [...args, dir]);
  } finally {
    await execIn(hostEngine, instance, ['rm', '-rf', dir]);
  }
}

/** Runs a command in the sandbox container; rejects with its output when it fails. */
export async function execIn(hostEngine: Engine, instance: Instance, command: string[]): Promise<string> {
  const exec = await hostEngine.docker.getContainer(instance.containerName).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  hostEngine.docker.modem.demuxStream(stream, output, output);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`${command.join(' ')} exited ${ExitCode}:\n${text}`);
  return text;
}
