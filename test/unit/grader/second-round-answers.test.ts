import { describe, expect, it } from 'vitest';
import { pipeFailuresFailTheBuild, runRowOf, shellOptions, topLevelCommands, unguardedPipe } from '../../../runner/src/grader/kinds/pipe-failures-fail-the-build.js';
import { vaultBase, vaultInstructions } from '../../../exercises/lesson-6/exercise.js';
import { fileRecoveredFromLayer } from '../../../runner/src/grader/kinds/file-recovered-from-layer.js';
import { findExercise } from '../../../exercises/index.js';
import { httpResponds } from '../../../runner/src/grader/kinds/http-responds.js';
import { startedProgram } from '../../../runner/src/grader/kinds/started-program.js';
import { pathNeverInLayers } from '../../../runner/src/grader/kinds/path-never-in-layers.js';
import type { FileFacts, HttpProbeResult, ImageConfigFacts, LayerFacts, ReferenceFileFacts, ReferenceImageFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

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

describe('lesson 6: the vault is the course\'s only when built on its base, nothing slipped in below its instructions', () => {
  const code = '5b0e1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f';
  const busybox = ['sha256:b0b0'];
  const vault = (diffIds: string[]): ReferenceImageFacts => ({ ref: 'lesson-6-vault', isPresent: true, id: 'sha256:va', diffIds });
  const reference = (layerInstructions: string[]): ReferenceFileFacts => ({
    image: 'lesson-6-vault',
    path: '/vault/recovery-code.txt',
    isImagePresent: true,
    layerCount: layerInstructions.length,
    layerInstructions,
    versions: [{ layer: layerInstructions.length - 2, diffId: '', layerFiles: [], type: 'file', sizeBytes: code.length, content: Buffer.from(code) }],
    isVisible: false,
  });
  const recovered: FileFacts = { path: 'recovered/recovery-code.txt', type: 'file', sizeBytes: code.length, mode: 0o644, layer: 1, content: Buffer.from(code) };
  const params = { path: '/recovered/recovery-code.txt', from: { image: 'lesson-6-vault', path: '/vault/recovery-code.txt', madeBy: vaultInstructions, base: vaultBase } };
  const judgeVault = (vaultDiffIds: string[], instructions: string[], base: ReferenceImageFacts = { ref: vaultBase, isPresent: true, id: 'sha256:bb', diffIds: busybox }) =>
    fileRecoveredFromLayer.evaluate(
      facts({ ref: 'lesson-6', probes: { referenceFiles: [reference(instructions)], referenceImages: { [vaultBase]: base, 'lesson-6-vault': vault(vaultDiffIds) } } }, [recovered]),
      params,
    );

  it('passes the course\'s vault: busybox\'s layer and one per RUN', () => {
    expect(judgeVault([...busybox, 'sha256:r1', 'sha256:r2'], ['ADD busybox.tar /', ...vaultInstructions]).status).toBe('pass');
  });

  it('fails a vault with a head of its own slipped in below the same RUNs (its "random" code is whatever it prints)', () => {
    const outcome = judgeVault([...busybox, 'sha256:fake', 'sha256:r1', 'sha256:r2'], ['ADD busybox.tar /', 'COPY head /usr/local/bin/head', ...vaultInstructions]);
    expect(outcome).toMatchObject({
      status: 'fail',
      actual: "lesson-6-vault is not the course's",
      message: expect.stringContaining("lesson-6-vault is not the image the course's Dockerfile builds: it has 4 layers, where busybox:latest's 1 layer and one per instruction of the course's Dockerfile make 3."),
    });
  });

  it('fails a vault on another base, and cannot decide without the base image', () => {
    expect(judgeVault(['sha256:deb', 'sha256:r1', 'sha256:r2'], ['ADD rootfs.tar /', ...vaultInstructions])).toMatchObject({
      status: 'fail',
      message: expect.stringContaining("its bottom layers are not busybox:latest's"),
    });
    expect(judgeVault([...busybox, 'sha256:r1', 'sha256:r2'], ['ADD busybox.tar /', ...vaultInstructions], { ref: vaultBase, isPresent: false })).toMatchObject({
      status: 'skip',
      message: 'Not checked: the engine has no image busybox:latest, which lesson-6-vault must be built on.',
    });
  });

  it('asks for both images when a base is given, and only then', () => {
    expect(fileRecoveredFromLayer.probes?.(params)).toEqual({ fileContents: ['/recovered/recovery-code.txt'], referenceFiles: [params.from], referenceImages: [vaultBase, 'lesson-6-vault'] });
    const { base: _base, ...withoutBase } = params.from;
    expect(fileRecoveredFromLayer.probes?.({ ...params, from: withoutBase })).not.toHaveProperty('referenceImages');
  });
});

describe('lesson 6: the vault base named in the exercise', () => {
  it('is the FROM line of the course\'s vault Dockerfile', async () => {
    const { readFile } = await import('node:fs/promises');
    const dockerfile = await readFile(new URL('../../../exercises/lesson-6/starter/vault/Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile.split('\n').filter((line) => line.startsWith('FROM '))).toEqual([`FROM ${vaultBase}`]);
  });
});

describe('lesson 7: the service is the Go program built from main.go, not files served with the same answers', () => {
  const exercise = findExercise('lesson-7');
  const runs = exercise.checks.find((check) => check.id === 'runs')!;
  const answers: HttpProbeResult = {
    port: 8080,
    paths: ['/healthz', '/'],
    withinMs: 5000,
    outcome: 'answered',
    afterMs: 40,
    answers: [
      { path: '/healthz', statusCode: 200, bodyStart: 'ok\n' },
      { path: '/', statusCode: 200, bodyStart: 'Hello from Layerlab, lesson 7!\n' },
    ],
  };
  const program = (path: string, identity: FileFacts['identity'], overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 5_000_000, mode: 0o755, layer: 1, ...(identity ? { identity } : {}), ...overrides });
  const service = (path: string, mainPath = 'example.com/layerlab/hello') => program(path, { kind: 'go-program', mainPath });
  const judgeRun = (config: Partial<ImageConfigFacts>, files: FileFacts[]) =>
    httpResponds.evaluate(facts({ config: { ...facts().config, entrypoint: null, cmd: null, env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...config }, probes: { http: answers } }, files), runs.params as never);

  it('fails busybox httpd serving a healthz file that says ok (measured: passed before)', () => {
    const outcome = judgeRun({ cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'] }, [program('bin/busybox', { kind: 'busybox' }), program('bin/httpd', { kind: 'busybox' }, { hardLinkTo: 'bin/busybox' })]);
    expect(outcome).toMatchObject({
      status: 'fail',
      message:
        'Something answers on port 8080 as the service does, but the program the container runs, /bin/httpd (busybox), is not the service: that is the Go program built from example.com/layerlab/hello or command-line-arguments. Ship the program you built, and run it.',
    });
  });

  it('passes the service however it is started: by absolute path, through PATH, from the working folder, in shell form, through a symlink', () => {
    expect(judgeRun({ entrypoint: ['/hello'] }, [service('hello')]).status).toBe('pass');
    expect(judgeRun({ cmd: ['server'] }, [service('usr/local/bin/server')]).status).toBe('pass');
    expect(judgeRun({ cmd: ['./hello'], workingDir: '/app' }, [service('app/hello')]).status).toBe('pass');
    expect(judgeRun({ cmd: ['/bin/sh', '-c', 'PORT=8080 exec hello'] }, [service('bin/hello')]).status).toBe('pass');
    expect(judgeRun({ entrypoint: ['/app/run'] }, [service('opt/hello', 'command-line-arguments'), program('app/run', undefined, { type: 'symlink', linkTarget: '../opt/hello' })]).status).toBe('pass');
  });

  it('gives a script the benefit of the doubt only when the service is in the image', () => {
    const script = program('entrypoint.sh', { kind: 'script', interpreter: '/bin/sh' });
    expect(judgeRun({ entrypoint: ['/entrypoint.sh'] }, [script, service('hello')]).status).toBe('pass');
    expect(judgeRun({ entrypoint: ['/entrypoint.sh'] }, [script])).toMatchObject({ status: 'fail', actual: expect.stringContaining('a script for /bin/sh, and no Go program built from example.com/layerlab/hello is in the image') });
  });

  it('fails another Go program, and a program the image does not hold', () => {
    expect(judgeRun({ cmd: ['/server'] }, [service('server', 'example.com/other/server')])).toMatchObject({ status: 'fail', actual: expect.stringContaining('the program is a Go program built from example.com/other/server') });
    expect(judgeRun({ cmd: ['/nowhere'] }, [service('hello')])).toMatchObject({ status: 'fail', actual: expect.stringContaining('not a file the image holds') });
  });

  it('finds the started program as the runtime does', () => {
    const image = (config: Partial<ImageConfigFacts>, files: FileFacts[]) => facts({ config: { ...facts().config, env: [], entrypoint: null, cmd: null, ...config } }, files);
    expect(startedProgram(image({ cmd: ['hello'] }, [service('usr/bin/hello')]))).toEqual({ name: 'hello', path: 'usr/bin/hello' });
    expect(startedProgram(image({ entrypoint: ['/bin/sh', '-c'], cmd: ['exec server --port 8080'] }, [service('bin/server')]))).toEqual({ name: 'server', path: 'bin/server' });
    expect(startedProgram(image({ cmd: ['hello'] }, [program('usr/bin/hello', undefined, { type: 'directory' })]))).toEqual({ name: 'hello' });
    expect(startedProgram(image({}, []))).toBeUndefined();
  });
});

describe('lesson 2: an empty folder ships none of what it would hold', () => {
  const at = (index: number, instruction: string, entries: LayerFacts['entries']) => layer(index, { instruction, entries });
  const judgeLayers = (layers: LayerFacts[], paths: string[]) => pathNeverInLayers.evaluate(facts({ layers }), { paths });

  it('passes /app/docs left empty by docs/* in .dockerignore (measured: failed before)', () => {
    const layers = [at(0, 'FROM busybox', [{ path: 'bin/sh', type: 'file', sizeBytes: 900 }]), at(1, 'COPY . /app', [{ path: 'app', type: 'directory', sizeBytes: 0 }, { path: 'app/docs', type: 'directory', sizeBytes: 0 }, { path: 'app/docs/old', type: 'directory', sizeBytes: 0 }, { path: 'app/README.md', type: 'file', sizeBytes: 40 }])];
    expect(judgeLayers(layers, ['/app/docs', '/app/CHANGELOG.md']).status).toBe('pass');
  });

  it('still fails a folder that holds a file, a link or anything else, named by the folder', () => {
    for (const entry of [{ path: 'app/docs/a.md', type: 'file' as const, sizeBytes: 10 }, { path: 'app/docs/link', type: 'symlink' as const, sizeBytes: 0, linkTarget: '/etc/passwd' }]) {
      const layers = [at(0, 'COPY . /app', [{ path: 'app/docs', type: 'directory', sizeBytes: 0 }, entry])];
      expect(judgeLayers(layers, ['/app/docs'])).toMatchObject({ status: 'fail', message: expect.stringMatching(/^\/app\/docs \(\d+ B\) is in layer 1/) });
    }
  });
});
