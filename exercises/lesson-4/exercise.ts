import { defineExercise } from '../define.js';

const MB = 1000 * 1000;

/** The checksum line's hash: only a build that made numbers.txt and hashed it can know it. */
const checksum = 'cb55d986df9aa5351f8c3a05b268138f63a593a742348ff4074656136b7071da';

/** What summary.txt holds when it is made from the numbers 1 to 5,000,000 (busybox seq, wc, sha256sum). */
const summary = `5000000\n${checksum}  numbers.txt`;

/** Lesson 4, layers and history: a file deleted in a later step still ships; never write it into a layer. */
export default defineExercise({
  id: 'lesson-4',
  title: 'Keep a temporary file out of every layer',
  image: 'lesson-4',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-4 && docker build -t lesson-4 .`',
  checks: [
    {
      id: 'numbers-in-no-layer',
      title: 'No layer holds /srv/numbers.txt, not even one a later layer deletes it from',
      kind: 'path-never-in-layers',
      params: { paths: ['/srv/numbers.txt'] },
      hint: 'A RUN that deletes a file only adds a whiteout on top; the layer that wrote the file still ships it. A layer is recorded when its RUN ends: where must the file be gone by then?',
    },
    {
      id: 'size',
      title: 'The image is at most 5 MB',
      kind: 'max-size',
      params: { bytes: 5 * MB },
      hint: '`docker history lesson-4` shows each layer and its size. Which row holds the 38.9 MB, and is the file it wrote still needed by the next row?',
    },
    {
      id: 'same-summary',
      title: '/srv/summary.txt still holds the count and checksum of the numbers 1 to 5,000,000',
      kind: 'file-contains',
      params: { path: '/srv/summary.txt', text: summary },
      hint: 'Keep the commands that make numbers.txt and read it; change only which instruction they run in.',
    },
    {
      id: 'summary-computed',
      title: 'The build computes the checksum; no instruction writes it out',
      kind: 'computed-in-build',
      params: { value: checksum, name: 'the checksum of numbers.txt', path: '/srv/summary.txt' },
      hint: 'Copying the summary the starter printed into the Dockerfile gives the right bytes for the wrong reason. Let the build make numbers.txt and read it, as the starter did; the task is only to change which instruction does it.',
    },
    {
      id: 'same-output',
      title: '`docker run lesson-4` prints the summary, as before',
      kind: 'run-output',
      params: { stdout: summary },
      hint: 'Run `docker run --rm lesson-4` and compare with what the starter printed. The CMD and WORKDIR of the starter were fine as they were.',
    },
  ],
});
