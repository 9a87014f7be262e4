import { describe, expect, it } from 'vitest';
import {
  groupBody,
  ifCompound,
  innerShellRun,
  pipeElements,
  pipeFailuresFailTheBuild,
  runRowOf,
  scriptRun,
  shellOptions,
  topLevelCommands,
  unguardedPipe,
  onlyCleans,
  watchedCommand,
} from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { scriptsOf } from '../../../runner/src/grader/facts/dockerfile.js';
import { facts } from './builders.js';

// Lesson 10's adversarial answers of the fourth round (test/fixtures/answers.ts): a failing
// make hidden with no pipe at all, inside a group of the pipe, and right answers whose shell
// was written as CI runners write it, or that end the step with a bare `exit`.

const history = (...createdBy: string[]) => facts({ history: createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false })) });
const judge = (...createdBy: string[]) => pipeFailuresFailTheBuild.evaluate(history(...createdBy), { commands: ['make'] });
const row = (command: string, shell = '/bin/sh') => `RUN ${shell} -c ${command} # buildkit`;

describe('lesson 10: a failing make hidden without a pipe', () => {
  it('fails `make … || true` with no pipe, naming make (measured: passed before)', () => {
    const outcome = judge(row('make install > /var/log/report-build.log 2>&1 || true'));
    expect(outcome).toMatchObject({
      status: 'fail',
      actual: '1 RUN where a failure does not fail the step',
      message: expect.stringContaining('`RUN make install > /var/log/report-build.log 2>&1 || true` (in /bin/sh): when make fails, the step still succeeds'),
    });
    expect(outcome).toMatchObject({ message: expect.stringContaining('An ending like `|| true`') });
    expect(outcome).not.toMatchObject({ message: expect.stringContaining('a pipe reports') });
  });

  it('fails `make …; echo done` without errexit, saying a command after ; runs even when make failed (measured: passed before)', () => {
    const outcome = judge(row('make install > /var/log/report-build.log 2>&1; echo done'));
    expect(outcome).toMatchObject({ status: 'fail', message: expect.stringContaining('A command after `;` runs even when make failed') });
    expect(judge(row('make install; echo done', '/bin/sh -e')).status).toBe('pass');
    expect(judge(row('set -e; make install; echo done')).status).toBe('pass');
  });

  it('fails make however it is started, and only make', () => {
    for (const swallowed of ['/usr/bin/make install || true', 'env CC=gcc make install || :', 'CFLAGS=-O2 make || echo failed', 'time make install || true', 'nice -n 5 make || true', 'cd /src && make || true']) {
      expect(judge(row(swallowed)).status, swallowed).toBe('fail');
    }
    for (const kept of ['make install', 'make install && echo built', 'make install || exit 1', 'make || exit', 'make install > log 2>&1 || (cat log; exit 1)', 'rm -f x || true; make install', 'echo make || true', 'makeself || true']) {
      expect(judge(row(kept)).status, kept).toBe('pass');
    }
  });

  it('judges make only when the exercise names it: without commands, a RUN with no pipe passes', () => {
    expect(pipeFailuresFailTheBuild.evaluate(history(row('make || true')), {}).status).toBe('pass');
    expect(unguardedPipe({ shell: '/bin/sh', command: 'make || true' })).toBeUndefined();
    expect(unguardedPipe({ shell: '/bin/sh', command: 'make || true' }, ['make'])).toBe('swallowed');
  });

  it('follows make into a shell the RUN starts, and into groups', () => {
    expect(judge(row("bash -c 'make install || true'"))).toMatchObject({ status: 'fail', message: expect.stringContaining('the make runs in its own bash') });
    expect(judge(row('sh -c "make install"; echo done')).status).toBe('fail');
    expect(judge(row('sh -c "make install" && echo done')).status).toBe('pass');
    expect(judge(row('(cd /src && make install) || true')).status).toBe('fail');
    expect(judge(row('{ make install || true; }')).status).toBe('fail');
    expect(judge(row('(cd /src && make install); ls')).status).toBe('fail');
    expect(judge(row('(cd /src && make install) && ls')).status).toBe('pass');
    expect(judge(row('(cd /src; ls) || true')).status).toBe('pass');
  });

  it('names the pipes and the makes apart when a Dockerfile has both', () => {
    const outcome = judge(row('make install | tee log'), row('make || true'));
    expect(outcome).toMatchObject({ status: 'fail', actual: '2 RUNs where a failure does not fail the step' });
    const message = outcome.status === 'fail' ? outcome.message : '';
    expect(message).toContain('`RUN make install | tee log` (in /bin/sh): a pipe reports only the exit code of its last command');
    expect(message).toContain('`RUN make || true` (in /bin/sh): when make fails, the step still succeeds');
    expect(judge(row('a | b'), row('c | d')).actual).toBe('2 RUNs with a pipe and no pipefail');
    expect(judge(row('make')).actual).toBe('every pipe and every make fails with its commands');
    expect(judge(row('make')).expected).toBe('no RUN with a pipe runs without pipefail, and a failing make fails its RUN');
  });
});

describe('lesson 10: a failure swallowed inside the pipe', () => {
  it('fails `(make || true) | tee log` even with pipefail (measured: passed before)', () => {
    const shell = '/bin/bash -o pipefail';
    expect(judge(row('(make install || true) 2>&1 | tee /var/log/report-build.log', shell))).toMatchObject({ status: 'fail', message: expect.stringContaining('An ending like `|| true`') });
    expect(judge(row('{ make install || true; } 2>&1 | tee log', shell)).status).toBe('fail');
    // tee's failure swallowed is no make's: pipefail still sees make fail.
    expect(judge(row('make | (tee log || true)', shell)).status).toBe('pass');
    expect(judge(row('(make install) 2>&1 | tee log', shell)).status).toBe('pass');
    expect(judge(row('(cd /src && make install) 2>&1 | tee log', shell)).status).toBe('pass');
    expect(judge(row('(cd /src && make install) 2>&1 | tee log')).status).toBe('fail');
  });

  it('takes pipefail set inside a subshell for the pipe in it, and not for what follows', () => {
    expect(judge(row('(set -o pipefail; make install 2>&1 | tee log)', '/bin/bash')).status).toBe('pass');
    expect(judge(row('(make install 2>&1 | tee log)', '/bin/bash')).status).toBe('fail');
    expect(judge(row('(set -o pipefail; make | tee log); a | b', '/bin/bash')).status).toBe('fail');
    expect(judge(row('(set -o pipefail; make | tee log); echo done', '/bin/bash'))).toMatchObject({ status: 'fail', message: expect.stringContaining('runs even when the pipe failed') });
    expect(judge(row('{ set -o pipefail; }; a | b', '/bin/bash')).status).toBe('pass');
  });
});

describe('lesson 10: right answers that failed', () => {
  it('reads bash started as CI runners start it: --noprofile --norc -eo pipefail (measured: failed before)', () => {
    expect(runRowOf('RUN /bin/bash --noprofile --norc -eo pipefail -c make install 2>&1 | tee log # buildkit')).toEqual({
      shell: '/bin/bash --noprofile --norc -eo pipefail',
      command: 'make install 2>&1 | tee log',
    });
    expect(judge('RUN /bin/bash --noprofile --norc -eo pipefail -c make install 2>&1 | tee log # buildkit').status).toBe('pass');
    expect(judge('RUN /bin/bash --noprofile --norc -c make install 2>&1 | tee log # buildkit').status).toBe('fail');
    expect(judge('RUN /bin/bash -O extglob -o pipefail -c make | tee log # buildkit').status).toBe('pass');
    expect(shellOptions('/bin/bash --norc -O extglob -eo pipefail')).toEqual({ pipefail: true, errexit: true });
    expect(shellOptions('/bin/bash -O pipefail')).toEqual({ pipefail: false, errexit: false });
    expect(innerShellRun("bash --norc -o pipefail -c 'make | tee log'")).toEqual({ shell: 'bash --norc -o pipefail', command: 'make | tee log' });
    expect(judge(row("bash --norc -o pipefail -c 'make | tee log'")).status).toBe('pass');
    expect(judge(row('bash --norc -o pipefail <<EOF\nmake | tee log\nEOF')).status).toBe('pass');
  });

  it('passes a bare `exit` right after the pipe, which keeps its status (measured: failed before)', () => {
    expect(judge(row('make install 2>&1 | tee log || exit', '/bin/bash -o pipefail')).status).toBe('pass');
    expect(judge(row('make install 2>&1 | tee log || (exit)', '/bin/bash -o pipefail')).status).toBe('pass');
    expect(judge(row('make || exit')).status).toBe('pass');
    expect(judge(row('make | tee log || { echo failed; exit; }', '/bin/bash -o pipefail')).status).toBe('fail');
    expect(judge(row('make | tee log || exit 0', '/bin/bash -o pipefail')).status).toBe('fail');
  });
});

describe('reading the commands of a RUN', () => {
  it('finds the watched command past assignments and launchers', () => {
    expect(watchedCommand('A=1 env -u X time make -C src install', ['make'])).toBe('make');
    expect(watchedCommand('exec /usr/bin/make', ['make'])).toBe('make');
    expect(watchedCommand('command make', ['make'])).toBe('make');
    expect(watchedCommand('makefile', ['make'])).toBeUndefined();
    expect(watchedCommand('echo make', ['make'])).toBeUndefined();
    expect(watchedCommand('make', [])).toBeUndefined();
    expect(watchedCommand('env', ['make'])).toBeUndefined();
  });

  it('tells a group from other parentheses', () => {
    expect(groupBody('(a; b) 2>&1')).toEqual({ body: 'a; b', isSubshell: true });
    expect(groupBody('(a) > log 2>&1')).toEqual({ body: 'a', isSubshell: true });
    expect(groupBody('{ a; b; }')).toEqual({ body: 'a; b', isSubshell: false });
    expect(groupBody('{ a; b; } >log')).toEqual({ body: 'a; b', isSubshell: false });
    expect(groupBody('(a) && (b)')).toBeUndefined();
    expect(groupBody('((x == 0))')).toBeUndefined();
    expect(groupBody('$(a)')).toBeUndefined();
    expect(groupBody('echo (a)')).toBeUndefined();
    expect(groupBody('{a}')).toBeUndefined();
    expect(groupBody('( echo ")" )')).toEqual({ body: ' echo ")" ', isSubshell: true });
  });

  it('splits a pipe at | and |&, not at || or inside quotes and groups', () => {
    expect(pipeElements('a | b |& c || d')).toEqual(['a', 'b', 'c || d']);
    expect(pipeElements("(a | b) | 'c|d' | \"e|f\" | g\\|h")).toEqual(['(a | b)', "'c|d'", '"e|f"', 'g\\|h']);
    expect(pipeElements('{ a | b; } | c')).toEqual(['{ a | b; }', 'c']);
  });
});

describe('lesson 10: a pipe or make tested by if', () => {
  const bash = '/bin/bash -o pipefail';
  it('passes an if whose failing branch fails the step (measured: failed before)', () => {
    for (const kept of [
      'if ! make install 2>&1 | tee log; then echo "make failed" >&2; exit 1; fi',
      'if make install 2>&1 | tee log; then echo built; else exit 1; fi',
      'if make | tee log\nthen\n  echo built\nelse\n  exit\nfi',
      'if make | tee log; then echo built; else echo failed; false; fi && ls',
      'if ! make | tee log; then exit 2; fi; echo done',
      'if [ -f Makefile ]; then make | tee log; fi',
      'if true; then if ! make | tee log; then exit 1; fi; fi',
    ]) {
      expect(judge(row(kept, bash)).status, kept).toBe('pass');
    }
    expect(judge(row('if ! make install; then exit 1; fi')).status).toBe('pass');
  });

  it('fails an if that lets the failure through, with or without errexit', () => {
    for (const swallowed of [
      'if make install 2>&1 | tee log; then echo built; fi',
      'if ! make | tee log; then echo failed; fi',
      'if make | tee log; then echo built; else echo failed; fi',
      'if make | tee log; then echo built; elif true; then ls; else exit 1; fi',
      'if ! make | tee log; then exit; fi',
      'if make | tee log; then echo built; else echo failed; false; fi; ls',
      'if [ -f Makefile ]; then make | tee log; fi; echo done',
      'if [ -f Makefile ]; then make | tee log || true; fi',
    ]) {
      expect(judge(row(swallowed, bash)).status, swallowed).toBe('fail');
    }
    expect(judge(row('if make install; then echo built; fi', '/bin/sh -e'))).toMatchObject({ status: 'fail', message: expect.stringContaining('when make fails, the step still succeeds') });
    expect(judge(row('if ! make | tee log; then exit 1; fi', '/bin/bash'))).toMatchObject({ status: 'fail', actual: '1 RUN with a pipe and no pipefail' });
  });

  it('reads the clauses of an if, and only of an if', () => {
    expect(ifCompound('if a | b; then c; elif d; then e && f; else g; fi')).toEqual({
      clauses: [
        { condition: 'a | b', body: 'c' },
        { condition: 'd', body: 'e && f' },
      ],
      elseBody: 'g',
    });
    expect(ifCompound('if a; then b; fi > log')).toEqual({ clauses: [{ condition: 'a', body: 'b' }] });
    expect(ifCompound('iffy; fi')).toBeUndefined();
    expect(ifCompound('if a; fi')).toBeUndefined();
    expect(ifCompound('if a; else b; fi')).toBeUndefined();
    expect(topLevelCommands('if a; then b; fi; c').map(({ text }) => text)).toEqual(['if a; then b; fi', 'c']);
    expect(topLevelCommands('for x in a b; do make $x; done && echo if').map(({ text }) => text)).toEqual(['for x in a b; do make $x; done', 'echo if']);
    expect(topLevelCommands('echo if; echo fi; ls').map(({ text }) => text)).toEqual(['echo if', 'echo fi', 'ls']);
  });
});

describe('lesson 10: a pipe in a script of the folder that a RUN runs', () => {
  const script = (text: string, name = 'build.sh') => ({ path: name, text });
  const withScripts = (scripts: Array<{ path: string; text: string }>, ...createdBy: string[]) =>
    pipeFailuresFailTheBuild.evaluate(
      facts({
        history: createdBy.map((createdByRow) => ({ createdBy: createdByRow, isEmptyLayer: false })),
        probes: { dockerfile: { outcome: 'read', path: '/root/exercises/lesson-10/Dockerfile', finalBase: { fromLines: ['FROM golang:1.24'], reference: 'golang:1.24' }, scripts } },
      }),
      { commands: ['make'] },
    );
  const piped = script('#!/bin/sh\nset -e\nmake install 2>&1 | tee /var/log/report-build.log\n');

  it('fails RUN ./build.sh whose pipe runs without pipefail, naming the script (measured: passed before)', () => {
    const outcome = withScripts([piped], row('./build.sh'));
    expect(outcome).toMatchObject({ status: 'fail', message: expect.stringContaining('`RUN ./build.sh` (in /bin/sh; the pipe is in build.sh from your folder, run by /bin/sh)') });
    for (const runs of ['sh build.sh', 'sh -e ./build.sh', '/src/build.sh', 'bash -x build.sh', 'cd /src && ./build.sh', 'env CC=gcc ./build.sh']) {
      expect(withScripts([piped], row(runs)).status, runs).toBe('fail');
    }
    expect(withScripts([script('make install || true\n', 'scripts/build.sh')], row('sh scripts/build.sh'))).toMatchObject({ status: 'fail', message: expect.stringContaining('when make fails') });
  });

  it('passes the script with pipefail from its #! line, its set, or the shell that runs it', () => {
    expect(withScripts([script('#!/bin/bash -o pipefail\nmake | tee log\n')], row('./build.sh')).status).toBe('pass');
    expect(withScripts([script('#!/bin/sh\nset -eo pipefail\nmake | tee log\n')], row('./build.sh')).status).toBe('pass');
    expect(withScripts([script('make | tee log\n')], row('bash -o pipefail build.sh')).status).toBe('pass');
    expect(withScripts([script('#!/bin/bash -o pipefail\nmake | tee log\n')], row('sh build.sh')).status).toBe('fail');
    expect(withScripts([piped], row('./build.sh || true')).status).toBe('fail');
    expect(withScripts([script('make\n')], row('./build.sh; echo done'))).toMatchObject({ status: 'fail', message: expect.stringContaining('runs even when make failed') });
  });

  it('leaves alone what runs no script of the folder', () => {
    expect(withScripts([piped], row('./other.sh'), row('cat build.sh'), row("sh -c 'make install'")).status).toBe('pass');
    expect(withScripts([], row('./build.sh')).status).toBe('pass');
    expect(scriptRun('sh -c build.sh', new Map([['build.sh', 'a | b']]))).toBeUndefined();
    expect(scriptRun('build.sh', new Map([['build.sh', 'a | b']]))).toBeUndefined();
    expect(scriptRun('sh', new Map([['build.sh', 'a | b']]))).toBeUndefined();
    expect(scriptRun('sh -o pipefail ./x/build.sh', new Map([['build.sh', 'a | b']]))).toEqual({ path: 'build.sh', run: { shell: 'sh -o pipefail', command: 'a | b' } });
  });

  it("keeps the folder's small scripts only", () => {
    const entry = (name: string, content: string, type = 'file') => ({ header: { name, type }, content: Buffer.from(content) });
    expect(
      scriptsOf([entry('build.sh', 'make\r\n'), entry('tools/run', '#!/bin/sh\nmake\n'), entry('Makefile', 'all:\n'), entry('dir.sh', '', 'directory'), entry('big.sh', 'x'.repeat(64 * 1024 + 1))]),
    ).toEqual([
      { path: 'build.sh', text: 'make\n' },
      { path: 'tools/run', text: '#!/bin/sh\nmake\n' },
    ]);
    expect(scriptsOf(Array.from({ length: 60 }, (_, index) => entry(`s${index}.sh`, 'x'))).length).toBe(50);
  });
});

describe('lesson 10: the edges of the new readings (mutation survivors)', () => {
  const bash = '/bin/bash -o pipefail';
  it('says exactly what hid make, and what hid another watched command', () => {
    expect(judge(row('make || true'))).toEqual({
      status: 'fail',
      expected: 'no RUN with a pipe runs without pipefail, and a failing make fails its RUN',
      actual: '1 RUN where a failure does not fail the step',
      message:
        '`RUN make || true` (in /bin/sh): when make fails, the step still succeeds, and the build goes on with what it did not make. An ending like `|| true` or `|| echo …` turns any failure into success, pipefail or not; end the handler with `exit 1` if you want one.',
    });
    const two = pipeFailuresFailTheBuild.evaluate(history(row('make || true'), row('gcc x.c; ls')), { commands: ['make', 'gcc'] });
    const message = two.status === 'fail' ? two.message : '';
    expect(message).toContain('`RUN make || true` (in /bin/sh): when make fails');
    expect(message).toContain('`RUN gcc x.c; ls` (in /bin/sh): when gcc fails');
    expect(message).toContain('A command after `;` runs even when gcc failed');
    expect(message).not.toContain('`RUN make || true` (in /bin/sh): when gcc');
    expect(pipeFailuresFailTheBuild.evaluate(history(row('ls')), { commands: ['make', 'gcc'] })).toMatchObject({ status: 'pass', actual: 'every pipe and every make, gcc fails with its commands' });
  });

  it('judges what follows an if, a group and an inner shell by what they carry', () => {
    expect(judge(row('if ! make | tee log; then exit 2; fi; echo done', bash)).status).toBe('pass');
    expect(judge(row('if ! make | tee log; then false; fi; echo done', bash)).status).toBe('fail');
    expect(judge(row('if [ -f x ]; then ls; fi; echo done')).status).toBe('pass');
    expect(judge(row('(make | tee log); echo done', bash)).status).toBe('fail');
    expect(judge(row('(ls); echo done')).status).toBe('pass');
    expect(judge(row("bash -c 'ls'; echo done")).status).toBe('pass');
    expect(judge(row("bash -o pipefail -c 'make | tee log'; echo done"))).toMatchObject({ status: 'fail', message: expect.stringContaining('runs even when the pipe failed') });
    expect(judge(row('{ set -o pipefail; ls; }; a | b', '/bin/bash')).status).toBe('pass');
    expect(judge(row('{ set -o pipefail; make | tee log; }; a | b', '/bin/bash')).status).toBe('fail');
    expect(judge(row('(set -o pipefail); a | b', '/bin/bash')).status).toBe('fail');
    expect(judge(row('(set +o pipefail; true) | tee log && a | b', bash)).status).toBe('pass');
    expect(judge(row('make | tee log; exit ${PIPESTATUS[0]}', '/bin/bash')).status).toBe('pass');
  });

  it('reads a condition without errexit, and every branch, the else too', () => {
    expect(judge(row('if make; echo x; then ls; else exit 1; fi', '/bin/sh -e')).status).toBe('fail');
    expect(judge(row('if true; then ls; else make | tee log; fi', '/bin/bash'))).toMatchObject({ status: 'fail', actual: '1 RUN with a pipe and no pipefail' });
    expect(judge(row('if true; then ls; elif true; then make | tee log; fi', '/bin/bash')).status).toBe('fail');
    expect(judge(row('if ! make | tee log; then exit $?; fi', bash)).status).toBe('fail');
    expect(judge(row('if make | tee log; then ls; else exit $?; fi', bash)).status).toBe('pass');
    expect(judge(row('if make | tee log; then ls; else echo x; exit; fi', bash)).status).toBe('fail');
    expect(judge(row('if make | tee log; then ls; else exit 10; fi', bash)).status).toBe('pass');
    expect(judge(row('if make | tee log; then ls; else exit 0; fi', bash)).status).toBe('fail');
    expect(judge(row('if make | tee log; then ls; else exit 1x; fi', bash)).status).toBe('fail');
    expect(judge(row('if make | tee log; then ls; else falsey; fi', bash)).status).toBe('fail');
    expect(ifCompound('if a\nthen\nb && c || d\nfi')).toEqual({ clauses: [{ condition: 'a', body: 'b && c || d' }] });
    expect(ifCompound('if a; then thenx; fi')).toEqual({ clauses: [{ condition: 'a', body: 'thenx' }] });
    expect(ifCompound(' if a; then b; fi 2>&1 ')).toEqual({ clauses: [{ condition: 'a', body: 'b' }] });
    expect(ifCompound('if a; then b; fi; c')).toBeUndefined();
    expect(ifCompound('xif a; then b; fi')).toBeUndefined();
    expect(ifCompound('if a; then b; else c; fi')).toEqual({ clauses: [{ condition: 'a', body: 'b' }], elseBody: 'c' });
  });

  it('finds scripts only as a shell or a path runs them', () => {
    const scripts = new Map([
      ['build.sh', '#!/bin/bash -e\nmake | tee log\n'],
      ['tools/run.sh', 'a | b'],
    ]);
    expect(scriptRun('./build.sh', scripts)).toEqual({ path: 'build.sh', run: { shell: '/bin/bash -e', command: 'make | tee log\n' } });
    expect(scriptRun('A=1 B=2 exec ./build.sh', scripts)?.path).toBe('build.sh');
    expect(scriptRun('time ./build.sh', scripts)?.path).toBe('build.sh');
    expect(scriptRun('/usr/bin/bash -x -o pipefail build.sh', scripts)).toEqual({ path: 'build.sh', run: { shell: '/usr/bin/bash -x -o pipefail', command: 'make | tee log\n' } });
    expect(scriptRun('sh -ec build.sh', scripts)).toBeUndefined();
    expect(scriptRun('sh -o', scripts)).toBeUndefined();
    expect(scriptRun('bash tools/run.sh', scripts)).toEqual({ path: 'tools/run.sh', run: { shell: 'bash', command: 'a | b' } });
    expect(scriptRun('/src/tools/run.sh', scripts)?.path).toBe('tools/run.sh');
    // Run from its own folder (WORKDIR tools), ./run.sh is tools/run.sh.
    expect(scriptRun('./run.sh', scripts)?.path).toBe('tools/run.sh');
    expect(scriptRun('./xbuild.sh', scripts)).toBeUndefined();
    expect(scriptRun('shx build.sh', scripts)).toBeUndefined();
    expect(scriptRun('', scripts)).toBeUndefined();
    expect(scriptRun('./', scripts)).toBeUndefined();
    expect(scriptRun('./build.sh', new Map())).toBeUndefined();
    expect(scriptRun('./x.sh', new Map([['x.sh', '#!  /bin/sh  \nls']]))).toEqual({ path: 'x.sh', run: { shell: '/bin/sh', command: 'ls' } });
  });

  it('tells groups, quotes and reserved words apart', () => {
    expect(groupBody('(a) (b)')).toBeUndefined();
    expect(groupBody("( echo ')' )")).toEqual({ body: " echo ')' ", isSubshell: true });
    expect(groupBody('( echo \\) )')).toEqual({ body: ' echo \\) ', isSubshell: true });
    expect(groupBody('( echo "\\")" )')).toEqual({ body: ' echo "\\")" ', isSubshell: true });
    expect(groupBody('{ a; } && { b; }')).toBeUndefined();
    expect(groupBody('x { a; }')).toBeUndefined();
    expect(groupBody('{ a; } x')).toBeUndefined();
    expect(pipeElements('a "x\\"|y" | b')).toEqual(['a "x\\"|y"', 'b']);
    expect(pipeElements('a \\| b | c')).toEqual(['a \\| b', 'c']);
    expect(pipeElements('(a) | {b} | c)')).toEqual(['(a)', '{b}', 'c)']);
    expect(pipeElements('a |& b')).toEqual(['a', 'b']);
    expect(topLevelCommands('while true; do a; done; b').map(({ text }) => text)).toEqual(['while true; do a; done', 'b']);
    expect(topLevelCommands('case x in a) b;; esac; c').map(({ text }) => text)).toEqual(['case x in a) b;; esac', 'c']);
    expect(topLevelCommands('a && if b; then c; fi || d').map(({ text }) => text)).toEqual(['a', 'if b; then c; fi', 'd']);
    expect(topLevelCommands('! if b; then c; fi; d').map(({ text }) => text)).toEqual(['! if b; then c; fi', 'd']);
    expect(topLevelCommands('echo done; fi; ls').map(({ text }) => text)).toEqual(['echo done', 'fi', 'ls']);
    expect(topLevelCommands('x=if; ls').map(({ text }) => text)).toEqual(['x=if', 'ls']);
    expect(topLevelCommands('iffy; ls').map(({ text }) => text)).toEqual(['iffy', 'ls']);
    expect(topLevelCommands('(if a; then b; fi); c').map(({ text }) => text)).toEqual(['(if a; then b; fi)', 'c']);
  });

  it('finds make past every prefix, and only as a word', () => {
    expect(watchedCommand('  time  make', ['make'])).toBe('make');
    expect(watchedCommand('A=1 time B=2 make', ['make'])).toBe('make');
    expect(watchedCommand('xA=1make', ['make'])).toBeUndefined();
    expect(watchedCommand('1A=x make', ['make'])).toBeUndefined();
    expect(watchedCommand('make', ['gcc', 'make'])).toBe('make');
    expect(judge(row('gmake || true')).status).toBe('pass');
    expect(judge(row('echo x/make || true')).status).toBe('pass');
    expect(pipeFailuresFailTheBuild.evaluate(history(row('c++ x.cc || true')), { commands: ['c++'] }).status).toBe('fail');
    expect(pipeFailuresFailTheBuild.evaluate(history(row('cxx || true')), { commands: ['c++'] }).status).toBe('pass');
  });
});

describe('lesson 10: make run to clean up, not to build', () => {
  it('passes `make clean || true` before the build: a failing clean leaves nothing unbuilt', () => {
    const build = 'make install 2>&1 | tee /var/log/report-build.log';
    expect(judge(row(`make clean || true; ${build}`, '/bin/bash -o pipefail'))).toMatchObject({ status: 'pass' });
    expect(judge(row('make -C /src distclean >/dev/null 2>&1 || true'), row(build, '/bin/bash -o pipefail'))).toMatchObject({ status: 'pass' });
  });

  it('still fails a make that builds anything, cleaning targets or not', () => {
    expect(judge(row('make clean install || true'))).toMatchObject({ status: 'fail' });
    expect(judge(row('make || true'))).toMatchObject({ status: 'fail' });
    expect(judge(row('make -j 4 clean all || true'))).toMatchObject({ status: 'fail' });
  });

  it('reads only the targets among make\'s words', () => {
    expect(onlyCleans(['clean'])).toBe(true);
    expect(onlyCleans(['-C', 'install', 'clean'])).toBe(true);
    expect(onlyCleans(['-j', '4', 'distclean', 'mostlyclean'])).toBe(true);
    expect(onlyCleans(['-j4', 'CC=gcc', '--silent', 'realclean', 'maintainer-clean'])).toBe(true);
    expect(onlyCleans(['clean', '>', 'log', '2>&1'])).toBe(true);
    expect(onlyCleans(['clean', '>log'])).toBe(true);
    expect(onlyCleans(['clean', '&>', 'log'])).toBe(true);
    expect(onlyCleans(['-f', 'clean', 'install'])).toBe(false);
    expect(onlyCleans(['-j', 'install'])).toBe(false);
    expect(onlyCleans([])).toBe(false);
    expect(onlyCleans(['-s'])).toBe(false);
    expect(onlyCleans(['clean', 'report'])).toBe(false);
    expect(watchedCommand('make clean', ['make'])).toBeUndefined();
    expect(watchedCommand('make clean report', ['make'])).toBe('make');
  });
});
