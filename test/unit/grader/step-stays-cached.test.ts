import { describe, expect, it } from 'vitest';
import { runsCommand, stepStaysCached } from '../../../runner/src/grader/kinds/step-stays-cached.js';
import type { BuildStepFacts, RebuildProbeResult } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// step-stays-cached, word for word: the steps named, in Dockerfile order, stage by stage.

const step = (name: string, isCached: boolean): BuildStepFacts => ({ name, isCached });
const params = stepStaysCached.params.parse({ sourceFile: 'main.go', step: 'go build ./deps' });
const expected = '`go build ./deps` CACHED after a change to main.go alone';
const request = { sourceFile: 'main.go', withinMs: 300_000, folder: '/root/exercises/lesson-5' };
const judge = (rebuild: RebuildProbeResult | undefined) => stepStaysCached.evaluate(facts({ probes: rebuild ? { rebuild } : {} }), params);
const rebuilt = (afterChange: BuildStepFacts[]) => judge({ ...request, outcome: 'rebuilt', asIs: [], afterChange });

describe('step-stays-cached: parameters', () => {
  it('takes a relative source file, a command of three characters or more, and up to 15 minutes', () => {
    expect(params.withinMs).toBe(300_000);
    const accepts = (value: unknown) => stepStaysCached.params.safeParse(value).success;
    expect(accepts({ sourceFile: 'src/main.go', step: 'abc', withinMs: 900_000 })).toBe(true);
    expect(accepts({ sourceFile: 'main.go', step: 'ab' })).toBe(false);
    expect(accepts({ sourceFile: 'main.go', step: 'abc', withinMs: 900_001 })).toBe(false);
    expect(accepts({ sourceFile: 'main.go', step: 'abc', withinMs: 0 })).toBe(false);
    expect(accepts({ sourceFile: 'main.go', step: 'abc', withinMs: 1.5 })).toBe(false);
    for (const sourceFile of ['/main.go', 'src/*.go', 'src/?.go', '']) {
      const result = stepStaysCached.params.safeParse({ sourceFile, step: 'abc' });
      expect(result.success ? '' : result.error.issues[0]?.message, sourceFile).toBe('must be a path relative to the exercise folder, such as main.go');
    }
  });
});

describe('step-stays-cached: verdicts', () => {
  it('skips when nothing was rebuilt', () => {
    expect(judge(undefined)).toEqual({ status: 'skip', expected, actual: 'not rebuilt', message: 'The project was not rebuilt.' });
    expect(judge({ ...request, folder: '', outcome: 'not-given' })).toEqual({
      status: 'skip',
      expected,
      actual: 'not rebuilt',
      message: 'Not checked: this check rebuilds your project, and no folder was given. Run `course check <lesson> --exercise-folder DIR` with DIR the folder holding its Dockerfile.',
    });
  });

  it('fails a missing folder, source file, failed or slow build, saying which build', () => {
    expect(judge({ ...request, outcome: 'no-folder', reason: 'no such folder' })).toEqual({
      status: 'fail',
      expected,
      actual: 'no folder to rebuild',
      message: 'There is no folder /root/exercises/lesson-5 to rebuild (no such folder). This check rebuilds your project where the course put it, ~/exercises/<lesson> in the sandbox.',
    });
    expect(judge({ ...request, outcome: 'no-source-file' })).toMatchObject({ status: 'fail', actual: 'no main.go' });
    const long = 'e'.repeat(401);
    expect(judge({ ...request, outcome: 'build-failed', build: 'as-is', error: long })).toEqual({
      status: 'fail',
      expected,
      actual: 'the build failed',
      message: `Building /root/exercises/lesson-5 as it is failed: ${'e'.repeat(400)}…`,
    });
    expect(judge({ ...request, outcome: 'build-failed', build: 'as-is', error: 'f'.repeat(400) }).message).toBe(`Building /root/exercises/lesson-5 as it is failed: ${'f'.repeat(400)}`);
    expect(judge({ ...request, withinMs: 90_400, outcome: 'timed-out', build: 'after-change' })).toEqual({
      status: 'fail',
      expected,
      actual: 'the build took too long',
      message: 'Building /root/exercises/lesson-5 after a comment was appended to main.go did not finish within 90 s.',
    });
  });

  it('passes, listing the cached steps and what ran again in Dockerfile order, FROM left out', () => {
    const outcome = rebuilt([
      step('[1/6] FROM docker.io/library/golang:1.24', false),
      step('[5/6] COPY main.go ./', false),
      step('[3/6] RUN go build ./deps', true),
      step('[2/6] COPY go.mod ./', true),
      step('[4/6] RUN CGO_ENABLED=0 go build ./deps', true),
      step('[6/6] RUN go build -o /app .', false),
    ]);
    expect(outcome).toEqual({
      status: 'pass',
      expected,
      actual: 'CACHED: `[3/6] RUN go build ./deps`, `[4/6] RUN CGO_ENABLED=0 go build ./deps`; ran again: `[5/6] COPY main.go ./`, `[6/6] RUN go build -o /app .`',
    });
    expect(rebuilt([step('[1/2] from base', false), step('[2/2] RUN go build ./deps', true)]).actual).toBe('CACHED: `[2/2] RUN go build ./deps`; ran again: nothing');
  });

  it('orders steps of several stages by stage name, then number', () => {
    const outcome = rebuilt([
      step('[runtime 2/2] COPY --from=build /app /app', false),
      step('[build 4/4] RUN go build -o /app .', false),
      step('[build 3/4] COPY . .', false),
      step('[build 2/4] RUN go build ./deps', true),
    ]);
    expect(outcome.actual).toBe('CACHED: `[build 2/4] RUN go build ./deps`; ran again: `[build 3/4] COPY . .`, `[build 4/4] RUN go build -o /app .`, `[runtime 2/2] COPY --from=build /app /app`');
  });

  it('blames the first miss before the step in its own stage, not in another stage or after it', () => {
    const outcome = rebuilt([
      step('[other 2/3] COPY x .', false),
      step('[build 4/5] COPY main.go .', false),
      step('[build 3/5] COPY . .', false),
      step('[build 1/5] FROM golang', false),
      step('[build 5/5] RUN go build ./deps', false),
      step('[build 2/5] WORKDIR /src', true),
    ]);
    expect(outcome).toEqual({
      status: 'fail',
      expected,
      actual: 'ran again: `[build 3/5] COPY . .`, `[build 4/5] COPY main.go .`, `[build 5/5] RUN go build ./deps`, `[other 2/3] COPY x .`',
      message:
        'After a change to main.go alone, `[build 5/5] RUN go build ./deps` ran again. The first step that missed the cache was `[build 3/5] COPY . .`: main.go is among the files it copies, so its cache key changed, and every step after a miss runs again.',
    });
    const onlyLater = rebuilt([step('[build 2/3] RUN go build ./deps', false), step('[build 3/3] COPY . .', false), step('[other 1/2] COPY y .', false)]);
    expect(onlyLater.message).toBe(
      'After a change to main.go alone, `[build 2/3] RUN go build ./deps` ran again. No earlier step of its stage missed the cache, so the step itself changed between the two builds (does it use a value that differs every time?).',
    );
  });

  it('judges the first matching step that ran again, when a command runs twice', () => {
    const outcome = rebuilt([step('[2/4] RUN go build ./deps', true), step('[3/4] COPY . .', false), step('[4/4] RUN go build ./deps', false)]);
    expect(outcome.message).toContain('`[4/4] RUN go build ./deps` ran again. The first step that missed the cache was `[3/4] COPY . .`');
  });

  it('says which steps only mention the command, and none when none do', () => {
    expect(rebuilt([step('[2/3] RUN echo go build ./deps', true), step('[3/3] RUN true || go build ./deps', true), step('[1/3] FROM x', false)])).toEqual({
      status: 'fail',
      expected,
      actual: 'no such step',
      message:
        'No step of /root/exercises/lesson-5/Dockerfile runs `go build ./deps`, so there is nothing to compare. `[2/3] RUN echo go build ./deps`, `[3/3] RUN true || go build ./deps` mentions it without running it as its command. Keep that step as it was; change only where it stands.',
    });
    expect(rebuilt([step('[2/2] RUN make', true), step('[internal] load go build ./deps', false)]).message).toBe(
      'No step of /root/exercises/lesson-5/Dockerfile runs `go build ./deps`, so there is nothing to compare. Keep that step as it was; change only where it stands.',
    );
  });
});

describe('runsCommand at its edges', () => {
  it('reads flags, exec form, sequences and assignments as a shell does', () => {
    expect(runsCommand('  RUN go build ./deps  ', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN --mount=type=cache,target=/x --network=none go build ./deps', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN\tgo build ./deps', ' go  build ./deps ')).toBe(true);
    expect(runsCommand('RUN a; go build ./deps', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN a\ngo build ./deps', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN A=1 B_2=x go build ./deps', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN 1A=1 go build ./deps', 'go build ./deps')).toBe(false);
    expect(runsCommand('RUN go build ./deps > log', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN go build ./deps<in', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN go build ./deps&', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN go build ./deps|tee', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN go build ./depsx', 'go build ./deps')).toBe(false);
    expect(runsCommand('RUN go build ./deps || true', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN ["go", "build", "./deps"]', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN ["go", 1]', 'go 1')).toBe(false);
    expect(runsCommand('RUN [ -f x ] && go build ./deps', 'go build ./deps')).toBe(true);
    expect(runsCommand('RUN', 'go build')).toBe(false);
    expect(runsCommand('XRUN go build', 'go build')).toBe(false);
    expect(runsCommand('run go build', 'go build')).toBe(false);
  });
});
