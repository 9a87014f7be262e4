import { describe, expect, it } from 'vitest';
import { innerShellRun, pipeFailuresFailTheBuild, pipeStatusCheck, stdinShellRun, topLevelCommands } from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { copiedStageRunsOf } from '../../../runner/src/grader/facts/dockerfile-stages.js';
import { startedProgram } from '../../../runner/src/grader/kinds/started-program.js';
import type { FileFacts, ImageConfigFacts } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// Misgrades found by the third round of adversarial answers (test/fixtures/answers.ts),
// each history row as BuildKit recorded it for the answer's image.

const judge = (...createdBy: string[]) => pipeFailuresFailTheBuild.evaluate(facts({ history: createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false })) }), {});
const row = (command: string, shell = '/bin/bash') => `RUN ${shell} -c ${command} # buildkit`;

describe("lesson 10: bash's PIPESTATUS tests after the pipe", () => {
  it('passes `; test ${PIPESTATUS[0]} -eq 0` and its other spellings (measured: the test form failed before)', () => {
    expect(judge(row('make install 2>&1 | tee /var/log/report-build.log; test ${PIPESTATUS[0]} -eq 0')).status).toBe('pass');
    for (const kept of [
      'make | tee log && test "${PIPESTATUS[0]}" -eq 0',
      'make | tee log; [ "${PIPESTATUS[0]}" -eq 0 ]',
      'make | tee log; [[ ${PIPESTATUS[0]} == 0 ]]',
      'make | tee log; (( PIPESTATUS[0] == 0 ))',
      'make | tee log; (exit ${PIPESTATUS[0]})',
      'make | tee log; test $PIPESTATUS -eq 0',
      'make | tee log; test ${PIPESTATUS[0]} -eq 0 && echo built',
      'make | tee log; exit $PIPESTATUS',
    ]) {
      expect(judge(row(kept)).status, kept).toBe('pass');
    }
  });

  it('still fails a status test whose failure is swallowed or replaced, one that is not bash, and one that reads the wrong status', () => {
    for (const lost of [
      'make | tee log; test ${PIPESTATUS[0]} -eq 0 || true',
      'make | tee log; test ${PIPESTATUS[0]} -eq 0; ls',
      'make | tee log; (exit ${PIPESTATUS[0]}); echo done',
      'make | tee log; test ${PIPESTATUS[1]} -eq 0',
      'make | tee log; test ${PIPESTATUS[0]} -ne 0',
      'make | tee log; echo ${PIPESTATUS[0]}',
      'make | tee log || test ${PIPESTATUS[0]} -eq 0',
    ]) {
      expect(judge(row(lost)).status, lost).toBe('fail');
    }
    expect(judge(row('make | tee log; test ${PIPESTATUS[0]} -eq 0', '/bin/sh')).status).toBe('fail');
    // errexit stops the shell at the failed test before `ls` can replace its code.
    expect(judge(row('make | tee log; test ${PIPESTATUS[0]} -eq 0; ls', '/bin/bash -e')).status).toBe('pass');
  });

  it('tells an exit from a test, and ignores what only looks like one', () => {
    expect(pipeStatusCheck('exit "${PIPESTATUS[0]}"')).toBe('exits');
    expect(pipeStatusCheck(' test ${PIPESTATUS[0]} = 0 ')).toBe('fails');
    expect(pipeStatusCheck('test $PIPESTATUS[0] -eq 0')).toBeUndefined();
    expect(pipeStatusCheck('echo test ${PIPESTATUS[0]} -eq 0')).toBeUndefined();
    expect(pipeStatusCheck('[ ${PIPESTATUS[0]} -eq 1 ]')).toBeUndefined();
  });
});

describe('lesson 10: a pipe quoted for a shell of its own (bash -c "make | tee log")', () => {
  it('fails the inner pipe when that shell has no pipefail (measured: passed before, the pipe being in quotes)', () => {
    const outcome = judge(row('bash -c "make install 2>&1 | tee /var/log/report-build.log"', '/bin/sh'));
    expect(outcome).toMatchObject({ status: 'fail', message: expect.stringContaining('(in /bin/sh; the pipe runs in its own bash)') });
    expect(judge(row('bash -e <<EOF\nmake | tee log\nEOF', '/bin/sh'))).toMatchObject({ message: expect.stringContaining('(in /bin/sh; the pipe runs in its own bash -e)') });
    expect(judge(row("sh -c 'make | tee log'", '/bin/bash -o pipefail')).status).toBe('fail');
    expect(judge(row("/usr/bin/env bash -e -c 'make | tee log'", '/bin/sh')).status).toBe('fail');
  });

  it("passes the inner pipe under that shell's pipefail, and fails it when the outer line swallows its failure", () => {
    expect(judge(row("bash -o pipefail -c 'make install 2>&1 | tee /var/log/report-build.log'", '/bin/sh')).status).toBe('pass');
    expect(judge(row('bash -eo pipefail -c "make | tee \\"log file\\"" && echo built', '/bin/sh')).status).toBe('pass');
    expect(judge(row("bash -c 'set -o pipefail; make | tee log'", '/bin/sh')).status).toBe('pass');
    expect(judge(row("bash -o pipefail -c 'make | tee log' || true", '/bin/sh')).status).toBe('fail');
    expect(judge(row("bash -o pipefail -c 'make | tee log'; ls", '/bin/sh')).status).toBe('fail');
    // Nothing piped anywhere: nothing to judge.
    expect(judge(row("bash -c 'make install' || true", '/bin/sh')).status).toBe('pass');
  });

  it('reads the shell, its options and the script, and nothing else as a shell', () => {
    expect(innerShellRun(`/bin/bash -o pipefail -ec 'a | b' name`)).toEqual({ shell: '/bin/bash -o pipefail -e', command: 'a | b' });
    expect(innerShellRun('sh -c "echo \\"$HOME\\" | tee x"')).toEqual({ shell: 'sh', command: 'echo "$HOME" | tee x' });
    expect(innerShellRun("ssh -c aes128-ctr 'a | b'")).toBeUndefined();
    expect(innerShellRun("echo bash -c 'a | b'")).toBeUndefined();
  });
});

describe('lesson 10: a pipe in a build stage the image copies from', () => {
  const multiStage = (buildRun: string, extra = '') =>
    `FROM golang:1.24 AS build\nWORKDIR /src\nCOPY Makefile report.c ./\n${buildRun}\n\nFROM debian:trixie-slim\nCOPY --from=build /usr/local/bin/report /usr/local/bin/report\n${extra}CMD ["report"]\n`;
  const judgeWith = (dockerfileText: string, ...history: string[]) =>
    pipeFailuresFailTheBuild.evaluate(
      facts({
        history: history.map((createdBy) => ({ createdBy, isEmptyLayer: false })),
        probes: { dockerfile: { outcome: 'read', path: '/root/exercises/lesson-10/Dockerfile', finalBase: { fromLines: [], reference: '' }, copiedStageRuns: copiedStageRunsOf(dockerfileText) } },
      }),
      {},
    );

  it("fails the build stage's pipe without pipefail, though no history row holds it (measured: passed before)", () => {
    const outcome = judgeWith(multiStage('RUN make install 2>&1 | tee /var/log/report-build.log'), 'COPY /usr/local/bin/report /usr/local/bin/report # buildkit');
    expect(outcome).toMatchObject({ status: 'fail', message: expect.stringContaining('line 4 of /root/exercises/lesson-10/Dockerfile, in the build stage build the image copies from') });
    expect(judgeWith(multiStage('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN make install 2>&1 | tee /var/log/report-build.log')).status).toBe('pass');
    expect(judgeWith(multiStage('RUN set -o pipefail && make install 2>&1 | tee /var/log/report-build.log')).status).toBe('pass');
  });

  it('judges only the stages the image takes files from, and the final chain by its history alone', () => {
    // A stage nothing copies from is never built.
    expect(judgeWith('FROM busybox AS unused\nRUN a | b\n\nFROM busybox\nRUN echo hi\n').status).toBe('pass');
    // The final stage's own RUNs come from the history, as before; its Dockerfile lines are not read twice.
    expect(copiedStageRunsOf('FROM busybox AS base\nRUN a | b\nFROM base\nRUN c | d\n')).toEqual([]);
    // Through a stage's parent, a mount's from=, and a stage named by its index.
    const runs = copiedStageRunsOf(
      'FROM golang:1.24 AS base\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM base AS build\nRUN make | tee log\nRUN ["sh", "-c", "a | b"]\nFROM busybox AS tools\nRUN c | d\nFROM busybox\nRUN e | f\nFROM debian:trixie-slim\nRUN --mount=from=tools,target=/t ls\nCOPY --from=1 /a /a\nCOPY --from=busybox:latest /bin/busybox /bin/\n',
    );
    expect(runs).toEqual([
      { stage: 'build', line: 4, createdBy: 'RUN /bin/bash -o pipefail -c make | tee log' },
      { stage: 'build', line: 5, createdBy: 'RUN sh -c a | b' },
      { stage: 'tools', line: 7, createdBy: 'RUN /bin/sh -c c | d' },
    ]);
  });

  it("reads a heredoc's script, and lets the history alone judge when the Dockerfile was not read", () => {
    expect(copiedStageRunsOf('FROM busybox AS build\nRUN <<EOF\nset -o pipefail\nmake | tee log\nEOF\nFROM scratch\nCOPY --from=build /a /a\n')).toEqual([
      { stage: 'build', line: 2, createdBy: 'RUN /bin/sh -c set -o pipefail\nmake | tee log' },
    ]);
    const notGiven = pipeFailuresFailTheBuild.evaluate(facts({ history: [], probes: { dockerfile: { outcome: 'not-given' } } }), {});
    expect(notGiven.status).toBe('pass');
  });
});

describe('lesson 10: here-documents in a RUN', () => {
  it('judges a shell fed its script by a here-document with that shell’s options (measured: bash -o pipefail <<EOF failed before)', () => {
    expect(judge(row('bash -o pipefail <<EOF\nmake install 2>&1 | tee /var/log/report-build.log\nEOF', '/bin/sh')).status).toBe('pass');
    expect(judge(row("bash <<'EOF'\nset -o pipefail\nmake | tee log\nEOF", '/bin/sh')).status).toBe('pass');
    expect(judge(row('bash <<EOF\nmake | tee log\nEOF', '/bin/sh')).status).toBe('fail');
    expect(judge(row('bash -o pipefail <<EOF || true\nmake | tee log\nEOF', '/bin/sh')).status).toBe('fail');
    expect(judge(row('bash -o pipefail <<EOF\nmake | tee log\nEOF\necho done', '/bin/sh')).status).toBe('fail');
  });

  it("reads a here-document's body as data, not as commands of the RUN", () => {
    expect(judge(row('cat <<EOF > /etc/motd\nbuilt | tested\nEOF\nmake install', '/bin/sh')).status).toBe('pass');
    expect(judge(row('cat <<-EOF > notes\n\ta | b\n\tEOF\nmake | tee log', '/bin/sh')).status).toBe('fail');
    expect(topLevelCommands('cat <<A; cat <<B\none\nA\ntwo\nB\nls')).toEqual([
      { before: ';', text: 'cat <<A', heredocs: ['one'] },
      { before: ';', text: 'cat <<B', heredocs: ['two'] },
      { before: ';', text: 'ls' },
    ]);
    // A here-string is not a here-document.
    expect(topLevelCommands('cat <<<word\nls')).toEqual([
      { before: ';', text: 'cat <<<word' },
      { before: ';', text: 'ls' },
    ]);
    expect(stdinShellRun('bash -c <<EOF', ['a | b'])).toBeUndefined();
  });
});

describe('lesson 7: the service started through a launcher (env, nice, nohup, setsid)', () => {
  const program = (filePath: string, identity: FileFacts['identity']): FileFacts => ({ path: filePath, type: 'file', sizeBytes: 5_000_000, mode: 0o755, layer: 1, ...(identity ? { identity } : {}) });
  const service = program('app/hello', { kind: 'go-program', mainPath: 'example.com/layerlab/hello' });
  const busybox = program('bin/busybox', { kind: 'busybox' });
  const image = (config: Partial<ImageConfigFacts>) =>
    facts({ config: { ...facts().config, env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], entrypoint: null, cmd: null, ...config } }, [service, busybox, { ...busybox, path: 'bin/env', hardLinkTo: 'bin/busybox' }]);

  it('finds the program env runs, past its variables and options (measured: /bin/busybox before)', () => {
    expect(startedProgram(image({ entrypoint: ['env', 'GODEBUG=http2server=0', '/app/hello'] }))).toEqual({ name: '/app/hello', path: 'app/hello' });
    expect(startedProgram(image({ cmd: ['/usr/bin/env', '-i', '-u', 'HOME', 'A=1', '--', '/app/hello'] }))).toEqual({ name: '/app/hello', path: 'app/hello' });
    expect(startedProgram(image({ cmd: ['nice', '-n', '5', 'nohup', '/app/hello'] }))).toEqual({ name: '/app/hello', path: 'app/hello' });
    expect(startedProgram(image({ cmd: ['/bin/sh', '-c', 'exec env PORT=8080 /app/hello'] }))).toEqual({ name: '/app/hello', path: 'app/hello' });
    expect(startedProgram(image({ entrypoint: ['env', 'X=1', 'sh', '-c', 'exec /app/hello'] }))).toEqual({ name: '/app/hello', path: 'app/hello' });
  });

  it('still names what env runs when that is not the service, and env alone', () => {
    expect(startedProgram(image({ cmd: ['env', 'httpd', '-f', '-p', '8080'] }))).toEqual({ name: 'httpd' });
    expect(startedProgram(image({ cmd: ['env'] }))).toEqual({ name: 'env', path: 'bin/env' });
  });
});
