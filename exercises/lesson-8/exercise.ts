import { defineExercise } from '../define.js';

const MB = 1000 * 1000;

/** Lesson 8, overlay2 and `docker container diff`: ship a C program and the one library it needs. */
export default defineExercise({
  id: 'lesson-8',
  title: 'Ship a C program with only the library it needs',
  image: 'lesson-8',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-8 && docker build -t lesson-8 .`',
  checks: [
    {
      id: 'runs',
      title: '`docker run lesson-8` prints "hello, world (libgreet 1.0)" and exits 0',
      kind: 'run-output',
      // Printed by greet itself: an `echo` of the line is no C program shipped.
      params: { stdout: 'hello, world (libgreet 1.0)', program: '/usr/local/bin/greet' },
      hint: 'Run `docker run --rm lesson-8` yourself and read what it says. "error while loading shared libraries" names what the loader could not find; "no such file or directory" for a program that is there means the loader itself is missing.',
    },
    {
      id: 'libraries-resolve',
      title: '/usr/local/bin/greet finds its loader and every library it needs',
      kind: 'shared-libraries-resolve',
      params: { executable: '/usr/local/bin/greet' },
      hint: 'Run `ldd` on greet in a container of the build stage: each line names a file the final image needs, and where the loader found it. A library outside the loader\'s built-in folders has to be made known to it, the way `make install` did.',
    },
    {
      id: 'no-build-tools',
      title: 'No C compiler or make ships in the image',
      kind: 'build-tools-absent',
      params: { families: ['c-compiler', 'make'] },
      hint: 'Whatever the stage you ship starts FROM comes along. Build in one stage, and start the last one from a base that never had gcc or make.',
    },
    {
      id: 'no-sources',
      title: 'The sources and the header are in no layer of the image',
      kind: 'path-never-in-layers',
      params: { paths: ['/**/libgreet.c', '/**/greet.h'] },
      hint: '`docker container diff` on the build container lists everything `make install` added. Which of those paths does greet open when it runs?',
    },
    {
      id: 'size',
      title: 'The image is at most 100 MB',
      kind: 'max-size',
      params: { bytes: 100 * MB },
      hint: 'The program and its library are a few kilobytes; the rest is the base of the last stage. `docker history lesson-8` shows which rows you did not mean to ship.',
    },
  ],
});
