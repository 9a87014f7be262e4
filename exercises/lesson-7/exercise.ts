import { defineExercise } from '../define.js';

const MB = 1000 * 1000;

/** Lesson 7, multi-stage builds: build with the whole toolchain, ship only the binary. */
export default defineExercise({
  id: 'lesson-7',
  title: 'Ship a Go service without its toolchain',
  image: 'lesson-7',
  buildHint: 'In the sandbox, in the folder with your Dockerfile, run `docker build -t lesson-7 .`',
  checks: [
    {
      id: 'size',
      title: 'The image is at most 20 MB',
      kind: 'max-size',
      params: { bytes: 20 * MB },
      hint: 'Everything in the last stage of the build ships. Which stage still holds the Go toolchain, and does the service need it to run?',
    },
    {
      id: 'layers',
      title: 'The image has at most 5 layers',
      kind: 'max-layers',
      params: { count: 5 },
      hint: 'The base image brings its own layers, and every RUN, COPY and ADD in the last stage adds one. `docker history` shows where they come from.',
    },
    {
      id: 'no-build-tools',
      title: 'No build tools ship in the image',
      kind: 'build-tools-absent',
      params: { families: ['go', 'c-compiler', 'make', 'git'] },
      hint: 'Deleting a tool in a later RUN does not take it out of the image: its layer still ships. Build in one stage, and start the stage you ship from a base without the tools.',
    },
    {
      id: 'runs',
      title: 'A container from the image is the service: within 5 s, GET /healthz on port 8080 answers 200 "ok", and GET / answers 200',
      kind: 'http-responds',
      params: {
        port: 8080,
        requests: [
          { path: '/healthz', status: 200, body: 'ok' },
          { path: '/', status: 200 },
        ],
        withinMs: 5000,
        // main.go's package: `go build .` names it by the module, `go build main.go` as command-line-arguments.
        builtFrom: ['example.com/layerlab/hello', 'command-line-arguments'],
      },
      hint: 'Run it yourself with `docker run --rm -p 8080:8080 lesson-7` and read what it prints. A Go binary built with cgo needs a C library at run time; a static one needs nothing.',
    },
    {
      id: 'runs-as-non-root',
      title: 'The service runs as a user other than root',
      kind: 'runs-as-non-root',
      params: {},
      isAdvisory: true,
      hint: 'A USER instruction in the last stage sets who the process runs as; a numeric id works even where there is no /etc/passwd.',
    },
  ],
});
