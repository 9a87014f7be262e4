import { describe, expect, it } from 'vitest';
import { pipeFailuresFailTheBuild, runRowOf, shellOptions, topLevelCommands, unguardedPipe } from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { facts } from './builders.js';

// Misgrades found by the second round of adversarial answers (test/fixtures/answers.ts),
// each history row as BuildKit recorded it for the answer's image.

const judge = (...createdBy: string[]) => pipeFailuresFailTheBuild.evaluate(facts({ history: createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false })) }), {});
const row = (command: string, shell = '/bin/bash -o pipefail') => `RUN ${shell} -c ${command} # buildkit`;

describe('lesson 10: a failure the pipe hides, however the RUN is written', () => {
  it('fails a pipe whose failure a later command after ; replaces (measured: passed before)', () => {
    const outcome = judge(row('make install 2>&1 | tee /var/log/report-build.log; ls -l /usr/local/bin'));
    expect(outcome.status).toBe('fail');
    expect(outcome).toMatchObject({ message: expect.stringContaining('A command after `;` runs even when the pipe failed') });
    expect(judge(row('make | tee log\necho built')).status).toBe('fail');
    expect(judge(row('make | tee log & wait')).status).toBe('fail');
  });

  it('fails a pipe whose failure an || handler that succeeds swallows (measured: || echo passed before)', () => {
    const outcome = judge(row('make install 2>&1 | tee /var/log/report-build.log || echo "make failed, see the log"'));
    expect(outcome).toMatchObject({ status: 'fail', message: expect.stringContaining('`|| echo …` turns any failure into success') });
    for (const swallowed of ['make | tee log || true', 'make | tee log || :', 'make | tee log || exit 0', 'make | tee log; true', 'make | tee log || { echo failed; exit; }', 'make | tee log || (cat log; true)']) {
      expect(judge(row(swallowed)).status, swallowed).toBe('fail');
    }
  });

  it('passes a handler that keeps the failure, a list joined by &&, and errexit', () => {
    for (const kept of [
      'make | tee log || exit 1',
      'make | tee log || false',
      'make | tee log || { cat log; exit 2; }',
      'make | tee log || (cat log; exit 1)',
      'make | tee log && echo built',
      'make | tee log && ls && echo built',
      'make | tee log # then; echo built',
    ]) {
      expect(judge(row(kept)).status, kept).toBe('pass');
    }
    expect(judge(row('make | tee log; ls', '/bin/bash -e -o pipefail')).status).toBe('pass');
    expect(judge(row('set -e; make | tee log; ls', '/bin/bash -o pipefail')).status).toBe('pass');
    expect(judge(row('set +e; make | tee log; ls', '/bin/bash -eo pipefail')).status).toBe('fail');
  });

  it('takes pipefail from set -e -o pipefail, options apart (measured: failed before)', () => {
    expect(judge(row('set -e -o pipefail; make install 2>&1 | tee /var/log/report-build.log', '/bin/sh')).status).toBe('pass');
    expect(judge(row('set -eux -o pipefail && make | tee log', '/bin/sh')).status).toBe('pass');
    expect(judge(row('set -o errexit; set -o pipefail; make | tee log', '/bin/sh')).status).toBe('pass');
    expect(judge(row('set -e -o nounset; make | tee log', '/bin/sh')).status).toBe('fail');
    // set ends at its first word that is no option.
    expect(judge(row('set -- -o pipefail; make | tee log', '/bin/sh')).status).toBe('fail');
  });

  it('reads a SHELL through env, -c run together with other options, and -o with any option name (measured: env failed before)', () => {
    expect(runRowOf('RUN /usr/bin/env bash -o pipefail -c make install 2>&1 | tee /var/log/report-build.log # buildkit')).toEqual({
      shell: '/usr/bin/env bash -o pipefail',
      command: 'make install 2>&1 | tee /var/log/report-build.log',
    });
    expect(judge('RUN /usr/bin/env bash -o pipefail -c make | tee log # buildkit').status).toBe('pass');
    expect(judge('RUN /usr/bin/env bash -c make | tee log # buildkit').status).toBe('fail');
    // The legacy builder's row of the same SHELL, without the RUN word.
    expect(judge('/usr/bin/env bash -c make | tee log').status).toBe('fail');
    expect(runRowOf('RUN /bin/bash -o pipefail -ec a | b # buildkit')).toEqual({ shell: '/bin/bash -o pipefail -e', command: 'a | b' });
    expect(judge('RUN /bin/bash -o pipefail -ec a | b; c # buildkit').status).toBe('pass');
    expect(judge('RUN /bin/bash -o errexit -o pipefail -c a | b # buildkit').status).toBe('pass');
    expect(judge('RUN /bin/bash -o pipefail +o pipefail -c a | b # buildkit').status).toBe('fail');
  });

  it("passes bash's PIPESTATUS idiom, and only in bash (measured: failed before)", () => {
    expect(judge(row('make install 2>&1 | tee /var/log/report-build.log; exit "${PIPESTATUS[0]}"', '/bin/bash')).status).toBe('pass');
    expect(judge(row('make | tee log; exit ${PIPESTATUS[0]}', '/bin/bash')).status).toBe('pass');
    expect(judge(row('make | tee log; exit ${PIPESTATUS[0]}', '/bin/sh')).status).toBe('fail');
    expect(judge(row('make | tee log; echo ${PIPESTATUS[0]}', '/bin/bash')).status).toBe('fail');
    expect(judge(row('make | tee log || exit ${PIPESTATUS[0]}', '/bin/bash')).status).toBe('fail');
  });

  it('still fails pipefail switched on too late, or only in a comment', () => {
    expect(judge(row('make | tee log && set -o pipefail', '/bin/sh')).status).toBe('fail');
    expect(judge(row('make | tee log # set -o pipefail', '/bin/sh')).status).toBe('fail');
    expect(judge(row('echo "set -o pipefail"; make | tee log', '/bin/sh')).status).toBe('fail');
  });
});

describe('reading a command line', () => {
  it('splits at top-level list operators only', () => {
    expect(topLevelCommands('a | b && c || d; e\nf & g')).toEqual([
      { before: ';', text: 'a | b' },
      { before: '&&', text: 'c' },
      { before: '||', text: 'd' },
      { before: ';', text: 'e' },
      { before: ';', text: 'f' },
      { before: ';', text: 'g' },
    ]);
    expect(topLevelCommands('make 2>&1 &> log |& tee x')).toEqual([{ before: ';', text: 'make 2>&1 &> log |& tee x' }]);
    expect(topLevelCommands(`echo 'a; b' "c && d" e\\;f $(x; y) (p; q) { r; s; } \${v}`)).toEqual([
      { before: ';', text: `echo 'a; b' "c && d" e\\;f $(x; y) (p; q) { r; s; } \${v}` },
    ]);
    expect(topLevelCommands('a # b; c\nd')).toEqual([
      { before: ';', text: 'a' },
      { before: ';', text: 'd' },
    ]);
  });

  it('reads the options a shell starts with', () => {
    expect(shellOptions('/bin/bash -o pipefail')).toEqual({ pipefail: true, errexit: false });
    expect(shellOptions('/bin/bash -euo pipefail')).toEqual({ pipefail: true, errexit: true });
    expect(shellOptions('/usr/bin/env bash -e')).toEqual({ pipefail: false, errexit: true });
    expect(shellOptions('exec form')).toEqual({ pipefail: false, errexit: false });
  });

  it('says nothing of a RUN without a pipe', () => {
    expect(unguardedPipe({ shell: '/bin/sh', command: 'make || echo failed; ls' })).toBeUndefined();
  });
});
