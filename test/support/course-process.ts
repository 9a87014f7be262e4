import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../runner/src/project-root.js';

/** The built `course` command, run as a person would from a terminal, until it has printed what the test waits for. */
export interface CourseProcess<Printed> {
  child: ChildProcessWithoutNullStreams;
  printed: Printed;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C; resolves with the exit code (128 + 9 after a kill -9). */
  stop(): Promise<number>;
  /** kill -9: no chance to clean up. */
  kill(): Promise<void>;
}

const courseBin = path.join(projectRoot, 'runner', 'bin', 'course.js');

/**
 * Spawns `course ARGS` and resolves once `lookFor` finds what it waits for in the standard output
 * so far; rejects, with both outputs, if the command exits first.
 */
export async function runCourseUntil<Printed>(
  args: string[],
  env: Record<string, string>,
  lookFor: (stdout: string) => Printed | undefined,
): Promise<CourseProcess<Printed>> {
  const child = spawn(process.execPath, [courseBin, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : -1))));
  const printed = await new Promise<Printed>((resolve, reject) => {
    child.stdout.on('data', () => {
      const found = lookFor(stdout);
      if (found !== undefined) resolve(found);
    });
    void exited.then((code) =>
      reject(new Error(`course ${args.join(' ')} exited ${code} before printing what the test waits for:\n${stdout}\n${stderr}`)),
    );
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    printed,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (running()) child.kill('SIGINT');
      return await exited;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
