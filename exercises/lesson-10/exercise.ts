import { defineExercise } from '../define.js';

/** Lesson 10, when a build fails: a failure a pipe hid, found in the log and fixed for good. */
export default defineExercise({
  id: 'lesson-10',
  title: 'Find the failure the build hid',
  image: 'lesson-10',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-10 && docker build -t lesson-10 .`',
  checks: [
    {
      id: 'installed',
      title: 'report is installed in /usr/local/bin',
      kind: 'files-present',
      params: { paths: ['/usr/local/bin/report'] },
      hint: 'The step that should install it "succeeded". `docker build --progress=plain --no-cache .` prints what make said; read it from the bottom up.',
    },
    {
      id: 'runs',
      title: '`docker run lesson-10` prints the nightly report line',
      kind: 'run-output',
      params: { stdout: 'report: the nightly numbers are in', program: '/usr/local/bin/report' },
      hint: 'Run `docker run --rm lesson-10` yourself. If it cannot find report, the program was never installed: the log in /var/log/report-build.log says why.',
    },
    {
      id: 'failures-fail-the-build',
      title: 'A failing make fails the build',
      kind: 'pipe-failures-fail-the-build',
      // make too, pipe or not: `make || true`, or `make; echo done`, hides its failure as well as tee does.
      params: { commands: ['make'] },
      hint: 'A pipe reports the exit code of its last command, and `tee` always succeeds. Which instruction picks the shell that RUN uses, and which bash option makes a pipe fail when any part of it fails?',
    },
  ],
});
