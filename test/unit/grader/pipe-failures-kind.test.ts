import { describe, expect, it } from 'vitest';
import { hasPipe, pipeFailuresFailTheBuild, runRowOf } from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { facts } from './builders.js';

const withHistory = (...createdBy: string[]) => facts({ history: createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false })) });
const judge = (...createdBy: string[]) => pipeFailuresFailTheBuild.evaluate(withHistory(...createdBy), {});

describe('pipe-failures-fail-the-build', () => {
  it('fails a BuildKit RUN that pipes make into tee in /bin/sh, naming the step', () => {
    const outcome = judge('WORKDIR /src', 'RUN /bin/sh -c make install 2>&1 | tee /var/log/report-build.log # buildkit', 'CMD ["report"]');
    expect(outcome.status).toBe('fail');
    expect(outcome).toMatchObject({ message: expect.stringContaining('RUN make install 2>&1 | tee /var/log/report-build.log') });
    expect(outcome).toMatchObject({ message: expect.stringContaining('(in /bin/sh)') });
  });

  it('fails the same step written by the legacy builder, and with build arguments before it', () => {
    expect(judge('/bin/sh -c make | tee log').status).toBe('fail');
    expect(judge('RUN |1 V=2 /bin/sh -c make | tee log # buildkit').status).toBe('fail');
  });

  it('fails the legacy builder\'s exec form through a shell, and its shell form after build arguments (measured rows)', () => {
    // `RUN ["sh","-c","make | tee log"]` with DOCKER_BUILDKIT=0 is recorded as the arguments joined.
    expect(judge('sh -c make | tee log')).toMatchObject({ status: 'fail', message: expect.stringContaining('`RUN make | tee log` (in sh)') });
    expect(judge('/bin/bash -c make | tee log').status).toBe('fail');
    expect(judge('|1 V=2 /bin/sh -c make | tee log').status).toBe('fail');
    expect(judge('bash -o pipefail -c make | tee log').status).toBe('pass');
  });

  it('does not take BuildKit\'s other rows, whose pipes are no shell\'s, for a RUN', () => {
    expect(judge('ENV PATTERN=a|b', 'LABEL x=a|b', 'SHELL ["/bin/sh", "-c"]', 'CMD ["sh", "-c", "a | b"]', 'COPY a|b /x # buildkit').status).toBe('pass');
  });

  it('passes with SHELL pipefail (both builders), with set -o pipefail, and with no pipe at all', () => {
    expect(judge('RUN /bin/bash -o pipefail -c make install 2>&1 | tee log # buildkit').status).toBe('pass');
    expect(judge('/bin/bash -eo pipefail -c make | tee log').status).toBe('pass');
    expect(judge('RUN /bin/sh -c set -o pipefail && make | tee log # buildkit').status).toBe('pass');
    expect(judge('RUN /bin/sh -c make install > log 2>&1 # buildkit', '/bin/sh -c #(nop)  CMD ["x"]').status).toBe('pass');
  });

  it('does not take ||, or a | inside quotes, for a pipe', () => {
    expect(hasPipe('make || true')).toBe(false);
    expect(hasPipe("echo 'a|b' \"c|d\" \\|")).toBe(false);
    expect(hasPipe('make |& tee log')).toBe(true);
    expect(judge('RUN /bin/sh -c make || echo "make failed" # buildkit').status).toBe('pass');
  });

  it('reads which shell ran a RUN', () => {
    expect(runRowOf('RUN /bin/bash -o pipefail -c a | b # buildkit')).toEqual({ shell: '/bin/bash -o pipefail', command: 'a | b' });
    expect(runRowOf('COPY a /b # buildkit')).toBeUndefined();
    expect(runRowOf('/bin/sh -c #(nop) WORKDIR /go')).toBeUndefined();
  });
});
