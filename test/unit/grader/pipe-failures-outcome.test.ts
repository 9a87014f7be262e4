import { describe, expect, it } from 'vitest';
import { hasPipe, pipeFailuresFailTheBuild, runRowOf } from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { facts } from './builders.js';

// The whole outcome, and the edges of reading a RUN row and its pipes.

const judge = (...createdBy: string[]) => pipeFailuresFailTheBuild.evaluate(facts({ history: createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false })) }), {});
const expected = 'no RUN with a pipe runs without pipefail';

describe('pipe-failures-fail-the-build: outcome', () => {
  it('passes, saying every pipe fails with its commands', () => {
    expect(judge('RUN /bin/bash -o pipefail -c a | b # buildkit')).toEqual({ status: 'pass', expected, actual: 'every pipe fails with its commands' });
  });

  it('lists every unguarded RUN with its shell', () => {
    expect(judge('RUN /bin/sh -c a | b # buildkit', 'RUN /bin/bash -c x|y', '/bin/ash -e -c c |& d')).toEqual({
      status: 'fail',
      expected,
      actual: '3 RUNs with a pipe and no pipefail',
      message:
        '`RUN a | b` (in /bin/sh); `RUN x|y` (in /bin/bash); `RUN c |& d` (in /bin/ash -e): a pipe reports only the exit code of its last command, so a command that fails before it does not stop the build.',
    });
    expect(judge('RUN /bin/sh -c a | b').actual).toBe('1 RUN with a pipe and no pipefail');
  });

  it('takes pipefail from the shell options or a leading set, and nowhere else', () => {
    for (const guarded of [
      'RUN /bin/bash -o pipefail -c a | b',
      'RUN /bin/bash -euo pipefail -c a | b',
      'RUN /bin/bash -e -o pipefail -c a | b',
      'RUN /bin/sh -c set -o pipefail; a | b',
      'RUN /bin/sh -c   set -eo pipefail && a | b',
      'RUN /bin/sh -c set -o errexit -o pipefail && a | b',
    ]) {
      expect(judge(guarded).status, guarded).toBe('pass');
    }
    for (const unguarded of [
      'RUN /bin/sh -c a | b && set -o pipefail',
      'RUN /bin/sh -c echo set -o pipefail | b',
      'RUN /bin/sh -c set -o pipefailx; a | b',
      'RUN /bin/bash -o pipefailx -c a | b',
      'RUN /bin/sh -c set -o nounset; a | b',
    ]) {
      expect(judge(unguarded).status, unguarded).toBe('fail');
    }
  });
});

describe('reading a RUN row', () => {
  it('reads both builders, with and without build arguments, and what is not a RUN', () => {
    expect(runRowOf('  RUN |2 A=1 B= /bin/sh -c make | tee log   # buildkit  ')).toEqual({ shell: '/bin/sh', command: 'make | tee log' });
    expect(runRowOf('/bin/sh -c make')).toEqual({ shell: '/bin/sh', command: 'make' });
    expect(runRowOf('/bin/bash -x -c a\nb')).toEqual({ shell: '/bin/bash -x', command: 'a\nb' });
    expect(runRowOf('/usr/bin/zsh -c a')).toEqual({ shell: '/usr/bin/zsh', command: 'a' });
    expect(runRowOf('RUN ["make"]')).toEqual({ shell: 'exec form', command: '["make"]' });
    expect(runRowOf('/bin/sh -c #(nop)  CMD ["x"]')).toBeUndefined();
    expect(runRowOf('ENV A=1')).toBeUndefined();
    expect(runRowOf('RUNNER x')).toBeUndefined();
  });

  it('finds a pipe outside quotes and escapes only', () => {
    expect(hasPipe('a | b')).toBe(true);
    expect(hasPipe('a|b')).toBe(true);
    expect(hasPipe('a || b | c')).toBe(true);
    expect(hasPipe('a \\| b')).toBe(false);
    expect(hasPipe("a '\\' | b")).toBe(true);
    expect(hasPipe('a "\\" | b" c')).toBe(false);
    expect(hasPipe('a "x" | b')).toBe(true);
    expect(hasPipe("a 'x' | b")).toBe(true);
    expect(hasPipe('a "it\'s" b')).toBe(false);
    expect(hasPipe('')).toBe(false);
  });
});
