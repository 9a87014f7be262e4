import { describe, expect, it } from 'vitest';
import { demuxLogStreams } from '../../../runner/src/engine.js';
import { computedInBuild } from '../../../runner/src/grader/kinds/computed-in-build.js';
import { execForm } from '../../../runner/src/grader/kinds/exec-form.js';
import { labelEquals } from '../../../runner/src/grader/kinds/label-equals.js';
import { noSecret } from '../../../runner/src/grader/kinds/no-secret.js';
import { pathNeverInLayers } from '../../../runner/src/grader/kinds/path-never-in-layers.js';
import { portExposed } from '../../../runner/src/grader/kinds/port-exposed.js';
import { runOutput } from '../../../runner/src/grader/kinds/run-output.js';
import type { ImageConfigFacts, ImageFacts, RunProbeResult } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

const MB = 1e6;
const token = 'glt_7c41e09b2f5d8a36';
const noToken = { value: token, name: 'the GREET_TOKEN value' };

function withConfig(config: Partial<ImageConfigFacts>, overrides: Partial<ImageFacts> = {}): ImageFacts {
  const base = facts();
  return facts({ ref: 'lesson-3', config: { ...base.config, entrypoint: null, cmd: null, exposedPorts: [], ...config }, ...overrides });
}

describe('exec-form', () => {
  it('passes an exec-form ENTRYPOINT and a CMD with words', () => {
    const image = withConfig({ entrypoint: ['greet'], cmd: ['world'] });
    expect(execForm.evaluate(image, { instruction: 'ENTRYPOINT' })).toMatchObject({ status: 'pass', actual: 'ENTRYPOINT ["greet"]' });
    expect(execForm.evaluate(image, { instruction: 'CMD' })).toMatchObject({ status: 'pass', actual: 'CMD ["world"]' });
  });

  it('fails a shell-form ENTRYPOINT and says that it ignores the arguments', () => {
    const outcome = execForm.evaluate(withConfig({ entrypoint: ['/bin/sh', '-c', 'greet world'] }), { instruction: 'ENTRYPOINT' });
    expect(outcome).toMatchObject({ status: 'fail', actual: 'shell form: ENTRYPOINT greet world' });
    expect(outcome.message).toContain('ignores CMD and every argument given to docker run');
  });

  it('treats a shell run with -c as shell form whatever the shell, but not a shell running a script', () => {
    expect(execForm.evaluate(withConfig({ entrypoint: ['/bin/bash', '-c', 'greet'] }), { instruction: 'ENTRYPOINT' }).status).toBe('fail');
    expect(execForm.evaluate(withConfig({ entrypoint: ['/bin/sh', '/usr/local/bin/greet'] }), { instruction: 'ENTRYPOINT' }).status).toBe('pass');
  });

  it('explains a missing CMD after an ENTRYPOINT, and what a shell-form CMD turns into', () => {
    const missing = execForm.evaluate(withConfig({ entrypoint: ['greet'] }), { instruction: 'CMD' });
    expect(missing).toMatchObject({ status: 'fail', actual: 'no CMD' });
    expect(missing.message).toContain('Setting ENTRYPOINT clears the CMD the base image had');
    const shell = execForm.evaluate(withConfig({ entrypoint: ['greet'], cmd: ['/bin/sh', '-c', 'world'] }), { instruction: 'CMD' });
    expect(shell.message).toContain('["greet", "/bin/sh", "-c", "world"]');
  });
});

describe('label-equals', () => {
  const authors = { key: 'org.opencontainers.image.authors', value: 'Ada Lovelace <ada@example.com>' };

  it('passes on the exact value and shows a different one', () => {
    expect(labelEquals.evaluate(withConfig({ labels: { [authors.key]: authors.value } }), authors).status).toBe('pass');
    const outcome = labelEquals.evaluate(withConfig({ labels: { [authors.key]: 'Ada' } }), authors);
    expect(outcome).toMatchObject({ status: 'fail', actual: `${authors.key}="Ada"` });
  });

  it('names MAINTAINER when the history has one, and leaves the course labels out of the list', () => {
    const image = withConfig(
      { labels: { 'layerlab.role': 'base-image', version: '1' } },
      { history: [{ createdBy: 'MAINTAINER Ada Lovelace <ada@example.com>', isEmptyLayer: true }] },
    );
    const outcome = labelEquals.evaluate(image, authors);
    expect(outcome.message).toBe(
      'The image has no label org.opencontainers.image.authors; its labels are version. A MAINTAINER instruction sets the deprecated Author field of the image, not a label.',
    );
  });
});

describe('port-exposed', () => {
  it('looks for the port with its protocol', () => {
    const params = portExposed.params.parse({ port: 8080 });
    expect(portExposed.evaluate(withConfig({ exposedPorts: ['8080/tcp'] }), params).status).toBe('pass');
    expect(portExposed.evaluate(withConfig({ exposedPorts: ['8080/udp'] }), params)).toMatchObject({
      status: 'fail',
      message: 'The image exposes 8080/udp, but not 8080/tcp.',
    });
    expect(portExposed.evaluate(withConfig({}), params).message).toBe('The image exposes no port; 8080/tcp was expected.');
  });
});

describe('no-secret', () => {
  it('passes when the value is nowhere', () => {
    const image = withConfig({ env: ['PATH=/bin', 'GREET_TOKEN='] }, { history: [{ createdBy: 'ENV GREET_TOKEN=', isEmptyLayer: true }] });
    expect(noSecret.evaluate(image, noToken)).toMatchObject({ status: 'pass', actual: 'not found' });
  });

  it('finds it in the environment and in the ENV history row, masked in the message', () => {
    const image = withConfig({ env: [`GREET_TOKEN=${token}`] }, { history: [{ createdBy: `ENV GREET_TOKEN=${token}`, isEmptyLayer: true }] });
    const outcome = noSecret.evaluate(image, noToken);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'found in 2 places' });
    expect(outcome.message).toContain('the environment (ENV GREET_TOKEN=***)');
    expect(outcome.message).toContain('the history row `ENV GREET_TOKEN=***`');
    expect(outcome.message).not.toContain(token);
  });

  it('finds a build argument that BuildKit wrote into a RUN row, keeping the argument in the quote', () => {
    const image = withConfig(
      {},
      {
        history: [
          { createdBy: 'ARG GREET_TOKEN', isEmptyLayer: true },
          { createdBy: `RUN |1 GREET_TOKEN=${token} /bin/sh -c chmod 755 /usr/local/bin/greet # buildkit`, isEmptyLayer: false },
        ],
      },
    );
    expect(noSecret.evaluate(image, noToken).message).toContain('the history row `RUN |1 GREET_TOKEN=*** chmod 755 /usr/local/bin/greet`');
  });

  it('finds it in a label and refuses a value too short to search for', () => {
    expect(noSecret.evaluate(withConfig({ labels: { token } }), noToken).message).toContain('the label token=***');
    expect(noSecret.params.safeParse({ value: 'abc', name: 'x' }).success).toBe(false);
  });
});

describe('exec-form with a program', () => {
  const params = { instruction: 'ENTRYPOINT' as const, program: 'greet' };
  it('passes greet by name, by path, or as a script a shell is told to run', () => {
    for (const entrypoint of [['greet'], ['/usr/local/bin/greet'], ['sh', '/usr/local/bin/greet']]) {
      expect(execForm.evaluate(withConfig({ entrypoint }), params).status, entrypoint.join(' ')).toBe('pass');
    }
  });

  it('fails another program that prints the same words', () => {
    const outcome = execForm.evaluate(withConfig({ entrypoint: ['echo', 'hello,'] }), params);
    expect(outcome).toMatchObject({ status: 'fail', expected: 'ENTRYPOINT in exec form, running greet' });
    expect(outcome.message).toBe('ENTRYPOINT ["echo", "hello,"] runs echo, not greet. The image is meant to behave like greet itself.');
    expect(execForm.evaluate(withConfig({ entrypoint: ['/usr/local/bin/greeter'] }), params).status).toBe('fail');
  });
});

describe('computed-in-build', () => {
  const checksum = 'cb55d986df9aa5351f8c3a05b268138f63a593a742348ff4074656136b7071da';
  const params = computedInBuild.params.parse({ value: checksum, name: 'the checksum of numbers.txt' });
  const withRows = (...rows: string[]) => withConfig({}, { history: rows.map((createdBy) => ({ createdBy, isEmptyLayer: false })) });

  it('passes a build that computes the value', () => {
    const image = withRows('RUN /bin/sh -c seq 1 5000000 > numbers.txt && wc -l < numbers.txt > summary.txt && sha256sum numbers.txt >> summary.txt && rm numbers.txt # buildkit');
    expect(computedInBuild.evaluate(image, params)).toMatchObject({ status: 'pass' });
  });

  it('fails a value printed by an instruction, whole or in pieces, or set in the config', () => {
    const printed = withRows(`RUN /bin/sh -c printf '5000000\\n${checksum}  numbers.txt\\n' > summary.txt # buildkit`);
    expect(computedInBuild.evaluate(printed, params)).toMatchObject({ status: 'fail', actual: 'written in 1 place' });
    expect(computedInBuild.evaluate(printed, params).message).toContain('The checksum of numbers.txt is written out in the image');
    const split = withRows(`RUN /bin/sh -c echo ${checksum.slice(0, 30)} ${checksum.slice(30)} > summary.txt # buildkit`);
    expect(computedInBuild.evaluate(split, params).status).toBe('fail');
    expect(computedInBuild.evaluate(withConfig({ cmd: ['echo', checksum] }), params).status).toBe('fail');
  });
});

describe('run-output', () => {
  const withArgs = runOutput.params.parse({ args: ['Ada', 'Lovelace'], stdout: 'hello, Ada Lovelace' });
  const withoutArgs = runOutput.params.parse({ stdout: 'hello, world' });
  const exited = (args: string[] | undefined, stdout: string, exitCode = 0, stderr = ''): RunProbeResult => ({
    ...(args ? { args } : {}),
    withinMs: 10_000,
    outcome: 'exited',
    exitCode,
    stdout,
    stderr,
    afterMs: 250,
  });

  it('asks for one run per set of arguments', () => {
    expect(runOutput.probes!(withArgs)).toEqual({ runs: [{ args: ['Ada', 'Lovelace'], withinMs: 10_000 }] });
    expect(runOutput.probes!(withoutArgs)).toEqual({ runs: [{ withinMs: 10_000 }] });
  });

  it('passes on the same output and exit code, trailing newline or not', () => {
    const image = withConfig({ entrypoint: ['greet'], cmd: ['world'] }, { probes: { runs: [exited(undefined, 'hello, world\n'), exited(['Ada', 'Lovelace'], 'hello, Ada Lovelace\n')] } });
    expect(runOutput.evaluate(image, withoutArgs)).toMatchObject({ status: 'pass', actual: '"hello, world", exit code 0, after 250 ms' });
    expect(runOutput.evaluate(image, withArgs).status).toBe('pass');
  });

  it('blames a shell-form ENTRYPOINT when the arguments made no difference', () => {
    const image = withConfig({ entrypoint: ['/bin/sh', '-c', 'greet world'] }, { probes: { runs: [exited(['Ada', 'Lovelace'], 'hello, world\n')] } });
    const outcome = runOutput.evaluate(image, withArgs);
    expect(outcome).toMatchObject({ status: 'fail', expected: '"hello, Ada Lovelace", exit code 0', actual: '"hello, world", exit code 0' });
    expect(outcome.message).toBe(
      '`docker run --rm lesson-3 Ada Lovelace` printed "hello, world" and exited with code 0; expected "hello, Ada Lovelace" and code 0. The ENTRYPOINT is in shell form (["/bin/sh", "-c", "greet world"]): the shell runs `greet world` and never looks at the arguments.',
    );
  });

  it('fails on a wrong exit code and quotes standard error', () => {
    const image = withConfig({ entrypoint: ['greet'] }, { probes: { runs: [exited(undefined, '', 64, 'usage: greet NAME...\n')] } });
    const outcome = runOutput.evaluate(image, withoutArgs);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toContain('exited with code 64');
    expect(outcome.message).toContain('On standard error it said: "usage: greet NAME...".');
  });

  it('fails a command that keeps running, and one that cannot start', () => {
    const timedOut = withConfig({}, { probes: { runs: [{ withinMs: 10_000, outcome: 'timed-out', stdout: '', stderr: '' }] } });
    expect(runOutput.evaluate(timedOut, withoutArgs)).toMatchObject({ status: 'fail', actual: 'still running after 10.0 s' });
    const notStarted = withConfig({}, { probes: { runs: [{ withinMs: 10_000, outcome: 'not-started', reason: 'no command specified' }] } });
    const outcome = runOutput.evaluate(notStarted, withoutArgs);
    expect(outcome.message).toContain('did not start: no command specified');
    expect(outcome.message).toContain('neither ENTRYPOINT nor CMD');
  });

  it('skips when its run is missing', () => {
    expect(runOutput.evaluate(withConfig({}), withoutArgs).status).toBe('skip');
  });
});

describe('path-never-in-layers', () => {
  const numbers = { paths: ['/srv/numbers.txt'] };
  const createdAt = (index: number) => layer(index, { instruction: 'RUN seq 1 5000000 > numbers.txt', entries: [{ path: 'srv/numbers.txt', type: 'file', sizeBytes: 38_888_896 }] });

  it('finds a file that a later layer deletes, and names both layers', () => {
    const image = facts({
      layers: [layer(0), layer(1, { instruction: 'WORKDIR /srv', entries: [{ path: 'srv', type: 'directory', sizeBytes: 0 }] }), createdAt(2), layer(3, { instruction: 'RUN rm numbers.txt', whiteouts: ['srv/numbers.txt'] })],
    });
    const outcome = pathNeverInLayers.evaluate(image, numbers);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'in layer 3 (38.9 MB)' });
    expect(outcome.message).toBe(
      '/srv/numbers.txt (38.9 MB) is in layer 3 (`RUN seq 1 5000000 > numbers.txt`); layer 4 (`RUN rm numbers.txt`) deletes it, so a container does not see it, but its bytes still ship in layer 3.',
    );
  });

  it('sees a file hidden by an opaque directory or replaced, and one still there', () => {
    const opaque = facts({ layers: [createdAt(0), layer(1, { instruction: 'RUN rm -rf /srv && mkdir /srv', opaqueDirectories: ['srv'] })] });
    expect(pathNeverInLayers.evaluate(opaque, numbers).message).toContain('layer 2 (`RUN rm -rf /srv && mkdir /srv`) deletes it');
    const replaced = facts({ layers: [createdAt(0), layer(1, { instruction: 'COPY numbers.txt /srv/', entries: [{ path: 'srv/numbers.txt', type: 'file', sizeBytes: 10 }] })] });
    expect(pathNeverInLayers.evaluate(replaced, numbers)).toMatchObject({ status: 'fail', actual: 'in layer 1, layer 2 (38.9 MB)' });
    const kept = facts({ layers: [createdAt(0)] });
    expect(pathNeverInLayers.evaluate(kept, numbers).message).toBe('/srv/numbers.txt (38.9 MB) is in layer 1 (`RUN seq 1 5000000 > numbers.txt`), and a container still sees it.');
  });

  it('counts everything under a matching folder once, with its sizes added', () => {
    const image = facts({
      layers: [layer(0, { entries: [{ path: 'data', type: 'directory', sizeBytes: 0 }, { path: 'data/a', type: 'file', sizeBytes: 2 * MB }, { path: 'data/b', type: 'file', sizeBytes: 3 * MB }] })],
    });
    expect(pathNeverInLayers.evaluate(image, { paths: ['/data'] })).toMatchObject({ status: 'fail', actual: 'in layer 1 (5 MB)' });
  });

  it('passes when no layer holds the path, and skips when a layer could not be read', () => {
    const clean = facts({ layers: [layer(0, { entries: [{ path: 'srv/summary.txt', type: 'file', sizeBytes: 90 }] })] });
    expect(pathNeverInLayers.evaluate(clean, numbers)).toMatchObject({ status: 'pass', actual: 'in none of 1 layer' });
    const unreadable = facts({ layers: [layer(0, { unreadable: 'it is compressed with zstd' })] });
    expect(pathNeverInLayers.evaluate(unreadable, numbers).status).toBe('skip');
  });
});

describe('log streams', () => {
  it('keeps standard output and standard error apart', () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const raw = Buffer.concat([frame(1, 'hello, '), frame(2, 'warning\n'), frame(1, 'world\n')]);
    expect(demuxLogStreams(raw)).toEqual({ stdout: 'hello, world\n', stderr: 'warning\n', combined: 'hello, warning\nworld\n' });
  });
});
