import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type Docker from 'dockerode';
import { isNotFound, withTimeout, type Engine } from '../../engine.js';
import type { ContextChangeFacts, ContextChangeRequest, ContextHolder } from '../types.js';
import { windowsOf } from '../value-pieces.js';
import { engineCallTimeoutMs, engineMessage, probeLabels, removeQuietly } from './probe-container.js';
import { buildOnce, packContext, readExerciseFolder, rebuildTagRepository, tarEntries, type ContextFile, type RebuildProbeOptions } from './rebuild-probe.js';

/** The file read from the rebuilt image is a summary line or two; more than this is not what the check is about. */
const maxReadBytes = 1024 * 1024;
/** Symlinks followed from `path` in the rebuilt image, as a container's open() would. */
const maxLinkHops = 8;

/**
 * Does the image take a value from its build context? Only a build can tell exactly: every
 * file of the exercise's folder that holds the value is changed (the value's pieces
 * overwritten, or a byte appended to the data whose checksum it is), the folder is built again
 * with the engine's BuildKit and build cache, and `path` is read from the image that makes
 * (a container created, never started). If the image still holds the value, the build
 * computed it; if not, it came from those files, however it got in: COPY, ADD, a
 * `RUN --mount=type=bind`, a copy moved by a later RUN. The rebuilt image is tagged
 * `layerlab-probe-rebuild:<random>-context` and the tag removed afterwards; steps that use no
 * changed file come from the cache, so notes kept in the folder cost little.
 */
export async function probeContextChange(engine: Engine, request: ContextChangeRequest, options: RebuildProbeOptions): Promise<ContextChangeFacts> {
  const { signal } = options;
  signal?.throwIfAborted();
  const read = await readExerciseFolder(engine, options);
  if ('reason' in read) return { ...request, outcome: 'unreadable', reason: read.reason };
  const holders = holdersOf(read.files, request.value, request.pieceCharacters);
  if (!holders.length) return { ...request, outcome: 'no-holder' };
  const changed = read.files.map((file) => {
    const holder = holders.find((candidate) => candidate.path === file.header.name);
    if (!holder) return file;
    const content = changedHolder(file.content, holder, request.value, request.pieceCharacters);
    return { header: { ...file.header, size: content.length }, content };
  });
  const tag = `${rebuildTagRepository}:${randomBytes(6).toString('hex')}-context`;
  try {
    const outcome = await buildOnce(engine, await packContext(changed), tag, request.withinMs, options);
    if (outcome.kind === 'timed-out') return { ...request, outcome: 'timed-out', holders };
    if (outcome.kind === 'failed') return { ...request, outcome: 'build-failed', holders, error: outcome.error };
    const file = await readFileOfImage(engine, tag, request.path, options);
    return {
      ...request,
      outcome: 'rebuilt',
      holders,
      file: file.state === 'read' ? { state: 'read', holdsValue: file.content.includes(request.value) } : file,
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    await removeTagQuietly(engine, tag);
  }
}

/**
 * The folder's regular files that hold the value: a run of at least `pieceCharacters` of it
 * in their bytes, or their own SHA-256 equal to it (the data whose checksum it is).
 */
export function holdersOf(files: readonly ContextFile[], value: string, pieceCharacters: number): ContextHolder[] {
  const windows = windowsOf(value, pieceCharacters).map((window) => Buffer.from(window, 'utf8'));
  const holders: ContextHolder[] = [];
  for (const file of files) {
    if (file.header.type !== 'file') continue;
    if (windows.some((window) => file.content.includes(window))) holders.push({ path: file.header.name, holds: 'text' });
    else if (createHash('sha256').update(file.content).digest('hex') === value.toLowerCase()) holders.push({ path: file.header.name, holds: 'checksum' });
  }
  return holders;
}

/**
 * A holder changed so that it no longer holds the value: every piece overwritten with a
 * character the value does not use (so no new piece appears), or, for the data whose
 * checksum the value is, a newline appended (still data a script can read).
 */
export function changedHolder(content: Buffer, holder: ContextHolder, value: string, pieceCharacters: number): Buffer {
  if (holder.holds === 'checksum') return Buffer.concat([content, Buffer.from('\n')]);
  const filler = ['x', 'z', '#', '_', '~'].find((character) => !value.includes(character)) ?? '\u0000';
  const changed = Buffer.from(content);
  const valueBytes = Buffer.from(value, 'utf8');
  for (const window of windowsOf(value, pieceCharacters).map((piece) => Buffer.from(piece, 'utf8'))) {
    const from = valueBytes.indexOf(window);
    for (let at = changed.indexOf(window); at !== -1; at = changed.indexOf(window, at)) {
      // The whole run, as far as it goes on following the value.
      let length = window.length;
      while (at + length < changed.length && from + length < valueBytes.length && changed[at + length] === valueBytes[from + length]) length++;
      changed.fill(filler, at, at + length);
      at += length;
    }
  }
  return changed;
}

type ImageFile = { state: 'absent' } | { state: 'not-a-file'; type: string } | { state: 'read'; content: string };

/** `path` as a container of `image` would open it (symlinks followed), through a container that is never started. */
async function readFileOfImage(engine: Engine, image: string, filePath: string, options: RebuildProbeOptions): Promise<ImageFile> {
  let container: Docker.Container | undefined;
  try {
    container = await withTimeout(
      engine.docker.createContainer({
        name: `layerlab-probe-${randomBytes(4).toString('hex')}`,
        Image: image,
        Cmd: ['layerlab-never-started'],
        Labels: { ...probeLabels, ...options.labels },
        NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none' },
      }),
      engineCallTimeoutMs,
      `the engine did not create the container within ${engineCallTimeoutMs / 1000} s`,
    );
    let wanted = path.posix.normalize(filePath);
    for (let hop = 0; hop <= maxLinkHops; hop++) {
      options.signal?.throwIfAborted();
      let archive: NodeJS.ReadableStream;
      try {
        archive = (await withTimeout(container.getArchive({ path: wanted }), engineCallTimeoutMs, 'the engine did not send the file')) as NodeJS.ReadableStream;
      } catch (error) {
        if (isNotFound(error)) return { state: 'absent' };
        throw error;
      }
      const entry = await firstEntry(archive);
      if (!entry) return { state: 'absent' };
      if (entry.type === 'symlink' && entry.linkname) {
        wanted = path.posix.resolve(path.posix.dirname(wanted), entry.linkname);
        continue;
      }
      if (entry.type !== 'file') return { state: 'not-a-file', type: entry.type };
      return { state: 'read', content: entry.content.toString('utf8') };
    }
    return { state: 'not-a-file', type: `a chain of more than ${maxLinkHops} symlinks` };
  } finally {
    if (container) await removeQuietly(container);
  }
}

/** The first entry of a tar stream: its type, link target and (up to maxReadBytes of) content. */
async function firstEntry(archive: NodeJS.ReadableStream): Promise<{ type: string; linkname?: string; content: Buffer } | undefined> {
  for await (const { header, content } of tarEntries(archive, maxReadBytes)) {
    return { type: header.type ?? 'file', ...(header.linkname ? { linkname: header.linkname } : {}), content };
  }
  return undefined;
}

async function removeTagQuietly(engine: Engine, tag: string): Promise<void> {
  try {
    // Removes the tag only where the image has others (the learner's, when every step came from the cache).
    await withTimeout(engine.docker.getImage(tag).remove({ noprune: false }), engineCallTimeoutMs, 'remove timed out');
  } catch (error) {
    if (isNotFound(error)) return;
    process.emitWarning(`Could not remove the probe image ${tag}: ${engineMessage(error)}`);
  }
}
