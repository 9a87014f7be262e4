import { runCourseUntil, type CourseProcess } from './course-process.js';

export interface StartedCourse extends CourseProcess<string> {
  /** The link `course start` printed, token included. */
  url: string;
  origin: string;
  token: string;
}

/** Runs the built `course start --no-open --port 0` as a learner would, and waits for its link. */
export async function startCourse(env: Record<string, string>, extraArgs: string[] = []): Promise<StartedCourse> {
  const started = await runCourseUntil(['start', '--no-open', '--port', '0', ...extraArgs], env, (stdout) =>
    /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(stdout)?.[0],
  );
  const parsed = new URL(started.printed);
  return { ...started, url: started.printed, origin: parsed.origin, token: parsed.searchParams.get('token')! };
}
