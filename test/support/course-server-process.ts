import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../runner/src/project-root.js';

export interface StartedCourse {
  child: ChildProcessWithoutNullStreams;
  /** The link `course start` printed, token included. */
  url: string;
  origin: string;
  token: string;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C, as a learner stops it; resolves with the exit code. */
  stop(): Promise<number>;
}

const courseBin = path.join(projectRoot, 'runner', 'bin', 'course.js');

/** Runs the built `course start --no-open --port 0` as a learner would, and waits for its link. */
export async function startCourse(env: Record<string, string>, extraArgs: string[] = []): Promise<StartedCourse> {
  const child = spawn(process.execPath, [courseBin, 'start', '--no-open', '--port', '0', ...extraArgs], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(stdout);
      if (match) resolve(match[0]);
    };
    child.stdout.on('data', look);
    void exited.then((code) => reject(new Error(`course start exited ${code} before printing its link:\n${stderr}`)));
  });
  const parsed = new URL(url);
  return {
    child,
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      return await exited;
    },
  };
}
