import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { structuredPatch } from 'diff';
import tar from 'tar-stream';
import { findExercise } from '../../exercises/index.js';
import type { DockerfileComparison, ExerciseResetResult } from './contract/exercise-folder.js';
import { demuxLogStreams, isNotFound, type Engine } from './engine.js';
import { environmentError, usageError } from './errors.js';
import { projectRoot } from './project-root.js';
import { inspectContainer } from './sandbox/sandbox.js';
import { packFolder, sandboxExercisesDir } from './sandbox/workspace.js';
import type { Instance } from './settings.js';

/** A Dockerfile bigger than this is not something we diff on a page. */
const maxDockerfileBytes = 256 * 1024;

export interface ExerciseFolderOptions {
  engine: Engine;
  instance: Instance;
  /** Where exercises live on this machine (tests pass their own). */
  exercisesRoot?: string;
  /** The clock for the kept folder's name. */
  now?: Date;
}

/**
 * Puts the exercise's starter back in ~/exercises/<id> in the sandbox. The learner's folder
 * is never deleted: it is moved beside it first, as ~/exercises/<id>.saved-<date-time>.
 * If copying the starter fails, the learner's folder is moved back, so nothing is lost.
 */
export async function resetExercise(exerciseId: string, options: ExerciseFolderOptions): Promise<ExerciseResetResult> {
  const exercise = findExercise(exerciseId);
  const starter = path.join(options.exercisesRoot ?? path.join(projectRoot, 'exercises'), exercise.id, 'starter');
  if (!(await stat(starter).catch(() => undefined))?.isDirectory()) {
    throw usageError(`The exercise ${exercise.id} has no starter folder to reset to.`, 'Only exercises that start from files can be reset.');
  }
  const container = await runningSandbox(options);
  const folder = `${sandboxExercisesDir}/${exercise.id}`;
  const keptAs = `${folder}.saved-${stamp(options.now ?? new Date())}`;
  // One shell step, so the move is all or nothing; a name already taken (two resets in one second) gets a suffix.
  const moved = await execInSandbox(options, [
    'sh',
    '-c',
    'set -e; folder="$1"; kept="$2"; [ -e "$folder" ] || exit 0; n=2; target="$kept"; while [ -e "$target" ]; do target="$kept-$n"; n=$((n+1)); done; mv "$folder" "$target"; printf %s "$target"',
    'reset',
    folder,
    keptAs,
  ]);
  try {
    await container.putArchive(await packFolder(starter, `exercises/${exercise.id}`), { path: '/root' });
  } catch (error) {
    if (moved) await execInSandbox(options, ['sh', '-c', 'rm -rf "$1" && mv "$2" "$1"', 'restore', folder, moved]).catch(() => {});
    throw environmentError(`Could not copy the starter of ${exercise.id} into the sandbox (${error instanceof Error ? error.message : String(error)}); your files are where they were.`, 'Check that the sandbox is running with `course status`, then try again.');
  }
  return { exercise: exercise.id, folder: toHome(folder), ...(moved ? { keptAs: toHome(moved) } : {}) };
}

/** The learner's Dockerfile in the sandbox against the exercise's solution, line by line. */
export async function compareWithSolution(exerciseId: string, options: ExerciseFolderOptions): Promise<DockerfileComparison> {
  const exercise = findExercise(exerciseId);
  const solutionFile = path.join(options.exercisesRoot ?? path.join(projectRoot, 'exercises'), exercise.id, 'solution', 'Dockerfile');
  const solution = await readFile(solutionFile, 'utf8').catch(() => {
    throw usageError(`The exercise ${exercise.id} has no solution Dockerfile to compare with.`, 'Compare works for exercises whose answer is a Dockerfile.');
  });
  const container = await runningSandbox(options);
  const learnerPath = `${sandboxExercisesDir}/${exercise.id}/Dockerfile`;
  const learner = await readSmallFile(container, learnerPath);
  const patch = structuredPatch('your Dockerfile', 'solution', normalise(learner ?? ''), normalise(solution), '', '', { context: 3 });
  return {
    exercise: exercise.id,
    learnerPath: toHome(learnerPath),
    hasLearnerFile: learner !== undefined,
    isSame: patch.hunks.length === 0,
    hunks: patch.hunks.map(({ oldStart, oldLines, newStart, newLines, lines }) => ({ oldStart, oldLines, newStart, newLines, lines })),
  };
}

/** "2026-11-30-120355": sorts by time and is safe in a file name. */
function stamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', '-').replace(/:/g, '');
}

function toHome(sandboxPath: string): string {
  return sandboxPath.replace(/^\/root(?=\/|$)/, '~');
}

/** Line endings and the last newline do not count as differences. */
function normalise(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n');
  return lines.endsWith('\n') || lines === '' ? lines : `${lines}\n`;
}

type Container = ReturnType<Engine['docker']['getContainer']>;

async function runningSandbox({ engine, instance }: ExerciseFolderOptions): Promise<Container> {
  const info = await inspectContainer(engine, instance);
  if (!info?.State.Running) {
    throw environmentError('The sandbox is not running, so its exercise folders cannot be reached.', 'Start it with `course start` (or `course up`), then try again.');
  }
  return engine.docker.getContainer(instance.containerName);
}

/** Runs a command in the sandbox container (not in its nested engine); returns its output, throws on a non-zero exit. */
async function execInSandbox({ engine, instance }: ExerciseFolderOptions, command: string[]): Promise<string> {
  const container = engine.docker.getContainer(instance.containerName);
  const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true, User: 'root' });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Readable;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const { stdout, stderr } = demuxLogStreams(Buffer.concat(chunks));
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw environmentError(`A command in the sandbox failed: ${stderr.trim() || `exit ${ExitCode}`}.`, 'Check that the sandbox is running with `course status`, then try again.');
  return stdout;
}

/** A regular file's text from the sandbox, or undefined when there is none. */
async function readSmallFile(container: Container, filePath: string): Promise<string | undefined> {
  let archive: NodeJS.ReadableStream;
  try {
    archive = await container.getArchive({ path: filePath });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const extract = tar.extract();
  let text: string | undefined;
  let problem: string | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: unknown) => {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size <= maxDockerfileBytes) chunks.push(bytes);
    });
    stream.on('end', () => {
      if (text === undefined && problem === undefined) {
        if (header.type !== 'file') problem = `${toHome(filePath)} is not a regular file`;
        else if (size > maxDockerfileBytes) problem = `${toHome(filePath)} is over ${maxDockerfileBytes / 1024} KiB`;
        else text = Buffer.concat(chunks).toString('utf8');
      }
      next();
    });
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    archive.pipe(extract);
  });
  if (problem) throw usageError(`Cannot compare: ${problem}.`, 'Make it a plain Dockerfile, then try again.');
  return text;
}
