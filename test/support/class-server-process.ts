import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../runner/src/project-root.js';

export interface StartedClass {
  child: ChildProcessWithoutNullStreams;
  instructorUrl: string;
  joinLink: string;
  origin: string;
  token: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C, as an instructor stops it; resolves with the exit code. */
  stop(): Promise<number>;
  /** kill -9: no chance to clean up. */
  kill(): Promise<void>;
}

const courseBin = path.join(projectRoot, 'runner', 'bin', 'course.js');

/** Runs the built `course class serve --no-open` as an instructor would, and waits for its links. */
export async function startClassServer(env: Record<string, string>, args: string[] = []): Promise<StartedClass> {
  const child = spawn(process.execPath, [courseBin, 'class', 'serve', '--no-open', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : -1))));
  const [instructorUrl, joinLink] = await new Promise<[string, string]>((resolve, reject) => {
    const look = () => {
      const instructor = /https?:\/\/\S+\/class\/\?token=[\w-]+/.exec(stdout)?.[0];
      const join = /course join '(https?:\/\/[^']+)'/.exec(stdout)?.[1];
      if (instructor && join) resolve([instructor, join]);
    };
    child.stdout.on('data', look);
    void exited.then((code) => reject(new Error(`course class serve exited ${code} before printing its links:\n${stdout}\n${stderr}`)));
  });
  const parsed = new URL(instructorUrl);
  return {
    child,
    instructorUrl,
    joinLink,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    port: Number(parsed.port),
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
