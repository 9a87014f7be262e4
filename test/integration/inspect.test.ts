import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import type { InspectLayer, InspectReport } from '../../runner/src/inspect/report.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf } from '../support/build-image.js';
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
    expect(result.stdout).toContain('/tmp/evil\\x1b[2Jname\\n  #9 forged layer');
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
