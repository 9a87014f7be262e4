import { runCourseUntil, type CourseProcess } from './course-process.js';

export interface StartedClass extends CourseProcess<[string, string]> {
  instructorUrl: string;
  joinLink: string;
  origin: string;
  token: string;
  port: number;
}

/** Runs the built `course class serve --no-open` as an instructor would, and waits for its links. */
export async function startClassServer(env: Record<string, string>, args: string[] = []): Promise<StartedClass> {
  const started = await runCourseUntil(['class', 'serve', '--no-open', ...args], env, (stdout) => {
    const instructor = /https?:\/\/\S+\/class\/\?token=[\w-]+/.exec(stdout)?.[0];
    const join = /course join '(https?:\/\/[^']+)'/.exec(stdout)?.[1];
    return instructor && join ? ([instructor, join] as [string, string]) : undefined;
  });
  const [instructorUrl, joinLink] = started.printed;
  const parsed = new URL(instructorUrl);
  return {
    ...started,
    instructorUrl,
    joinLink,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    port: Number(parsed.port),
  };
}
