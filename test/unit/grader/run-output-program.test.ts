import { describe, expect, it } from 'vitest';
import { otherProgram, runOutput } from '../../../runner/src/grader/kinds/run-output.js';
import type { FileFacts, ImageConfigFacts, RunProbeResult } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// Lesson 8's adversarial answers (test/fixtures/answers.ts): `CMD ["echo", "hello, world
// (libgreet 1.0)"]` printed greet's line without running greet, and passed `runs`.

const file = (path: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 10, mode: 0o755, layer: 0, ...overrides });
const elf = { kind: 'elf' as const };
const files = [
  file('usr/local/bin/greet', { identity: elf }),
  file('opt/greet/bin/greet', { identity: elf }),
  file('usr/bin/echo', { identity: elf }),
  file('bin', { type: 'symlink', linkTarget: 'usr/bin' }),
  file('usr/bin/sh', { identity: elf }),
  file('usr/local/bin/start.sh', { identity: { kind: 'script', interpreter: '/bin/sh' } }),
  file('usr/local/bin/link', { type: 'symlink', linkTarget: '/opt/greet/bin/greet' }),
];
const image = (config: Partial<ImageConfigFacts>, run: Partial<Extract<RunProbeResult, { outcome: 'exited' }>> = {}) =>
  facts(
    {
      ref: 'lesson-8',
      config: { user: '', entrypoint: null, cmd: null, env: [], exposedPorts: [], workingDir: '', labels: {}, ...config },
      probes: { runs: [{ withinMs: 10_000, outcome: 'exited', exitCode: 0, stdout: 'hello, world (libgreet 1.0)\n', stderr: '', afterMs: 40, ...run }] },
    },
    files,
  );
const params = runOutput.params.parse({ stdout: 'hello, world (libgreet 1.0)', program: '/usr/local/bin/greet' });

describe('run-output with the program that must print it', () => {
  it('fails an echo of the expected line, naming what ran instead (measured: passed before)', () => {
    const outcome = runOutput.evaluate(image({ cmd: ['echo', 'hello, world (libgreet 1.0)'] }), params);
    expect(outcome).toEqual({
      status: 'fail',
      expected: '"hello, world (libgreet 1.0)", exit code 0, printed by /usr/local/bin/greet',
      actual: '"hello, world (libgreet 1.0)", exit code 0, printed by /usr/bin/echo',
      message:
        '`docker run --rm lesson-8` printed the expected text, but the image\'s command starts /usr/bin/echo, not /usr/local/bin/greet: the check is that /usr/local/bin/greet prints it. Make ENTRYPOINT or CMD start /usr/local/bin/greet (`CMD ["greet"]` finds it through PATH).',
    });
    expect(otherProgram(image({ cmd: ['/bin/sh', '-c', 'echo "hello, world (libgreet 1.0)"'] }), '/usr/local/bin/greet')).toBe('/usr/bin/echo');
    expect(otherProgram(image({ cmd: ['printf', 'x'] }), '/usr/local/bin/greet')).toBe('printf');
    expect(otherProgram(image({}), '/usr/local/bin/greet')).toBe('nothing (the image has neither ENTRYPOINT nor CMD)');
  });

  it('passes greet however the command starts it', () => {
    for (const config of [
      { cmd: ['greet'] },
      { entrypoint: ['/usr/local/bin/greet'] },
      { cmd: ['/bin/sh', '-c', 'greet'] },
      { cmd: ['/bin/sh', '-c', 'LD_LIBRARY_PATH=/usr/local/lib exec greet'] },
      { cmd: ['sh', '-c', 'cd /usr/local/bin && ./greet'] },
      { entrypoint: ['env', 'LD_LIBRARY_PATH=/usr/local/lib', 'greet'] },
      { entrypoint: ['/usr/local/bin/start.sh'] },
      { cmd: ['./greet'], workingDir: '/usr/local/bin' },
    ]) {
      expect(runOutput.evaluate(image(config), params).status, JSON.stringify(config)).toBe('pass');
    }
  });

  it('follows links both ways: the program named through a link, or the link started', () => {
    const linked = runOutput.params.parse({ stdout: 'hello, world (libgreet 1.0)', program: '/usr/local/bin/link' });
    expect(runOutput.evaluate(image({ cmd: ['/opt/greet/bin/greet'] }), linked).status).toBe('pass');
    expect(otherProgram(image({ cmd: ['link'] }), '/opt/greet/bin/greet')).toBeUndefined();
    expect(otherProgram(image({ cmd: ['/opt/greet/bin/greet'] }), '/usr/local/bin/greet')).toBe('/opt/greet/bin/greet');
  });

  it('does not look at the program when the output is wrong already, nor without the parameter', () => {
    expect(runOutput.evaluate(image({ cmd: ['echo', 'x'] }, { stdout: 'x\n' }), params)).toMatchObject({ status: 'fail', actual: '"x", exit code 0' });
    expect(runOutput.evaluate(image({ cmd: ['echo', 'hello, world (libgreet 1.0)'] }), runOutput.params.parse({ stdout: 'hello, world (libgreet 1.0)' })).status).toBe('pass');
    expect(() => runOutput.params.parse({ stdout: 'x', program: 'greet' })).toThrow('must be an absolute path');
  });
});
