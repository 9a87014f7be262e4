import { describe, expect, it } from 'vitest';
import { runOutput } from '../../../runner/src/grader/kinds/run-output.js';
import type { FileFacts, ImageConfigFacts, RunProbeResult } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// What the learner reads after the image ran as a command: the command line they would type,
// what it printed and how it exited, and what in the config explains a wrong answer.

const withArgs = runOutput.params.parse({ args: ['Ada', 'Lovelace'], stdout: 'hello, Ada Lovelace\n' });
const withoutArgs = runOutput.params.parse({ stdout: 'hello, world' });
const image = (runs: RunProbeResult[], config: Partial<ImageConfigFacts> = {}, files: FileFacts[] = []) =>
  facts({ ref: 'lesson-3', config: { ...facts().config, entrypoint: ['greet'], cmd: null, ...config }, probes: { runs } }, files);
const exited = (stdout: string, options: { args?: string[]; exitCode?: number; stderr?: string } = {}): RunProbeResult => ({
  ...(options.args ? { args: options.args } : {}),
  withinMs: 10_000,
  outcome: 'exited',
  exitCode: options.exitCode ?? 0,
  stdout,
  stderr: options.stderr ?? '',
  afterMs: 1500,
});

describe('run-output: parameters', () => {
  it('defaults to exit code 0 within 10 s, and refuses codes and times out of range', () => {
    expect(withoutArgs).toEqual({ stdout: 'hello, world', exitCode: 0, withinMs: 10_000 });
    const accepts = (value: unknown) => runOutput.params.safeParse(value).success;
    expect(accepts({ stdout: '', exitCode: 255, withinMs: 60_000 })).toBe(true);
    expect(accepts({ stdout: '', exitCode: 256 })).toBe(false);
    expect(accepts({ stdout: '', exitCode: -1 })).toBe(false);
    expect(accepts({ stdout: '', exitCode: 1.5 })).toBe(false);
    expect(accepts({ stdout: '', withinMs: 60_001 })).toBe(false);
    expect(accepts({ stdout: '', withinMs: 0 })).toBe(false);
    expect(accepts({ stdout: '', withinMs: 1.5 })).toBe(false);
    expect(accepts({})).toBe(false);
  });
});

describe('run-output: verdicts', () => {
  it('passes the same output and code, trailing spaces aside, from the run with the same arguments', () => {
    const runs = [exited('hello, world  \n'), exited('hello, Ada Lovelace', { args: ['Ada', 'Lovelace'] })];
    expect(runOutput.evaluate(image(runs), withoutArgs)).toEqual({ status: 'pass', expected: '"hello, world", exit code 0', actual: '"hello, world", exit code 0, after 1.5 s' });
    expect(runOutput.evaluate(image(runs), withArgs)).toEqual({ status: 'pass', expected: '"hello, Ada Lovelace", exit code 0', actual: '"hello, Ada Lovelace", exit code 0, after 1.5 s' });
  });

  it('skips when no run had its arguments, quoting the command line as a shell would need it', () => {
    const odd = runOutput.params.parse({ args: ["it's", 'a b', 'x@y:z/1.2,3+4=5%'], stdout: 'x' });
    expect(runOutput.evaluate(image([exited('hello, world')]), odd)).toEqual({
      status: 'skip',
      expected: '"x", exit code 0',
      actual: 'not run',
      message: "`docker run --rm lesson-3 'it'\\''s' 'a b' x@y:z/1.2,3+4=5%` was not run.",
    });
    expect(runOutput.evaluate(image([exited('x', { args: ['Ada'] })]), withoutArgs).message).toBe('`docker run --rm lesson-3` was not run.');
  });

  it('fails other output or another code, quoting standard error when there is some', () => {
    expect(runOutput.evaluate(image([exited('hello, world', { exitCode: 3, stderr: 'oops\n' })]), withoutArgs)).toEqual({
      status: 'fail',
      expected: '"hello, world", exit code 0',
      actual: '"hello, world", exit code 3',
      message: '`docker run --rm lesson-3` printed "hello, world" and exited with code 3; expected "hello, world" and code 0. On standard error it said: "oops".',
    });
    expect(runOutput.evaluate(image([exited(' hello, world')]), withoutArgs).message).toBe(
      '`docker run --rm lesson-3` printed " hello, world" and exited with code 0; expected "hello, world" and code 0.',
    );
  });

  it('shortens long output to 200 characters', () => {
    const long = 'y'.repeat(250);
    const outcome = runOutput.evaluate(image([exited(long)]), withoutArgs);
    expect(outcome.actual).toBe(`"${'y'.repeat(200)}…", exit code 0`);
    expect(runOutput.evaluate(image([exited('z'.repeat(200))]), withoutArgs).actual).toBe(`"${'z'.repeat(200)}", exit code 0`);
  });

  it('blames a shell-form ENTRYPOINT only when arguments were given, and a shell-form CMD only when none were', () => {
    const shellEntrypoint = { entrypoint: ['/bin/sh', '-c', 'greet world'] };
    expect(runOutput.evaluate(image([exited('hello, world', { args: ['Ada', 'Lovelace'] })], shellEntrypoint), withArgs).message).toBe(
      '`docker run --rm lesson-3 Ada Lovelace` printed "hello, world" and exited with code 0; expected "hello, Ada Lovelace" and code 0. The ENTRYPOINT is in shell form (["/bin/sh", "-c", "greet world"]): the shell runs `greet world` and never looks at the arguments.',
    );
    expect(runOutput.evaluate(image([exited('hello')], shellEntrypoint), withoutArgs).message).toBe(
      '`docker run --rm lesson-3` printed "hello" and exited with code 0; expected "hello, world" and code 0.',
    );
    const shellCmd = { cmd: ['/bin/sh', '-c', 'world'] };
    expect(runOutput.evaluate(image([exited('hello, /bin/sh -c world')], shellCmd), withoutArgs).message).toBe(
      '`docker run --rm lesson-3` printed "hello, /bin/sh -c world" and exited with code 0; expected "hello, world" and code 0. The CMD is in shell form, so the ENTRYPOINT gets "/bin/sh", "-c", "world" as its arguments.',
    );
    expect(runOutput.evaluate(image([exited('x', { args: ['Ada', 'Lovelace'] })], shellCmd), withArgs).message).not.toContain('CMD');
    expect(runOutput.evaluate(image([exited('x')], { entrypoint: [], ...shellCmd }), withoutArgs).message).not.toContain('CMD');
    const noArgs = runOutput.params.parse({ args: [], stdout: 'x' });
    expect(runOutput.evaluate(image([exited('y', { args: [] })], shellEntrypoint), noArgs).message).not.toContain('ENTRYPOINT');
  });

  it('fails a command still running when stopped, with what it printed so far', () => {
    const timedOut = (stdout: string, stderr: string): RunProbeResult => ({ withinMs: 10_000, outcome: 'timed-out', stdout, stderr });
    expect(runOutput.evaluate(image([timedOut('', '')]), withoutArgs)).toEqual({
      status: 'fail',
      expected: '"hello, world", exit code 0',
      actual: 'still running after 10.0 s',
      message: '`docker run --rm lesson-3` was still running after 10.0 s, so it was stopped. A command does its work and exits. It printed nothing.',
    });
    expect(runOutput.evaluate(image([timedOut('listening\n', 'on 8080\n')]), withoutArgs).message).toBe(
      '`docker run --rm lesson-3` was still running after 10.0 s, so it was stopped. A command does its work and exits. Its output so far: "listening\\non 8080".',
    );
  });

  it('fails a command that did not start, with what the image says about its program', () => {
    const notStarted: RunProbeResult = { withinMs: 10_000, outcome: 'not-started', reason: 'exec: "/greet": no such file' };
    expect(runOutput.evaluate(image([notStarted], { entrypoint: ['/greet'] }), withoutArgs)).toEqual({
      status: 'fail',
      expected: '"hello, world", exit code 0',
      actual: 'did not start',
      message: '`docker run --rm lesson-3` did not start: exec: "/greet": no such file\nThe image has no /greet, the program its ENTRYPOINT names.',
    });
    expect(runOutput.evaluate(image([notStarted], { entrypoint: ['greet'] }), withoutArgs).message).toBe('`docker run --rm lesson-3` did not start: exec: "/greet": no such file');
  });
});
