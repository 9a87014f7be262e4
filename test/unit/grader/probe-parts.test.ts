import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../runner/src/engine.js';
import { engineMessage } from '../../../runner/src/grader/facts/probe-container.js';
import { publishedPortHostOf } from '../../../runner/src/grader/facts/published-port-host.js';
import { buildOnce, commentLine, packContext, probeRebuild, type ContextFile } from '../../../runner/src/grader/facts/rebuild-probe.js';
import { runProbeKey } from '../../../runner/src/grader/facts/run-probe.js';

// The parts of the probes that decide without an engine: what they send it, how they read its
// errors, and the answers they give before any engine call (a missing folder or source file).
// The engine calls themselves are covered by the integration tests against a real engine.

/** These paths return before the first engine call; an engine that is touched fails the test. */
const untouchedEngine = new Proxy({}, { get: (_, property) => { throw new Error(`the engine was used (${String(property)})`); } }) as Engine;

async function entriesOf(archive: Buffer): Promise<Array<{ name: string; type: string; mode: number; size: number; linkname: string | null; content: string }>> {
  const extract = tar.extract();
  const entries: Array<{ name: string; type: string; mode: number; size: number; linkname: string | null; content: string }> = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.push({ name: header.name, type: header.type ?? 'file', mode: header.mode ?? 0, size: header.size ?? 0, linkname: header.linkname ?? null, content: Buffer.concat(chunks).toString() });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(archive);
  await done;
  return entries;
}

describe('the rebuild probe without an engine', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'layerlab-probe-parts-'));
    await mkdir(path.join(folder, 'src'));
    await writeFile(path.join(folder, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await writeFile(path.join(folder, 'src', 'main.go'), 'package main\n');
    await symlink('src/main.go', path.join(folder, 'link.go'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const request = { sourceFile: 'main.go', withinMs: 60_000 };
  const options = (where: string) => ({ folder: { where: 'here' as const, path: where }, helperImage: 'unused' });

  it('says a folder is missing, or is a file, without asking the engine', async () => {
    const missing = path.join(folder, 'nope');
    expect(await probeRebuild(untouchedEngine, request, options(missing))).toEqual({ ...request, folder: missing, outcome: 'no-folder', reason: `${missing}: no such folder` });
    const file = path.join(folder, 'Dockerfile');
    expect(await probeRebuild(untouchedEngine, request, options(file))).toEqual({ ...request, folder: file, outcome: 'no-folder', reason: `${file} is not a folder` });
  });

  it('says the source file is missing, and does not take a folder or a link of that name for it', async () => {
    expect(await probeRebuild(untouchedEngine, request, options(folder))).toEqual({ ...request, folder, outcome: 'no-source-file' });
    expect(await probeRebuild(untouchedEngine, { ...request, sourceFile: 'src' }, options(folder))).toEqual({ ...request, sourceFile: 'src', folder, outcome: 'no-source-file' });
    expect(await probeRebuild(untouchedEngine, { ...request, sourceFile: 'link.go' }, options(folder))).toEqual({ ...request, sourceFile: 'link.go', folder, outcome: 'no-source-file' });
  });

  it('stops before an aborted rebuild starts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(probeRebuild(untouchedEngine, request, { ...options(folder), signal: controller.signal })).rejects.toThrow('stopped');
  });

  it('gives a build no time left as timed out, without dialling the engine', async () => {
    expect(await buildOnce(untouchedEngine, Buffer.alloc(0), 'x:y', 0, options(folder))).toEqual({ kind: 'timed-out' });
    expect(await buildOnce(untouchedEngine, Buffer.alloc(0), 'x:y', -5, options(folder))).toEqual({ kind: 'timed-out' });
  });

  it('packs a context as the engine expects it: files with their bytes and sizes, folders and links empty', async () => {
    const files: ContextFile[] = [
      { header: { name: './', type: 'directory', mode: 0o755 }, content: Buffer.alloc(0) },
      { header: { name: 'main.go', type: 'file', mode: 0o644, size: 1 }, content: Buffer.from('package main\n') },
      { header: { name: 'link.go', type: 'symlink', linkname: 'main.go', mode: 0o777 }, content: Buffer.from('ignored') },
    ];
    expect(await entriesOf(await packContext(files))).toEqual([
      { name: './', type: 'directory', mode: 0o755, size: 0, linkname: null, content: '' },
      { name: 'main.go', type: 'file', mode: 0o644, size: 13, linkname: null, content: 'package main\n' },
      { name: 'link.go', type: 'symlink', mode: 0o777, size: 0, linkname: 'main.go', content: '' },
    ]);
  });
});

describe('a comment line in the language of the changed file', () => {
  it('chooses the comment by extension, in any case, and # for anything else', () => {
    for (const name of ['main.go', 'a.js', 'a.mjs', 'a.cjs', 'a.ts', 'a.tsx', 'a.jsx', 'A.java', 'a.kt', 'a.c', 'a.h', 'a.cc', 'a.cpp', 'a.rs', 'a.cs', 'a.swift', 'a.scala', 'a.php', 'MAIN.GO']) {
      expect(commentLine(name, 'x'), name).toBe('// x');
    }
    for (const name of ['a.css', 'a.scss']) expect(commentLine(name, 'x'), name).toBe('/* x */');
    for (const name of ['a.html', 'a.htm', 'a.xml', 'a.svg', 'README.md']) expect(commentLine(name, 'x'), name).toBe('<!-- x -->');
    for (const name of ['a.sql', 'a.lua', 'a.hs']) expect(commentLine(name, 'x'), name).toBe('-- x');
    for (const name of ['run.sh', 'requirements.txt', 'Makefile', 'go.mod', 'a.go.bak', 'a.', 'src.go/x']) expect(commentLine(name, 'x'), name).toBe('# x');
  });
});

describe("the engine's words in an error", () => {
  it('takes the JSON message, else the error message, without the HTTP code prefix', () => {
    expect(engineMessage({ json: { message: ' No such image: x \n' } })).toBe('No such image: x');
    expect(engineMessage(new Error('(HTTP code 404) no such container - No such container: abc '))).toBe('No such container: abc');
    expect(engineMessage(new Error('(HTTP code 500) server error - a - b'))).toBe('a - b');
    expect(engineMessage(Object.assign(new Error('plain'), { json: { message: 42 } }))).toBe('plain');
    expect(engineMessage(new Error('HTTP code 404 - kept'))).toBe('HTTP code 404 - kept');
  });
});

describe('probe keys and published-port hosts', () => {
  it('shares a run between checks with the same arguments only', () => {
    expect(runProbeKey({})).toBe('null');
    expect(runProbeKey({ args: [] })).toBe('[]');
    expect(runProbeKey({ args: ['a b'] })).not.toBe(runProbeKey({ args: ['a', 'b'] }));
  });

  it('dials a tcp engine by its host and anything else on the loopback address', () => {
    expect(publishedPortHostOf('tcp://10.0.0.5:2376')).toBe('10.0.0.5');
    expect(publishedPortHostOf('tcp://[fd00::5]:2375')).toBe('fd00::5');
    expect(publishedPortHostOf('npipe:////./pipe/docker_engine')).toBe('127.0.0.1');
    expect(publishedPortHostOf('http://example:2375')).toBe('127.0.0.1');
  });
});
