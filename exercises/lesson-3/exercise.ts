import { defineExercise } from '../define.js';

/** The token the starter builds into the image; the checks make sure it is gone. */
const token = 'glt_7c41e09b2f5d8a36';

/** Lesson 3, Dockerfile instructions: an image that meets a spec and behaves like a command. */
export default defineExercise({
  id: 'lesson-3',
  title: 'An image that behaves like a command',
  image: 'lesson-3',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-3 && docker build -t lesson-3 .`',
  checks: [
    {
      id: 'entrypoint-exec-form',
      title: 'ENTRYPOINT runs greet, in exec form',
      kind: 'exec-form',
      params: { instruction: 'ENTRYPOINT', program: 'greet' },
      hint: 'A plain string after ENTRYPOINT is handed to /bin/sh -c; a JSON array is run as it is. Look at the ENTRYPOINT columns of the CMD × ENTRYPOINT table in the lesson.',
    },
    {
      id: 'cmd-default-args',
      title: 'CMD gives the default arguments, in exec form',
      kind: 'exec-form',
      params: { instruction: 'CMD' },
      hint: 'Default arguments belong in the instruction that the arguments of `docker run` replace. `docker image inspect --format "{{json .Config.Cmd}}" lesson-3` shows what the image has now.',
    },
    {
      id: 'non-root',
      title: 'greet runs as a user other than root',
      kind: 'runs-as-non-root',
      params: {},
      hint: 'One instruction sets the user for later RUN steps and for the container. busybox:latest already lists an unprivileged user in /etc/passwd, and a numeric id works without one.',
    },
    {
      id: 'authors-label',
      title: 'The label org.opencontainers.image.authors names Ada Lovelace <ada@example.com>',
      kind: 'label-equals',
      params: { key: 'org.opencontainers.image.authors', value: 'Ada Lovelace <ada@example.com>' },
      hint: 'MAINTAINER is deprecated and sets no label; `docker image inspect --format "{{json .Config.Labels}}" lesson-3` shows the labels the image has.',
    },
    {
      id: 'port-8080',
      title: 'The image documents port 8080/tcp, where greet --serve listens',
      kind: 'port-exposed',
      params: { port: 8080 },
      hint: 'One instruction records a port in the image config without publishing anything; `-p` publishes it when a container starts.',
    },
    {
      id: 'no-token',
      title: 'The token is in neither the image config nor its history',
      kind: 'no-secret',
      params: { value: token, name: 'the GREET_TOKEN value' },
      hint: 'Whatever ENV sets stays in every container, and BuildKit writes build arguments into the history of every later RUN. greet reads GREET_TOKEN when it runs: who could hand it over at that moment?',
    },
    {
      id: 'runs-without-args',
      title: '`docker run lesson-3` prints "hello, world"',
      kind: 'run-output',
      params: { stdout: 'hello, world' },
      hint: 'Run `docker run --rm lesson-3` yourself. With no arguments, the words come from the image: which instruction supplies them?',
    },
    {
      id: 'runs-with-args',
      title: '`docker run lesson-3 Ada Lovelace` prints "hello, Ada Lovelace"',
      kind: 'run-output',
      params: { args: ['Ada', 'Lovelace'], stdout: 'hello, Ada Lovelace' },
      hint: 'Run `docker run --rm lesson-3 Ada Lovelace` yourself. If the names are ignored, ask which form of ENTRYPOINT passes the arguments of docker run on to the program.',
    },
  ],
});
