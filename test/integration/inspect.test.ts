import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import type { CacheReport, InspectLayer, InspectReport, OverlayReport } from '../../runner/src/contract/inspect.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, execIn } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import { projectRoot } from '../../runner/src/project-root.js';

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const tag = (name: string) => `ll-inspect-${name}:${runId}`;
const fixture = (name: string) => path.join(projectRoot, 'test', 'fixtures', 'inspect', name);

let host: Engine;
let nested: Engine;
let workDir: string;

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'll-inspect-'));
  for (const name of ['layers', 'hostile-names']) {
    await buildInSandbox(host, instance, { context: await contextOf(fixture(name)), tag: tag(name), labels });
  }
});

afterAll(async () => {
  await removeTestObjects(nested.docker, runId);
  await rm(workDir, { recursive: true, force: true });
});

async function inspectJson(args: string[]): Promise<InspectReport> {
  const result = await runCourse(['inspect', ...args, '--format', 'json'], sandboxEnv);
  expect(result.stderr).not.toMatch(/error/);
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as InspectReport;
}

const paths = (list: ReadonlyArray<{ path: string }>) => list.map((entry) => entry.path);
/** The layers the fixture's own steps made, after the base's. */
const ownLayers = (report: InspectReport): InspectLayer[] => report.layers.slice(report.ledger.base.layerCount);

describe('course inspect on images built for real in the sandbox', () => {
  it('names what each step adds, overwrites, deletes, hides in an opaque folder and hard-links', async () => {
    const report = await inspectJson([tag('layers')]);
    const base = await nested.docker.getImage('busybox:latest').inspect();
    expect(report.ledger.base).toEqual({ how: 'image', image: 'busybox:latest', layerCount: base.RootFS.Layers!.length });
    const [make, overwrite, remove, remake, link, copy] = ownLayers(report);
    expect(paths(make!.added.filter((entry) => entry.path.startsWith('/app')))).toEqual(['/app/big.bin', '/app/keep.txt', '/app/data/a.txt', '/app', '/app/data']);
    expect(overwrite!.changed).toEqual([{ path: '/app/big.bin', type: 'file', sizeBytes: 200_000, previousSizeBytes: 300_000, previousLayer: make!.index }]);
    expect(remove!.removed).toEqual([{ path: '/app/keep.txt', how: 'whiteout', type: 'file', sizeBytes: 5, pathCount: 1 }]);
    expect(remake!.removed).toEqual([{ path: '/app/data', how: 'opaque-folder', type: 'directory', sizeBytes: 4, pathCount: 1 }]);
    expect(remake!.added).toEqual([{ path: '/app/data/b.txt', type: 'file', sizeBytes: 4 }]);
    // Two names, one inode: the tar carries the bytes once and the second name as a link.
    expect(link!.added.map((entry) => entry.type).sort()).toEqual(['file', 'hardlink']);
    expect(link!.sizeBytes).toBe(7);
    expect(copy!.instruction).toBe('COPY note.txt /app/note.txt');
    // The 300 kB copy, keep.txt and a.txt ship but are hidden; dive counts both copies of big.bin and keep.txt.
    expect(make!.hiddenBytes).toBe(300_000 + 5 + 4);
    expect(report.ledger.ownBytes).toBe(300_000 + 5 + 4 + 200_000 + 4 + 7 + 21);
    expect(report.wastedBytes).toBe(300_000 + 200_000 + 5);
    expect(report.efficiency).toBeGreaterThan(0.8);
    expect(report.efficiency).toBeLessThan(0.9);
  });

  it('gives the same figures from a gzipped `docker save` archive of the image', async () => {
    const fromEngine = await inspectJson([tag('layers')]);
    const archive = path.join(workDir, 'layers.tar.gz');
    await pipeline((await nested.docker.getImage(tag('layers')).get()) as NodeJS.ReadableStream, createGzip(), createWriteStream(archive));
    const fromArchive = await inspectJson(['--archive', archive]);
    expect(fromArchive.source).toBe('archive');
    for (const key of ['sizeBytes', 'efficiency', 'wastedBytes', 'userSizeBytes', 'inefficientFiles'] as const) expect(fromArchive[key]).toEqual(fromEngine[key]);
    const strip = (layer: InspectLayer) => ({ sizeBytes: layer.sizeBytes, added: layer.added, changed: layer.changed, removed: layer.removed, instruction: layer.instruction });
    expect(fromArchive.layers.map(strip)).toEqual(fromEngine.layers.map(strip));
    // Without an engine to compare with, the base is the first layer, as dive takes it.
    expect(fromArchive.ledger.base).toEqual({ how: 'first-layer', layerCount: 1 });
  });

  it('prints hostile file names escaped, so they can neither clear the terminal nor forge a line', async () => {
    const result = await runCourse(['inspect', tag('hostile-names')], sandboxEnv);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('/tmp/evil\\e[2Jname\\n  #9 forged layer');
    expect(result.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(result.stdout.split('\n').some((line) => line.startsWith('  #9 forged'))).toBe(false);
  });

  it('explains a missing image, a bad format and conflicting options with exit 2 and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['inspect', `no-such-image:${runId}`], /There is no image "no-such-image:[^"]+" on the engine/],
      [['inspect', tag('layers'), '--format', 'xml'], /--format xml is not an inspect format/],
      [['inspect', tag('layers'), '--archive', '/tmp/x.tar'], /not both/],
      [['inspect'], /Which image should be inspected/],
      [['inspect', '--archive', path.join(workDir, 'missing.tar')], /there is no such file/],
      [['inspect', '--archive', path.join(projectRoot, 'package.json')], /is not an image archive/],
    ];
    for (const [args, message] of cases) {
      const result = await runCourse(args, sandboxEnv);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(hasStackTrace(result.stderr)).toBe(false);
    }
  });
});

describe('course inspect --container: the overlay2 explorer on a real container', () => {
  async function execInContainer(name: string, script: string): Promise<void> {
    const exec = await nested.docker.getContainer(name).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    expect((await exec.inspect()).ExitCode).toBe(0);
  }
  async function overlayOf(name: string): Promise<OverlayReport> {
    const result = await runCourse(['inspect', '--container', name, '--format', 'json'], sandboxEnv);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as OverlayReport;
  }

  it('matches each lower folder to its image layer and shows copy-ups, whiteouts and opaque folders as the container makes them', async () => {
    const name = `ll-inspect-overlay-${runId}`;
    const container = await nested.docker.createContainer({ name, Image: tag('layers'), Cmd: ['sleep', '3600'], Labels: labels });
    await container.start();

    const before = await overlayOf(name);
    expect(before.container).toMatchObject({ name, isRunning: true });
    expect(before.mount?.options).toContain(`upperdir=${before.upperDir}`);
    // Top to bottom: Docker's init layer, then the image's layers from the top one down.
    const image = await nested.docker.getImage(tag('layers')).inspect();
    const diffIds = image.RootFS.Layers!;
    expect(before.lowers[0]!.role).toBe('init');
    expect(before.lowers.slice(1).map((lower) => lower.diffId)).toEqual([...diffIds].reverse());
    expect(before.lowers.slice(1).map((lower) => lower.layerIndex)).toEqual(diffIds.map((_, index) => diffIds.length - 1 - index));
    // The engine's own word for the top layer's folder agrees (GraphDriver of the image).
    const imageDriver = image.GraphDriver.Data as unknown as { UpperDir: string };
    expect(before.lowers[1]!.dir).toBe(imageDriver.UpperDir);
    expect(before.lowers[1]!.instruction).toBe('COPY note.txt /app/note.txt');
    expect(before.upper.filter((entry) => entry.path.startsWith('/app'))).toEqual([]);

    await execInContainer(name, 'echo more >> /app/note.txt && rm /app/big.bin && rm -rf /app/data && mkdir /app/data && echo new > /app/data/c.txt && echo hi > /app/fresh.txt');
    const after = await overlayOf(name);
    const at = (path: string) => after.upper.find((entry) => entry.path === path);
    const lowerOf = (layerIndex: number) => after.lowers.findIndex((lower) => lower.layerIndex === layerIndex);
    const top = diffIds.length - 1;
    expect(at('/app/note.txt')).toMatchObject({ kind: 'copied-up', type: 'file', sizeBytes: 26, hides: { lower: lowerOf(top), type: 'file', sizeBytes: 21 } });
    // big.bin's 200 kB version sits in the layer of the second RUN (base + 1).
    const firstOwn = top - 5;
    expect(at('/app/big.bin')).toMatchObject({ kind: 'whiteout', type: 'char-device', device: { major: 0, minor: 0 }, hides: { lower: lowerOf(firstOwn + 1), sizeBytes: 200_000 } });
    expect(at('/app/data')).toMatchObject({ kind: 'opaque-folder', type: 'directory' });
    expect(at('/app/data/c.txt')).toMatchObject({ kind: 'created', sizeBytes: 4 });
    expect(at('/app/data/c.txt')!.hides).toBeUndefined();
    expect(at('/app/fresh.txt')).toMatchObject({ kind: 'created' });

    const text = await runCourse(['inspect', '--container', name], sandboxEnv);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/whiteout\s+\/app\/big\.bin\s+\(char-device 0\/0/);
    expect(text.stdout).toMatch(/copied up\s+\/app\/note\.txt/);

    // Stopped: nothing is mounted, but the upper folder keeps the changes.
    await container.stop({ t: 0 });
    const stopped = await overlayOf(name);
    expect(stopped.mount).toBeUndefined();
    expect(stopped.container.isRunning).toBe(false);
    expect(stopped.upper.map((entry) => [entry.path, entry.kind])).toEqual(after.upper.map((entry) => [entry.path, entry.kind]));
    expect(stopped.lowers.map((lower) => lower.diffId)).toEqual(after.lowers.map((lower) => lower.diffId));
  });

  it('explains an unknown container, and --container with an image, with exit 2', async () => {
    const missing = await runCourse(['inspect', '--container', `nope-${runId}`], sandboxEnv);
    expect(missing.stderr).toMatch(/There is no container "nope-[^"]+" in the sandbox/);
    expect(missing.exitCode).toBe(2);
    const both = await runCourse(['inspect', tag('layers'), '--container', 'x'], sandboxEnv);
    expect(both.exitCode).toBe(2);
    expect(hasStackTrace(both.stderr + missing.stderr)).toBe(false);
  });
});

describe('course inspect --explain-build: why each step hit or missed the cache, on real rebuilds', () => {
  const folder = `/root/ll-inspect-cache-${runId}`;
  const tagName = `ll-inspect-cache:${runId}`;
  const baseTag = `ll-inspect-base:${runId}`;
  const dockerfile = [`FROM ${baseTag}`, 'ARG VERSION=1', 'WORKDIR /app', 'COPY deps.txt ./', 'RUN cat deps.txt > installed.txt', 'COPY app.sh ./', 'RUN echo "$VERSION" > version.txt'].join('\n');
  const sh = (script: string) => execIn(host, instance, ['sh', '-c', script]);
  const explain = async (...extra: string[]): Promise<CacheReport> => {
    const result = await runCourse(['inspect', '--explain-build', folder, '--tag', tagName, '--format', 'json', ...extra], sandboxEnv);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as CacheReport;
  };
  const firstRan = (report: CacheReport) => report.steps.find((step) => step.cause);

  afterAll(async () => {
    await sh(`rm -rf ${folder}; docker rmi -f ${tagName} ${baseTag} >/dev/null 2>&1; true`);
  });

  it('blames a changed context file, then a changed ARG, then a new base image, each time on the right step', async () => {
    // The base is a tag this test owns, so it can point it at another image later.
    await sh(`docker tag busybox:latest ${baseTag} && mkdir -p ${folder} && cd ${folder} && printf '%s\\n' '${dockerfile.replace(/'/g, `'\\''`)}' > Dockerfile && echo dep1 > deps.txt && echo 'echo hi' > app.sh`);
    const first = await explain();
    expect(first.hasEarlierBuild).toBe(false);
    expect(firstRan(first)?.cause?.kind).toBe('no-earlier-build');

    const again = await explain();
    expect(again.hasEarlierBuild).toBe(true);
    expect(again.steps.filter((step) => step.cause)).toEqual([]);
    expect(again.steps.filter((step) => step.isCached).map((step) => step.line)).toEqual([3, 4, 5, 6, 7]);

    // touch changes only the modification time: still cached, as lesson 5 shows.
    await sh(`cd ${folder} && touch deps.txt && echo dep2 > deps.txt.new && mv deps.txt.new deps.txt`);
    const fileChanged = await explain();
    expect(fileChanged.steps.filter((step) => !step.isCached && step.line !== 1).map((step) => step.line)).toEqual([4, 5, 6, 7]);
    expect(firstRan(fileChanged)).toMatchObject({ line: 4, cause: { kind: 'context-file-changed', changed: ['deps.txt'], added: [], removed: [] } });
    expect(fileChanged.steps.find((step) => step.line === 6)!.cause).toMatchObject({ kind: 'earlier-step-rebuilt', lessonLink: '/lessons/lesson-5/#one-miss-and-everything-after-it-runs-again' });

    const argChanged = await explain('--build-arg', 'VERSION=2');
    // COPY deps.txt does not see VERSION and stays cached; the RUN after it misses, and so does all that follows.
    expect(argChanged.steps.filter((step) => !step.isCached && step.line !== 1).map((step) => step.line)).toEqual([5, 6, 7]);
    expect(firstRan(argChanged)).toMatchObject({ line: 5, cause: { kind: 'arg-changed', variable: 'VERSION', before: '1', after: '2' } });

    await sh(`cd /tmp && printf 'FROM ${baseTag}\\nRUN echo new > /new-in-base\\n' | docker build -q -t ${baseTag} - >/dev/null`);
    const baseChanged = await explain('--build-arg', 'VERSION=2');
    expect(firstRan(baseChanged)).toMatchObject({ line: 3, cause: { kind: 'base-changed', baseRef: baseTag } });
  });

  it('explains a folder without a Dockerfile and a missing --tag with exit 2', async () => {
    await sh(`mkdir -p ${folder}-empty`);
    const noDockerfile = await runCourse(['inspect', '--explain-build', `${folder}-empty`, '--tag', 'x'], sandboxEnv);
    expect(noDockerfile.stderr).toMatch(/There is no Dockerfile in/);
    expect(noDockerfile.exitCode).toBe(2);
    const noTag = await runCourse(['inspect', '--explain-build', folder], sandboxEnv);
    expect(noTag.stderr).toMatch(/needs --tag NAME/);
    expect(noTag.exitCode).toBe(2);
    await sh(`rm -rf ${folder}-empty`);
  });
});
