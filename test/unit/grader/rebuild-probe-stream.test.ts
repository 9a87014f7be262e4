import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../../runner/src/engine.js';
import { removalWarning } from '../../../runner/src/grader/facts/probe-container.js';
import { BuildTrace } from '../../../runner/src/grader/facts/build-trace.js';
import { buildOnce, buildQuery, missingFolderReason, probeRebuild, readBuildStream, readExerciseFolder, rebuildResult, refusedBuild, unpackContext, withSourceChanged, type ContextFile } from '../../../runner/src/grader/facts/rebuild-probe.js';

// The rebuild probe's reading of what the engine sends, on answers recorded once from a real
// engine (test/fixtures/probes/README.md): BuildKit's build stream, the folder's archive, the
// engine's refusal of a missing folder.

const fixture = (name: string) => new URL(`../../fixtures/probes/${name}`, import.meta.url);
const bytesOf = (name: string) => readFileSync(fixture(name));

/** The recorded bytes in chunks of `size`, cut anywhere (inside a line, inside a character). */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function read(name: string, chunkSize: number) {
  const trace = new BuildTrace();
  const error = await readBuildStream(chunked(bytesOf(name), chunkSize), trace);
  return { error, steps: trace.steps() };
}

describe('reading the build stream', () => {
  it('reads a build that ran: each step of the Dockerfile, cached or run, and no error', async () => {
    const whole = await read('build-ran.jsonl', 1 << 20);
    expect(whole.error).toBeUndefined();
    expect(whole.steps.map((step) => step.name)).toEqual(['[1/3] FROM docker.io/layerlab/busybox:latest', '[2/3] COPY . /app/', expect.stringMatching(/^\[3\/3\] RUN echo built-\d+ > \/app\/stamp$/)]);
    // The base was there already: only FROM is cached.
    expect(whole.steps.map((step) => step.isCached)).toEqual([true, false, false]);
    // Cut in 7-byte chunks, the lines are joined again: the same steps.
    expect(await read('build-ran.jsonl', 7)).toEqual(whole);
  });

  it('reads a cached build as cached, whether or not the last line ends with a newline', async () => {
    const bytes = bytesOf('../buildkit/cached-build.jsonl');
    const traceOf = async (input: Buffer) => {
      const trace = new BuildTrace();
      expect(await readBuildStream(chunked(input, 13), trace)).toBeUndefined();
      return trace.steps();
    };
    const steps = await traceOf(bytes);
    // Engine 26.1.5 (the sandbox's), a six-step Dockerfile built the second time.
    expect(steps).toHaveLength(6);
    expect(steps.filter((step) => !step.name.includes('FROM')).every((step) => step.isCached)).toBe(true);
    // A stream that ends in the middle of the build, on the line that first names a step,
    // its newline left off: that line is read all the same.
    const lines = bytes.toString().split('\n');
    let firstStepLine = -1;
    for (let count = 1; count <= lines.length && firstStepLine < 0; count += 1) {
      if ((await traceOf(Buffer.from(`${lines.slice(0, count).join('\n')}\n`))).length > 0) firstStepLine = count - 1;
    }
    expect(firstStepLine).toBeGreaterThan(0);
    const endingOnIt = await traceOf(Buffer.from(lines.slice(0, firstStepLine + 1).join('\n')));
    expect(endingOnIt).not.toEqual([]);
    expect(endingOnIt).toEqual(await traceOf(Buffer.from(`${lines.slice(0, firstStepLine + 1).join('\n')}\n`)));
  });

  it("gives a failed RUN's error as the engine words it, with the steps up to it", async () => {
    const failed = await read('build-run-fails.jsonl', 5);
    expect(failed.error).toBe('executor failed running [/bin/sh -c echo about to fail && exit 7]: exit code: 7');
    expect(failed.steps.map((step) => step.name)).toEqual(['[1/2] FROM docker.io/layerlab/busybox:latest', '[2/2] RUN echo about to fail && exit 7']);
  });

  it('gives a Dockerfile that does not parse as its error, with no steps', async () => {
    const failed = await read('build-bad-instruction.jsonl', 64);
    expect(failed.error).toBe('failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown instruction: RUNN');
    expect(failed.steps).toEqual([]);
  });

  it('keeps the first error, takes errorDetail before error, and skips blank and broken lines', async () => {
    const lines = [
      '',
      '   ',
      'not json at all',
      '{"stream":"Step 1/2"}',
      '{"error":"the plain one","errorDetail":{"message":"  the detailed one \\n"}}',
      '{"error":"a later one"}',
    ].join('\n');
    expect(await readBuildStream(chunked(Buffer.from(lines), 3), new BuildTrace())).toBe('the detailed one');
    expect(await readBuildStream(chunked(Buffer.from('{"error":" only plain "}'), 4), new BuildTrace())).toBe('only plain');
    expect(await readBuildStream(chunked(Buffer.from('{"errorDetail":{"message":42},"error":"plain after a bad detail"}\n'), 100), new BuildTrace())).toBe('plain after a bad detail');
    expect(await readBuildStream(chunked(Buffer.from('{"error":{"not":"text"}}\n{"id":"moby.buildkit.trace","aux":42}\n'), 100), new BuildTrace())).toBeUndefined();
  });

  it('reads an error whose characters are cut between chunks whole', async () => {
    const line = Buffer.from('{"error":"Überprüfung fehlgeschlagen: ✗"}\n');
    expect(await readBuildStream(chunked(line, 1), new BuildTrace())).toBe('Überprüfung fehlgeschlagen: ✗');
    expect(await readBuildStream(['{"error":', '"as text"}'], new BuildTrace())).toBe('as text');
  });

  it('feeds only BuildKit trace lines to the trace', async () => {
    // An aux that names a Dockerfile step when fed to a trace.
    const aux = bytesOf('build-run-fails.jsonl')
      .toString()
      .split('\n')
      .map((line) => (line ? (JSON.parse(line) as { aux?: string }).aux : undefined))
      .find((value) => {
        if (typeof value !== 'string') return false;
        const trace = new BuildTrace();
        trace.add(value);
        return trace.steps().length > 0;
      });
    expect(aux).toBeDefined();
    const asOther = `{"id":"something.else","aux":${JSON.stringify(aux)}}\n`;
    const other = new BuildTrace();
    await readBuildStream(chunked(Buffer.from(asOther.repeat(3) + bytesOf('build-bad-instruction.jsonl').toString()), 50), other);
    expect(other.steps()).toEqual([]);
  });
});

describe("reading the exercise folder's archive", () => {
  it('names each entry relative to the folder, the folder itself ./, with its bytes, modes and links', async () => {
    const files = await unpackContext(createReadStream(fixture('exercise-folder-archive.tar')));
    expect(files.map((file) => ({ name: file.header.name, type: file.header.type, mode: file.header.mode! & 0o7777, linkname: file.header.linkname ?? null, content: file.content.toString() }))).toEqual([
      { name: './', type: 'directory', mode: 0o755, linkname: null, content: '' },
      { name: '.hidden', type: 'file', mode: 0o600, linkname: null, content: 'x' },
      { name: 'Dockerfile', type: 'file', mode: 0o644, linkname: null, content: 'FROM scratch\nCOPY . /\n' },
      { name: 'link.go', type: 'symlink', mode: 0o777, linkname: 'src/main.go', content: '' },
      { name: 'src/', type: 'directory', mode: 0o755, linkname: null, content: '' },
      { name: 'src/main.go', type: 'file', mode: 0o644, linkname: null, content: 'package main\n\nfunc main() {}\n' },
    ]);
  });

  it('fails on an archive the engine cut short, and on one that breaks', async () => {
    const whole = bytesOf('exercise-folder-archive.tar');
    await expect(unpackContext(chunkedStream(whole.subarray(0, 1200)))).rejects.toThrow();
    const { PassThrough } = await import('node:stream');
    const breaking = new PassThrough();
    const reading = unpackContext(breaking);
    breaking.write(whole.subarray(0, 1024));
    breaking.destroy(new Error('the engine went away'));
    await expect(reading).rejects.toThrow('the engine went away');
  });
});

function chunkedStream(bytes: Buffer): NodeJS.ReadableStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Readable } = require('node:stream') as typeof import('node:stream');
  return Readable.from([bytes]);
}

describe('the parts of a rebuild decided before the engine', () => {
  const errors = JSON.parse(bytesOf('engine-errors.json').toString()) as Record<string, { statusCode: number; json: { message: string } }>;

  it("says a missing folder in the engine's words, and leaves any other failure to the caller", () => {
    expect(missingFolderReason(errors.missingBindSource)).toBe('invalid mount config for type "bind": bind source path does not exist: /root/exercises/nope');
    expect(missingFolderReason(new Error('(HTTP code 400) unexpected - open /x: no such file or directory'))).toBe('open /x: no such file or directory');
    expect(missingFolderReason(new Error('mount /x: Not a directory'))).toBe('mount /x: Not a directory');
    expect(missingFolderReason(errors.relativeBindSource)).toBeUndefined();
    expect(missingFolderReason(new Error('connect ECONNREFUSED /var/run/docker.sock'))).toBeUndefined();
  });

  it('changes only the source file, by one comment line in its language, and sizes it anew', () => {
    const files: ContextFile[] = [
      { header: { name: './', type: 'directory' }, content: Buffer.alloc(0) },
      { header: { name: 'main.go', type: 'file', size: 13, mode: 0o640 }, content: Buffer.from('package main\n') },
      { header: { name: 'run.sh', type: 'file', size: 3 }, content: Buffer.from('ls\n') },
    ];
    const changed = withSourceChanged(files, files[1]!, 'c0ffee');
    expect(changed).toHaveLength(3);
    expect(changed[0]).toBe(files[0]);
    expect(changed[2]).toBe(files[2]);
    const expected = 'package main\n\n// layerlab: a source-only change (c0ffee)\n';
    expect(changed[1]).toEqual({ header: { name: 'main.go', type: 'file', size: Buffer.byteLength(expected), mode: 0o640 }, content: Buffer.from(expected) });
    expect(files[1]!.content.toString()).toBe('package main\n');
    expect(withSourceChanged(files, files[2]!, 'n')[2]!.content.toString()).toBe('ls\n\n# layerlab: a source-only change (n)\n');
  });

  it("labels the probe's own builds as probes, or as the caller asks, and passes build arguments", () => {
    expect(buildQuery('layerlab-probe-rebuild:x', {})).toEqual({ version: '2', t: 'layerlab-probe-rebuild:x', labels: { 'layerlab.role': 'grader-probe' } });
    expect(buildQuery('t:1', { labels: { 'layerlab.test': 'run-1' }, buildArgs: { GO_VERSION: '1.24' } })).toEqual({
      version: '2',
      t: 't:1',
      labels: { 'layerlab.role': 'grader-probe', 'layerlab.test': 'run-1' },
      buildargs: { GO_VERSION: '1.24' },
    });
    expect(buildQuery('lesson-5:latest', { labels: { 'layerlab.test': 'run-1' }, imageLabels: { 'layerlab.lesson': '5' } })).toEqual({ version: '2', t: 'lesson-5:latest', labels: { 'layerlab.lesson': '5' } });
  });
});

describe('the exercise folder on this machine (a CI checkout)', () => {
  /** Reading a folder here never asks the engine; one that is touched fails the test. */
  const untouchedEngine = new Proxy({}, { get: (_, property) => { throw new Error(`the engine was used (${String(property)})`); } }) as Engine;
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
  });
  async function newFolder(): Promise<string> {
    const folder = await mkdtemp(path.join(tmpdir(), 'layerlab-local-folder-'));
    folders.push(folder);
    return folder;
  }
  const readHere = (folder: string) => readExerciseFolder(untouchedEngine, { folder: { where: 'here', path: folder }, helperImage: 'unused' });
  const described = (files: ContextFile[]) =>
    files.map((file) => ({ name: file.header.name, type: file.header.type, mode: file.header.mode! & 0o7777, linkname: file.header.linkname ?? null, content: file.content.toString() }));

  it('is read as the engine sends the same folder: the same entries, in the same order, modes and links', async () => {
    // The folder the recorded archive was made from.
    const folder = await newFolder();
    await mkdir(path.join(folder, 'src'));
    await writeFile(path.join(folder, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await writeFile(path.join(folder, 'src', 'main.go'), 'package main\n\nfunc main() {}\n');
    await symlink('src/main.go', path.join(folder, 'link.go'));
    await writeFile(path.join(folder, '.hidden'), 'x');
    await chmod(path.join(folder, '.hidden'), 0o600);
    await chmod(folder, 0o755);
    const here = await readHere(folder);
    const fromEngine = await unpackContext(createReadStream(fixture('exercise-folder-archive.tar')));
    expect('files' in here && described(here.files)).toEqual(described(fromEngine));
  });

  it('says what is wrong with a folder that is missing, a file, or too big to be a lesson project', async () => {
    const folder = await newFolder();
    const missing = path.join(folder, 'lesson-5');
    expect(await readHere(missing)).toEqual({ reason: `${missing}: no such folder` });
    await writeFile(path.join(folder, 'file'), 'x');
    expect(await readHere(path.join(folder, 'file'))).toEqual({ reason: `${path.join(folder, 'file')} is not a folder` });
    // Sparse files: their size counts (50 MB with 'file'), nothing is read until the sum is known under it.
    await writeFile(path.join(folder, 'a.bin'), '');
    await truncate(path.join(folder, 'a.bin'), 30_000_000);
    await writeFile(path.join(folder, 'b.bin'), '');
    await truncate(path.join(folder, 'b.bin'), 19_999_999);
    const atTheLimit = await readHere(folder);
    expect('files' in atTheLimit && atTheLimit.files.map((file) => file.header.name)).toEqual(['./', 'a.bin', 'b.bin', 'file']);
    await truncate(path.join(folder, 'b.bin'), 20_000_000);
    expect(await readHere(folder)).toEqual({ reason: `${folder} holds more than 50 MB` });
  });
});

describe("the rebuild probe's answer", () => {
  const errors = JSON.parse(bytesOf('engine-errors.json').toString()) as Record<string, { statusCode: number; json: { message: string } }>;
  const base = { sourceFile: 'main.go', withinMs: 60_000, folder: '/root/exercises/lesson-5' };

  it('is both builds\' steps when both built, or the first build that did not, with the engine\'s words', async () => {
    const ran = await read('build-ran.jsonl', 4096);
    const failed = await read('build-run-fails.jsonl', 4096);
    const cachedTrace = new BuildTrace();
    await readBuildStream([bytesOf('../buildkit/cached-build.jsonl')], cachedTrace);
    const cached = cachedTrace.steps();
    expect(rebuildResult(base, [['as-is', { kind: 'built', steps: ran.steps }], ['after-change', { kind: 'built', steps: cached }]])).toEqual({
      ...base,
      outcome: 'rebuilt',
      asIs: ran.steps,
      afterChange: cached,
    });
    expect(rebuildResult(base, [['as-is', { kind: 'built', steps: ran.steps }], ['after-change', { kind: 'failed', error: failed.error! }]])).toEqual({
      ...base,
      outcome: 'build-failed',
      build: 'after-change',
      error: 'executor failed running [/bin/sh -c echo about to fail && exit 7]: exit code: 7',
    });
    expect(rebuildResult(base, [['as-is', { kind: 'failed', error: 'bad' }]])).toEqual({ ...base, outcome: 'build-failed', build: 'as-is', error: 'bad' });
    expect(rebuildResult(base, [['as-is', { kind: 'timed-out' }]])).toEqual({ ...base, outcome: 'timed-out', build: 'as-is' });
    expect(rebuildResult(base, [['as-is', { kind: 'built', steps: ran.steps }], ['after-change', { kind: 'timed-out' }]])).toEqual({ ...base, outcome: 'timed-out', build: 'after-change' });
  });

  it("takes the engine's refusal of a build as the learner's failure, and anything else as the engine's", () => {
    expect(refusedBuild(errors.buildBadTag)).toEqual({ kind: 'failed', error: 'invalid reference format: repository name must be lowercase' });
    expect(refusedBuild({ statusCode: 400, json: { message: 'bad parameter' } })).toEqual({ kind: 'failed', error: 'bad parameter' });
    expect(refusedBuild(errors.removeNoSuchImage)).toBeUndefined();
    expect(refusedBuild(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }))).toBeUndefined();
  });

  it('warns of a probe image or container it could not remove, but not of one already gone', () => {
    expect(removalWarning(errors.removeNoSuchImage, 'the probe image layerlab-probe-rebuild:x')).toBeUndefined();
    expect(removalWarning(errors.removeImageInUse, 'the probe image layerlab-probe-rebuild:x')).toBe(
      'Could not remove the probe image layerlab-probe-rebuild:x: conflict: unable to delete e1b2ff9dfaad (must be forced) - image is being used by stopped container 5f09025373f2',
    );
    expect(removalWarning(new Error('remove timed out'), 'the probe container')).toBe('Could not remove the probe container: remove timed out');
  });
});

describe('the rebuild probe up to its first build', () => {
  const untouchedEngine = new Proxy({}, { get: (_, property) => { throw new Error(`the engine was used (${String(property)})`); } }) as Engine;
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
  });
  async function project(): Promise<string> {
    const folder = await mkdtemp(path.join(tmpdir(), 'layerlab-rebuild-first-'));
    folders.push(folder);
    await writeFile(path.join(folder, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await writeFile(path.join(folder, 'main.go'), 'package main\n');
    return folder;
  }

  it('finds the source file and gives up on a build with no time left, then removes its tag (warning when it cannot)', async () => {
    const folder = await project();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const result = await probeRebuild(untouchedEngine, { sourceFile: './main.go', withinMs: 0 }, { folder: { where: 'here', path: folder }, helperImage: 'unused' });
      expect(result).toEqual({ sourceFile: './main.go', withinMs: 0, folder, outcome: 'timed-out', build: 'as-is' });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([expect.stringMatching(/^Could not remove the probe image layerlab-probe-rebuild:[0-9a-f]{8}-as-is: the engine was used \(docker\)$/)]);
  });

  it('dials the engine for a build with time left, and reads a folder on the engine host through the engine', async () => {
    await expect(buildOnce(untouchedEngine, Buffer.alloc(0), 'x:y', 1000, { folder: { where: 'here', path: '/' }, helperImage: 'unused' })).rejects.toThrow('the engine was used');
    await expect(readExerciseFolder(untouchedEngine, { folder: { where: 'engine-host', path: await project() }, helperImage: 'unused' })).rejects.toThrow('the engine was used');
  });

  it('says why a folder here cannot be read, leaves out what is neither file, folder nor link', async () => {
    const folder = await project();
    const through = path.join(folder, 'main.go', 'x');
    const unreadable = await readExerciseFolder(untouchedEngine, { folder: { where: 'here', path: through }, helperImage: 'unused' });
    expect(unreadable).toEqual({ reason: expect.stringMatching(new RegExp(`^${through.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOTDIR: not a directory`)) });
    // A named pipe: reading it would wait for ever.
    execFileSync('mkfifo', [path.join(folder, 'pipe')]);
    const read = await readExerciseFolder(untouchedEngine, { folder: { where: 'here', path: folder }, helperImage: 'unused' });
    expect('files' in read && read.files.map((file) => file.header.name)).toEqual(['./', 'Dockerfile', 'main.go']);
  });
});

describe('an archive of the folder from the engine', () => {
  async function archiveOf(entries: Array<{ name: string; size: number }>): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (chunk) => chunks.push(chunk as Buffer));
    const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
    for (const entry of entries) pack.entry({ name: entry.name, size: entry.size }, Buffer.alloc(entry.size, 'a'));
    pack.finalize();
    await ended;
    return Buffer.concat(chunks);
  }

  it('keeps only what is under the mounted folder', async () => {
    const files = await unpackContext(Readable.from([await archiveOf([{ name: 'layerlab-context/', size: 0 }, { name: 'elsewhere/x', size: 1 }, { name: 'layerlab-context/a', size: 2 }])]));
    expect(files.map((file) => [file.header.name, file.content.length])).toEqual([['./', 0], ['a', 2]]);
  });

  it('refuses a folder over 50 MB, counting every file', async () => {
    const atLimit = await archiveOf([{ name: 'layerlab-context/a', size: 30_000_000 }, { name: 'layerlab-context/b', size: 20_000_000 }]);
    expect((await unpackContext(Readable.from([atLimit]))).map((file) => file.header.name)).toEqual(['a', 'b']);
    const over = await archiveOf([{ name: 'layerlab-context/a', size: 30_000_000 }, { name: 'layerlab-context/b', size: 20_000_001 }]);
    await expect(unpackContext(Readable.from([over]))).rejects.toThrow('the folder holds more than 50 MB');
  });
});
