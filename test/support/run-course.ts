import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../runner/src/project-root.js';

export interface CourseResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const courseBin = path.join(projectRoot, 'runner', 'bin', 'course.js');

/**
 * Runs the built `course` command as a user would: no terminal, stdin closed, or piped
 * `input` (as in `echo … | course shell`).
 */
export async function runCourse(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: { input?: string; nodeOptions?: string[] } = {},
): Promise<CourseResult> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), courseBin, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  return { exitCode, stdout, stderr };
}

/** A user mistake must be explained, never answered with a stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)/.test(text) || /\bat async\b/.test(text);
}
