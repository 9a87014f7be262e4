import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { findExercise } from '../../exercises/index.js';
import { gradeInSandbox } from '../../runner/src/grade-and-record.js';
import { publishedPortHostOf } from '../../runner/src/grader/facts/published-port-host.js';
import { gradeExercise } from '../../runner/src/grader/grade.js';
import { probeLabels } from '../../runner/src/grader/facts/probe-container.js';
import type { CheckResult, CheckRun } from '../../runner/src/grader/types.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, buildWithApi, contextOf, exerciseDir, fixturesDir } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const tag = (name: string) => `ll-fx-${name}:${runId}`;
/** The bases on the learner's engine carry the layerlab/ namespace. */
const hostBaseArgs = { GOLANG: 'layerlab/golang:1.24', BUSYBOX: 'layerlab/busybox:latest' };

let host: Engine;
let nested: Engine;
let workDir: string;

/** Nested fixtures are built with BuildKit in the sandbox (OCI save layout); host ones with the legacy builder (legacy layout). */
const nestedFixtures = ['busybox-base', 'tool-added-deleted', 'wrong-entrypoint', 'many-layers', 'dynamic-on-scratch', 'never-listens', 'exits-at-once', 'no-command'];
const hostFixtures = ['busybox-httpd', 'tool-added-deleted'];

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'll-grader-'));
  for (const which of ['starter', 'solution'] as const) {
    await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-7', which)), tag: tag(which), labels });
  }
  const buildArgs = { APP: tag('solution'), DYNAMIC_APP: tag('starter') };
  for (const fixture of nestedFixtures) {
    await buildInSandbox(host, instance, { context: await contextOf(path.join(fixturesDir, fixture)), tag: tag(fixture), labels, buildArgs });
  }
  for (const fixture of hostFixtures) {
    await buildWithApi(host, { context: await contextOf(path.join(fixturesDir, fixture)), tag: tag(fixture), labels, buildArgs: hostBaseArgs });
  }
  // The service itself, built by the legacy builder on the learner's engine, whose Go image is layerlab/golang:1.24.
  const solution = await contextOf(exerciseDir('lesson-7', 'solution'));
  solution.set('Dockerfile', Buffer.from(solution.get('Dockerfile')!.toString('utf8').replace(/^FROM golang:1\.24 /m, `FROM ${hostBaseArgs.GOLANG} `)));
  await buildWithApi(host, { context: solution, tag: tag('host-solution'), labels });
});

afterAll(async () => {
  await removeTestObjects(nested.docker, runId);
  await removeTestObjects(host.docker, runId);
  await rm(workDir, { recursive: true, force: true });
});

const lesson7 = findExercise('lesson-7');
/** Graded as the sandbox's Check button does, or on another engine as CI does with --docker-host. */
const grade = (image: string, engine: Engine = nested) =>
  engine === nested
    ? gradeInSandbox({ exercise: lesson7, instance, image, labels })
    : gradeExercise({ exercise: lesson7, engine, image, publishedPortHost: publishedPortHostOf(engine.address), labels });
const check = (run: CheckRun, id: string): CheckResult => {
  const found = run.checks.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no check ${id} in ${run.checks.map((candidate) => candidate.id).join(', ')}`);
  return found;
};
const statuses = (run: CheckRun) => Object.fromEntries(run.checks.map((result) => [result.id, result.status]));

async function probeContainers(engine: Engine): Promise<number> {
  // This run's only: other runs on the same engine may be probing at this very moment.
  const containers = await engine.docker.listContainers({ all: true, filters: { label: [`layerlab.role=${probeLabels['layerlab.role']}`, `${testLabel}=${runId}`] } });
  return containers.length;
}

describe('grading lesson 7 in the sandbox (BuildKit, OCI save layout)', () => {
  it('fails the starter on size, layers and build tools, and it runs', async () => {
    const run = await grade(tag('starter'));
    expect(run.archiveLayout).toBe('oci');
    expect(run.passed).toBe(false);
    expect(statuses(run)).toEqual({ 'image-exists': 'pass', size: 'fail', layers: 'fail', 'no-build-tools': 'fail', runs: 'pass', 'runs-as-non-root': 'fail' });
    const tools = check(run, 'no-build-tools');
    expect(tools.actual).toMatch(/^the Go toolchain \(\d+ files\), the C compiler \(gcc\) \(\d+ files\), make \(1 file\), git \(\d+ files\)$/);
    expect(tools.message).toContain('/usr/lib/go-1.24/bin/go (Go build info names cmd/go');
    // The layer chart: the apt-get layer of the base carries the tools, gcc's compiler proper among them.
    const toolLayer = run.layers.find((layer) => layer.buildTools.includes('/usr/bin/make'));
    expect(toolLayer?.instruction).toMatch(/^RUN apt-get update/);
    expect(toolLayer?.buildTools).toContain('/usr/libexec/gcc/x86_64-linux-gnu/14/cc1');
  });

  it('passes the solution: a scratch multi-stage build', async () => {
    const run = await grade(tag('solution'));
    expect(statuses(run)).toEqual({ 'image-exists': 'pass', size: 'pass', layers: 'pass', 'no-build-tools': 'pass', runs: 'pass', 'runs-as-non-root': 'pass' });
    expect(run.passed).toBe(true);
    expect(run.layers).toHaveLength(1);
    expect(run.layers[0]!.instruction).toBe('COPY /out/hello /hello');
  });

  it('passes a busybox base: a shell and busybox\'s applets are not build tools', async () => {
    const run = await grade(tag('busybox-base'));
    expect(statuses(run)).toMatchObject({ size: 'pass', layers: 'pass', 'no-build-tools': 'pass', runs: 'pass' });
  });

  it('reports tools that later layers delete, with the layers that add and hide them', async () => {
    const run = await grade(tag('tool-added-deleted'));
    expect(check(run, 'no-build-tools')).toMatchObject({ status: 'fail', actual: 'the Go toolchain (1 file), make (1 file)' });
    const message = check(run, 'no-build-tools').message!;
    expect(message).toContain('/opt/formatter (Go build info names cmd/gofmt (go1.24.4)); added by layer 2 (`COPY /usr/lib/go-1.24/bin/gofmt /opt/formatter`), deleted by layer 4 (`RUN rm /opt/formatter`)');
    expect(message).toContain('/usr/local/lib/helpers/helper (contains "GNU Make"); added by layer 3');
    expect(message).toMatch(/hidden \(its directory was emptied\) by layer 5 \(`RUN rm -rf \/usr\/local\/lib\/helpers/);
    // busybox httpd answers on 8080, but it is not the service: /healthz is not there.
    expect(check(run, 'runs')).toMatchObject({ status: 'fail', message: expect.stringContaining('but not as the service does: GET /healthz answered 404') });
  });

  it('explains an entrypoint that is not in the image', async () => {
    const run = await grade(tag('wrong-entrypoint'));
    expect(check(run, 'runs')).toMatchObject({ status: 'fail' });
    expect(check(run, 'runs').message).toContain('The image has no /app, the program its ENTRYPOINT names.');
  });

  it('fails an image with too many layers, listing them', async () => {
    const run = await grade(tag('many-layers'));
    expect(check(run, 'layers')).toMatchObject({ status: 'fail', actual: '8 layers', expected: 'at most 5 layers' });
    expect(check(run, 'layers').message).toContain('layer 7 (`RUN echo six > /six`)');
    expect(statuses(run)).toMatchObject({ size: 'pass', 'no-build-tools': 'pass', runs: 'pass' });
  });

  it('explains a cgo binary on scratch: the loader is missing', async () => {
    const run = await grade(tag('dynamic-on-scratch'));
    const runs = check(run, 'runs');
    expect(runs.status).toBe('fail');
    expect(runs.message).toContain('/hello is linked dynamically: it needs the loader /lib64/ld-linux-x86-64.so.2, which is not in the image.');
  });

  it('gives up on a container that never listens after 5 s, and removes it', async () => {
    const run = await grade(tag('never-listens'));
    expect(check(run, 'runs')).toMatchObject({ status: 'fail', actual: 'no answer within 5 s' });
    expect(await probeContainers(nested)).toBe(0);
  });

  it('reports a container that exits at once with its exit code', async () => {
    const run = await grade(tag('exits-at-once'));
    expect(check(run, 'runs')).toMatchObject({ status: 'fail', actual: 'the container exited with code 1' });
    expect(await probeContainers(nested)).toBe(0);
  });

  it('reports an image with nothing to run', async () => {
    const run = await grade(tag('no-command'));
    expect(check(run, 'runs')).toMatchObject({ status: 'fail', actual: 'the container did not start' });
    expect(check(run, 'runs').message).toContain('The image has neither ENTRYPOINT nor CMD');
  });

  it('fails a missing image with how to build it, and skips the rest', async () => {
    const run = await grade(tag('missing'));
    expect(run.passed).toBe(false);
    expect(check(run, 'image-exists')).toMatchObject({ status: 'fail', actual: 'no such image', hint: expect.stringContaining('docker build -t lesson-7 .') });
    expect(statuses(run)).toMatchObject({ size: 'skip', layers: 'skip', 'no-build-tools': 'skip', runs: 'skip' });
  });
});

describe('grading on another engine (the legacy builder and save layout of Engine 20.10)', () => {
  it('passes the service built by the legacy builder, dialling the local engine\'s published port', async () => {
    const run = await grade(tag('host-solution'), host);
    expect(run.archiveLayout).toBe('docker-legacy');
    expect(statuses(run)).toEqual({ 'image-exists': 'pass', size: 'pass', layers: 'pass', 'no-build-tools': 'pass', runs: 'pass', 'runs-as-non-root': 'pass' });
    expect(await probeContainers(host)).toBe(0);
  });

  it('fails an image that answers as the service does but is another program (busybox httpd serving files)', async () => {
    const run = await grade(tag('busybox-httpd'), host);
    expect(statuses(run)).toMatchObject({ size: 'pass', layers: 'pass', 'no-build-tools': 'pass', runs: 'fail', 'runs-as-non-root': 'pass' });
    expect(check(run, 'runs').message).toMatch(/^Something answers on port 8080 as the service does, but the program the container runs, .+, is not the service: that is the Go program built from /);
    expect(await probeContainers(host)).toBe(0);
  });

  it('finds deleted tools through the legacy layout\'s whiteouts too', async () => {
    const run = await grade(tag('tool-added-deleted'), host);
    const message = check(run, 'no-build-tools').message!;
    expect(check(run, 'no-build-tools').actual).toBe('the Go toolchain (1 file), make (1 file)');
    expect(message).toMatch(/\/opt\/formatter \(Go build info names cmd\/gofmt \(go1\.24\.4\)\); added by layer 2 \(`COPY file:[0-9a-f]{12}… in \/opt\/formatter`\), deleted by layer 4 \(`RUN rm \/opt\/formatter`\)/);
    expect(message).toMatch(/hidden \(its directory was emptied\) by layer 5/);
  });
});

describe('course check, as a learner or a CI runs it', () => {
  it('prints the JSON report and exits 0 when every check passes', async () => {
    const result = await runCourse(['check', 'lesson-7', '--image', tag('solution'), '--format', 'json'], sandboxEnv);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ schemaVersion: 1, exercise: 'lesson-7', image: tag('solution'), passed: true });
    expect(report.checks.map((item: { id: string }) => item.id)).toEqual(['image-exists', 'size', 'layers', 'no-build-tools', 'runs', 'runs-as-non-root']);
    for (const item of report.checks) expect(Object.keys(item)).toEqual(expect.arrayContaining(['id', 'title', 'passed', 'expected', 'actual', 'hint']));
    expect(typeof report.durationMs).toBe('number');
  });

  it('writes a JUnit report to a file, shows the text report, and exits 1 when a check fails', async () => {
    const file = path.join(workDir, 'report.xml');
    const result = await runCourse(['check', 'lesson-7', '--image', tag('starter'), '--format', 'junit', '--output', file], sandboxEnv);
    expect(result.exitCode).toBe(1);
    const xml = await readFile(file, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="course check" tests="6" failures="3"/);
    expect(xml).toContain('<testcase classname="lesson-7" name="size: The image is at most 20 MB"');
    expect(result.stdout).toContain('found:    ');
    expect(result.stdout).toContain(`The junit report is in ${file}.`);
    expect(result.stdout).not.toContain('\x1b[');
    // Written through a temp file and a rename: nothing else is left in the folder.
    expect(await readdir(workDir)).toEqual(['report.xml']);
  });

  it('exits 1 for a missing image, saying how to build it', async () => {
    const result = await runCourse(['check', 'lesson-7', '--image', tag('missing')], sandboxEnv);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`has no image ${tag('missing')}`);
    expect(result.stdout).toContain('docker build -t lesson-7 .');
  });

  it('exits 2 for an unknown exercise, listing the real ones', async () => {
    const result = await runCourse(['check', 'lesson-70'], sandboxEnv);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: There is no exercise "lesson-70"\.\n  The exercises are: (lesson-\d+, )*lesson-7(, lesson-\d+)*\.\n$/);
  });

  it('exits 2 for a bad flag value, naming it', async () => {
    for (const args of [['--format', 'xml'], ['--image', 'bad name'], ['--output', path.join(workDir, 'no', 'such', 'dir', 'r.json')]]) {
      const result = await runCourse(['check', 'lesson-7', '--image', tag('solution'), ...args], sandboxEnv);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n').filter(Boolean), args.join(' ')).toHaveLength(2);
      expect(hasStackTrace(result.stderr)).toBe(false);
    }
  });

  it('grades on another engine with --docker-host, unix socket and tcp, the container probe included', async () => {
    // The host's engine, wherever DOCKER_HOST puts it (the tests' own default is the local socket).
    const direct = await runCourse(['check', 'lesson-7', '--image', tag('host-solution'), '--docker-host', host.address], sandboxEnv);
    expect(direct.stdout).toContain('GET /healthz: 200 "ok", GET /: 200');
    expect(direct.exitCode).toBe(0);

    // A CI engine reached over TCP: here the host's engine behind a TCP relay on a free port.
    const hostEngine = new URL(host.address);
    const relay = net.createServer((client) => {
      const engine = hostEngine.protocol === 'unix:' ? net.connect(hostEngine.pathname) : net.connect(Number(hostEngine.port), hostEngine.hostname);
      client.pipe(engine).pipe(client);
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      const tcp = await runCourse(['check', 'lesson-7', '--image', tag('host-solution'), '--docker-host', `tcp://127.0.0.1:${port}`, '--format', 'json'], sandboxEnv);
      expect(tcp.exitCode).toBe(0);
      expect(JSON.parse(tcp.stdout).engine.address).toBe(`tcp://127.0.0.1:${port}`);
    } finally {
      relay.close();
    }
  });

  it('exits 3 when the engine does not answer', async () => {
    const result = await runCourse(['check', 'lesson-7', '--docker-host', `unix://${path.join(workDir, 'none.sock')}`], sandboxEnv);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/^error: Docker is not answering on unix:\/\/.*none\.sock \(no socket there\)\.\n  /);
    expect(hasStackTrace(result.stderr)).toBe(false);
  });

  it('removes its container when stopped with Ctrl-C', async () => {
    const child = spawn(process.execPath, [path.join(projectRoot, 'runner', 'bin', 'course.js'), 'check', 'lesson-7', '--image', tag('never-listens')], {
      env: { ...process.env, NO_COLOR: '1', ...sandboxEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve((exitCode = code))));
    // Until the probe's container is there (the test's timeout bounds the wait), or the check
    // ended without one.
    while ((await probeContainers(nested)) === 0) {
      if (exitCode !== undefined) throw new Error(`course check exited ${exitCode} before starting a probe container; stderr:\n${stderr}`);
      await sleep(50);
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Stopped. Any container the check started has been removed.');
    expect(await probeContainers(nested)).toBe(0);
  });
});
