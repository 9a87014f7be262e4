import { defineExercise } from '../define.js';

/** The dependency step of starter/Dockerfile, as BuildKit names it. */
const dependencyStep = 'go build -v example.com/textstats';

/** What the tool prints for its built-in sample text. */
const sampleOutput = '3 a\n3 is\n3 layer';

/** Lesson 5, the build cache: a source-only change must not re-run the dependency step. */
export default defineExercise({
  id: 'lesson-5',
  title: 'Keep the dependency step in the cache',
  image: 'lesson-5',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-5 && docker build -t lesson-5 .`',
  checks: [
    {
      id: 'dependencies-stay-cached',
      title: 'After a change to main.go alone, the dependency step comes from the cache',
      kind: 'step-stays-cached',
      params: { sourceFile: 'main.go', step: dependencyStep },
      hint: 'A step is reused only if it and every step before it are unchanged, and a COPY changes when any file it copies does. Which files does the dependency step really need, and which instruction brings main.go in?',
    },
    {
      id: 'still-works',
      title: '`docker run --rm lesson-5` still prints the three most frequent words',
      kind: 'run-output',
      params: { stdout: sampleOutput },
      hint: 'Reordering must not change what the image does: the tool is built from main.go and the vendored package, so both must be in /src before `go build -o /usr/local/bin/tally .` runs.',
    },
  ],
});
