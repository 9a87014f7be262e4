import { describe, expect, it } from 'vitest';
import { asExecForm, execForm, isShellForm, shellCommandLine } from '../../../runner/src/grader/kinds/exec-form.js';
import type { ImageConfigFacts } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// What the learner reads about ENTRYPOINT and CMD, word for word.

const withConfig = (config: Partial<ImageConfigFacts>) => facts({ config: { ...facts().config, entrypoint: null, cmd: null, ...config } });
const judge = (config: Partial<ImageConfigFacts>, params: { instruction: 'ENTRYPOINT' | 'CMD'; program?: string }) => execForm.evaluate(withConfig(config), params);

describe('exec-form: parameters', () => {
  it('takes ENTRYPOINT or CMD and a program by file name', () => {
    const parse = (value: unknown) => execForm.params.safeParse(value);
    expect(parse({ instruction: 'CMD' }).success).toBe(true);
    expect(parse({ instruction: 'RUN' }).success).toBe(false);
    expect(parse({ instruction: 'CMD', program: 'greet' }).success).toBe(true);
    for (const program of ['/usr/bin/greet', 'bin/greet', 'greet world', '', 'greet/']) {
      const result = parse({ instruction: 'CMD', program });
      expect(result.success, program).toBe(false);
      if (!result.success) expect(result.error.issues[0]?.message).toBe('must be a file name such as greet');
    }
  });
});

describe('exec-form: the forms', () => {
  it('tells a shell form by a shell program followed by -c', () => {
    for (const shell of ['sh', '/bin/sh', '/bin/ash', '/usr/bin/bash', 'dash', '/bin/ksh', '/bin/zsh']) expect(isShellForm([shell, '-c', 'x']), shell).toBe(true);
    for (const command of [['/bin/sh', '-e'], ['/bin/fish', '-c', 'x'], ['/bin/shx', '-c', 'x'], ['/bin/bashful', '-c'], ['xsh', '-c'], ['/bin/sh'], []]) {
      expect(isShellForm(command), command.join(' ')).toBe(false);
    }
    expect(isShellForm(['/bin/sh', '-c'])).toBe(true);
    expect(isShellForm(null)).toBe(false);
  });

  it('writes a command as a Dockerfile would, and reads the line a shell form runs', () => {
    expect(asExecForm(['greet', 'a "b"'])).toBe('["greet", "a \\"b\\""]');
    expect(shellCommandLine(['/bin/sh', '-c', 'greet', 'world'])).toBe('greet world');
  });
});

describe('exec-form: verdicts', () => {
  it('passes an exec form, naming what it runs', () => {
    expect(judge({ entrypoint: ['greet', '--loud'] }, { instruction: 'ENTRYPOINT' })).toEqual({ status: 'pass', expected: 'ENTRYPOINT in exec form', actual: 'ENTRYPOINT ["greet", "--loud"]' });
    expect(judge({ cmd: ['world'] }, { instruction: 'CMD' })).toEqual({ status: 'pass', expected: 'CMD in exec form, with at least one word', actual: 'CMD ["world"]' });
    expect(judge({ entrypoint: ['/usr/local/bin/greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' })).toEqual({
      status: 'pass',
      expected: 'ENTRYPOINT in exec form, running greet',
      actual: 'ENTRYPOINT ["/usr/local/bin/greet"]',
    });
    expect(judge({ entrypoint: ['/bin/sh', '/app/greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('pass');
    expect(judge({ entrypoint: ['/bin/sh', 'greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('pass');
  });

  it('fails another program, even one whose name ends the same or a shell running another script', () => {
    const other = {
      status: 'fail',
      expected: 'ENTRYPOINT in exec form, running greet',
      actual: 'ENTRYPOINT ["/bin/regreet", "x"]',
      message: 'ENTRYPOINT ["/bin/regreet", "x"] runs /bin/regreet, not greet. The image is meant to behave like greet itself.',
    };
    expect(judge({ entrypoint: ['/bin/regreet', 'x'] }, { instruction: 'ENTRYPOINT', program: 'greet' })).toEqual(other);
    expect(judge({ entrypoint: ['regreet'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('fail');
    expect(judge({ entrypoint: ['/bin/sh', '/app/other'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('fail');
    expect(judge({ entrypoint: ['/bin/node', 'greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('fail');
    expect(judge({ entrypoint: ['/bin/sh'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).status).toBe('fail');
  });

  it('fails a missing or empty instruction, saying what an ENTRYPOINT without CMD does', () => {
    expect(judge({}, { instruction: 'ENTRYPOINT' })).toEqual({ status: 'fail', expected: 'ENTRYPOINT in exec form', actual: 'no ENTRYPOINT', message: 'The image has no ENTRYPOINT.' });
    expect(judge({ entrypoint: [] }, { instruction: 'ENTRYPOINT', program: 'greet' })).toEqual({
      status: 'fail',
      expected: 'ENTRYPOINT in exec form, running greet',
      actual: 'no ENTRYPOINT',
      message: 'The image has no ENTRYPOINT.',
    });
    expect(judge({ entrypoint: [] }, { instruction: 'CMD' })).toEqual({ status: 'fail', expected: 'CMD in exec form, with at least one word', actual: 'no CMD', message: 'The image has no CMD.' });
    expect(judge({ entrypoint: ['greet'], cmd: [] }, { instruction: 'CMD' })).toEqual({
      status: 'fail',
      expected: 'CMD in exec form, with at least one word',
      actual: 'no CMD',
      message: 'The image has no CMD, so ["greet"] runs with no arguments when docker run gives none. (Setting ENTRYPOINT clears the CMD the base image had.)',
    });
  });

  it('fails a shell form, saying what it does to arguments', () => {
    expect(judge({ entrypoint: ['/bin/sh', '-c', 'greet world'], cmd: ['x'] }, { instruction: 'ENTRYPOINT' })).toEqual({
      status: 'fail',
      expected: 'ENTRYPOINT in exec form',
      actual: 'shell form: ENTRYPOINT greet world',
      message: 'ENTRYPOINT is in shell form: the image runs ["/bin/sh", "-c", "greet world"]. A shell-form ENTRYPOINT ignores CMD and every argument given to docker run.',
    });
    expect(judge({ cmd: ['/bin/sh', '-c', 'greet world'] }, { instruction: 'CMD' })).toEqual({
      status: 'fail',
      expected: 'CMD in exec form, with at least one word',
      actual: 'shell form: CMD greet world',
      message: 'CMD is in shell form, stored as ["/bin/sh", "-c", "greet world"].',
    });
    expect(judge({ entrypoint: [], cmd: ['/bin/sh', '-c', 'world'] }, { instruction: 'CMD' }).message).toBe('CMD is in shell form, stored as ["/bin/sh", "-c", "world"].');
    expect(judge({ entrypoint: ['greet'], cmd: ['/bin/sh', '-c', 'world'] }, { instruction: 'CMD' }).message).toBe(
      'CMD is in shell form, stored as ["/bin/sh", "-c", "world"]. After an ENTRYPOINT, all three words become its arguments: ["greet", "/bin/sh", "-c", "world"].',
    );
  });
});

describe('exec-form: launchers and file names (lesson 3 answers)', () => {
  const greet = { instruction: 'ENTRYPOINT', program: 'greet' } as const;

  it('looks past env, nice, nohup and setsid, which exec the program in their place', () => {
    for (const entrypoint of [
      ['env', 'LANG=C', '/usr/local/bin/greet'],
      ['/usr/bin/env', '-i', 'PATH=/usr/local/bin:/bin', 'greet'],
      ['env', '-u', 'HOME', '--', 'greet'],
      ['nice', '-n', '5', 'nohup', 'greet'],
      ['setsid', '/usr/local/bin/greet'],
      ['env', 'sh', '/usr/local/bin/greet'],
    ]) {
      expect(judge({ entrypoint }, greet), entrypoint.join(' ')).toEqual({
        status: 'pass',
        expected: 'ENTRYPOINT in exec form, running greet',
        actual: `ENTRYPOINT ${asExecForm(entrypoint)}`,
      });
    }
  });

  it('still fails what the launcher runs when it is another program, a shell with -c, or nothing', () => {
    expect(judge({ entrypoint: ['env', 'LANG=C', 'echo', 'hello,'] }, greet)).toEqual({
      status: 'fail',
      expected: 'ENTRYPOINT in exec form, running greet',
      actual: 'ENTRYPOINT ["env", "LANG=C", "echo", "hello,"]',
      message: 'ENTRYPOINT ["env", "LANG=C", "echo", "hello,"] runs echo, not greet. The image is meant to behave like greet itself.',
    });
    expect(judge({ entrypoint: ['env', 'X=1', '/bin/sh', '-c', 'greet "$@"', '--'] }, greet)).toEqual({
      status: 'fail',
      expected: 'ENTRYPOINT in exec form, running greet',
      actual: 'shell form: ENTRYPOINT greet "$@" --',
      message:
        'ENTRYPOINT is a shell run with -c, as the shell form stores it: the image runs ["env", "X=1", "/bin/sh", "-c", "greet \\"$@\\"", "--"]. Its command line hands the arguments on, but the spec asks for exec form: a JSON array that names the program itself.',
    });
    expect(judge({ entrypoint: ['env'] }, greet).message).toBe('ENTRYPOINT ["env"] runs env, not greet. The image is meant to behave like greet itself.');
    expect(judge({ entrypoint: ['env', 'greeter'] }, greet).status).toBe('fail');
  });

  it('says what an image with neither ENTRYPOINT nor CMD lacks', () => {
    expect(judge({ entrypoint: null, cmd: null }, { instruction: 'CMD' })).toMatchObject({ status: 'fail', message: 'The image has no CMD.' });
  });

  it('judges a CMD program as written when an ENTRYPOINT runs it', () => {
    expect(judge({ entrypoint: ['x'], cmd: ['greet'] }, { instruction: 'CMD', program: 'greet' }).status).toBe('pass');
  });

  it('judges CMD after an ENTRYPOINT as arguments: a launcher word there starts nothing', () => {
    expect(judge({ entrypoint: ['greet'], cmd: ['env', 'sh', '-c', 'world'] }, { instruction: 'CMD' }).status).toBe('pass');
    expect(judge({ cmd: ['env', 'sh', '-c', 'greet world'] }, { instruction: 'CMD' }).status).toBe('fail');
  });

  it('takes the script under its own name with an extension, and nothing else that starts the same', () => {
    for (const entrypoint of [['/app/greet.sh'], ['greet.sh'], ['/bin/sh', '/app/greet.sh'], ['env', '/app/greet.bash']]) {
      expect(judge({ entrypoint }, greet).status, entrypoint.join(' ')).toBe('pass');
    }
    for (const entrypoint of [['/app/greeter'], ['/app/greet.'], ['/app/greet.s h'], ['/app/greet-sh'], ['/app/greet.sh/x'], ['/app/regreet.sh'], ['/app/greet.sh.x.'], ['/app/greet.d/run']]) {
      expect(judge({ entrypoint }, greet).status, entrypoint.join(' ')).toBe('fail');
    }
  });
});

describe("exec-form: a shell's own options (SHELL with options, sh -e script)", () => {
  it('tells a shell form after options such as SHELL ["/bin/bash", "-o", "pipefail", "-c"] writes, and reads its line', () => {
    for (const command of [
      ['/bin/bash', '-o', 'pipefail', '-c', 'greet world'],
      ['/bin/sh', '-ec', 'greet world'],
      ['/bin/bash', '--login', '-c', 'greet world'],
      ['/bin/sh', '-e', '+x', '-c', 'greet world'],
      ['/bin/sh', '-xc', 'greet world'],
    ]) {
      expect(isShellForm(command), command.join(' ')).toBe(true);
      expect(shellCommandLine(command), command.join(' ')).toBe('greet world');
    }
    expect(isShellForm(['/bin/sh', '+o', 'posix', '-c', 'x'])).toBe(true);
    expect(shellCommandLine(['/bin/sh', '-c', '-x'])).toBe('-x');
    for (const command of [['/bin/bash', 'x--norc', '-c', 'y'], ['/bin/bash', '--norc/x', '-c', 'y'], ['/bin/sh', 'a-e', '-c', 'y'], ['/bin/sh', '-e1', '-c', 'y'], ['/bin/sh', '', '-c', 'y']]) {
      expect(isShellForm(command), command.join(' ')).toBe(false);
    }
    for (const command of [['/bin/sh', '-e', 'greet'], ['/bin/sh', '+c', 'greet'], ['/bin/sh', '-C', 'greet'], ['/bin/sh', '-o', 'c'], ['/bin/sh', 'greet', '-c'], ['/bin/sh', '--', '-c'], ['/bin/sh', '-o']]) {
      expect(isShellForm(command), command.join(' ')).toBe(false);
    }
    expect(judge({ cmd: ['/bin/bash', '-o', 'pipefail', '-c', 'world'], entrypoint: ['greet'] }, { instruction: 'CMD' })).toMatchObject({ status: 'fail', actual: 'shell form: CMD world' });
    expect(judge({ entrypoint: ['/bin/bash', '-o', 'pipefail', '-c', 'greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' })).toMatchObject({ status: 'fail', actual: 'shell form: ENTRYPOINT greet' });
  });

  it('passes a shell given options and the greet script, and fails one given options and another script', () => {
    const greet = { instruction: 'ENTRYPOINT', program: 'greet' } as const;
    for (const entrypoint of [['/bin/sh', '-e', '/usr/local/bin/greet'], ['sh', '-o', 'errexit', '-x', 'greet'], ['/bin/bash', '--norc', '/app/greet.sh']]) {
      expect(judge({ entrypoint }, greet).status, entrypoint.join(' ')).toBe('pass');
    }
    for (const entrypoint of [['/bin/sh', '-e', '/app/other'], ['/bin/sh', '-o', 'greet', '/app/other'], ['/bin/sh', '-e']]) {
      expect(judge({ entrypoint }, greet).status, entrypoint.join(' ')).toBe('fail');
    }
  });
});

describe('exec-form: what a failing shell form is told', () => {
  it('says a shell form that hands "$@" on does pass the arguments, and still is not exec form', () => {
    for (const line of ['exec greet "$@"', 'greet $*', 'greet ${1}', 'greet $1 $2']) {
      expect(judge({ entrypoint: ['/bin/sh', '-c', line, 'greet'] }, { instruction: 'ENTRYPOINT', program: 'greet' }).message, line).toBe(
        `ENTRYPOINT is a shell run with -c, as the shell form stores it: the image runs ${asExecForm(['/bin/sh', '-c', line, 'greet'])}. Its command line hands the arguments on, but the spec asks for exec form: a JSON array that names the program itself.`,
      );
    }
    for (const line of ['greet world', 'greet $HOME', 'greet $0']) {
      expect(judge({ entrypoint: ['/bin/sh', '-c', line] }, { instruction: 'ENTRYPOINT' }).message, line).toContain('ignores CMD and every argument');
    }
    expect(judge({ entrypoint: ['/bin/sh', '-c'] }, { instruction: 'ENTRYPOINT' }).message).toContain('ignores CMD');
  });

  it('counts the words a shell-form CMD hands an ENTRYPOINT', () => {
    expect(judge({ entrypoint: ['greet'], cmd: ['/bin/bash', '-o', 'pipefail', '-c', 'world'] }, { instruction: 'CMD' }).message).toBe(
      'CMD is in shell form, stored as ["/bin/bash", "-o", "pipefail", "-c", "world"]. After an ENTRYPOINT, all 5 words become its arguments: ["greet", "/bin/bash", "-o", "pipefail", "-c", "world"].',
    );
  });
});
