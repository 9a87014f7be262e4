import { defineExercise } from '../define.js';

const base = 'debian:trixie-slim';

/** Lesson 1, what an image is: a base's layers, shared, and one layer of your own on top. */
export default defineExercise({
  id: 'lesson-1',
  title: 'One layer on top of a shared base',
  image: 'lesson-1',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-1 && docker build -t lesson-1 .`',
  checks: [
    {
      id: 'on-debian',
      title: `The image is built on ${base} and shares its layer`,
      kind: 'shares-base-layers',
      params: { base },
      hint: `Compare \`docker image inspect --format '{{json .RootFS.Layers}}'\` for lesson-1 and for ${base}. The bottom of the list comes from the FROM line.`,
    },
    {
      id: 'two-layers',
      title: "The image has two layers: the base's and one of your own",
      kind: 'max-layers',
      params: { count: 2 },
      hint: 'Every RUN, COPY and ADD adds a layer, and with BuildKit so does WORKDIR. `docker history lesson-1` shows which rows made one; the task needs a single instruction after FROM.',
    },
    {
      id: 'motd',
      title: '/etc/motd holds the greeting from the task',
      kind: 'file-contains',
      params: { path: '/etc/motd', text: `This image is ${base} plus one layer.` },
      hint: '`docker run --rm lesson-1 cat /etc/motd` shows what a container sees. The file you COPY comes from the build context, the folder you built in: does it hold the sentence the task gives?',
    },
    {
      id: 'nothing-else',
      title: 'Your layer changes /etc/motd and nothing else',
      kind: 'adds-only',
      params: { base, paths: ['/etc/motd'] },
      hint: 'Everything an instruction writes ships with the image, a file written "just in case" too. `docker history lesson-1` lists the instructions that wrote something.',
    },
  ],
});
