import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { isNotFound, withTimeout, type Engine } from '../engine.js';
import { messageOf, usageError } from '../errors.js';
import { gatherImageFacts } from '../grader/facts/gather.js';
import { layerOrigins } from '../grader/facts/history.js';
import { ArchiveReadError, readImageArchive } from '../grader/facts/image-archive.js';
import type { LayerFactsCache } from '../grader/facts/layer-cache.js';
import type { SourceImage, SourceLayer } from './analyse-image.js';
import type { LedgerBase } from '../contract/inspect.js';

const inspectTimeoutMs = 30_000;

/**
 * An image on an engine, read through the grader's reader (its archive, streamed once).
 * Throws a usage error naming the engine when there is no such image.
 */
export async function readImageFromEngine(engine: Engine, ref: string, options: { signal?: AbortSignal; layerCache?: LayerFactsCache } = {}): Promise<SourceImage> {
  const facts = await gatherImageFacts(engine, ref, { ...(options.signal ? { signal: options.signal } : {}), ...(options.layerCache ? { layerCache: options.layerCache } : {}) });
  if (!facts) {
    throw usageError(
      `There is no image "${ref}" on the engine at ${engine.address}.`,
      'Run `docker image ls` there to see the images, or build it first.',
    );
  }
  const diffIds = facts.layers.map((layer) => layer.diffId);
  return {
    ref,
    id: facts.id,
    source: 'engine',
    layers: facts.layers,
    base: await findBase(engine, facts.id, diffIds),
  };
}

/**
 * The base image is the one on the engine whose layers are the longest strict prefix of
 * this image's layers (what FROM brought). When none is, dive's rule applies: the first layer.
 */
export async function findBase(engine: Engine, imageId: string, diffIds: readonly string[]): Promise<LedgerBase> {
  let best: LedgerBase = { layerCount: Math.min(1, diffIds.length), how: 'first-layer' };
  const images = await withTimeout(engine.docker.listImages(), inspectTimeoutMs, 'the engine did not list its images');
  for (const summary of images) {
    if (summary.Id === imageId) continue;
    let layers: string[];
    try {
      layers = (await withTimeout(engine.docker.getImage(summary.Id).inspect(), inspectTimeoutMs, 'no answer')).RootFS?.Layers ?? [];
    } catch (error) {
      if (isNotFound(error)) continue; // removed while we looked
      throw error;
    }
    if (!layers.length || layers.length >= diffIds.length || layers.length < best.layerCount) continue;
    if (best.how === 'image' && layers.length === best.layerCount) continue;
    if (!layers.every((diffId, index) => diffId === diffIds[index])) continue;
    const name = summary.RepoTags?.find((tag) => tag !== '<none>:<none>') ?? summary.Id.replace(/^sha256:/, '').slice(0, 12);
    best = { layerCount: layers.length, how: 'image', image: name };
  }
  return best;
}

/**
 * A `docker save` archive (legacy or OCI layout, layers plain, gzip or as the reader
 * supports) in a file; the whole file may itself be gzip-compressed (`docker save | gzip`).
 */
export async function readImageFromArchive(file: string): Promise<SourceImage> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      if (!(await handle.stat()).isFile()) throw Object.assign(new Error('it is not a file'), { code: 'EISDIR' });
      head = Buffer.alloc(4);
      await handle.read(head, 0, 4, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : messageOf(error);
    throw usageError(`Cannot read the archive ${file}: ${why}.`, 'Give the file `docker save IMAGE -o FILE` wrote.');
  }
  const isGzip = head[0] === 0x1f && head[1] === 0x8b;
  const stream = isGzip ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let archive;
  try {
    archive = await readImageArchive(stream as AsyncIterable<Buffer>);
  } catch (error) {
    if (error instanceof ArchiveReadError || /incorrect header check|unexpected end of file/i.test(messageOf(error))) {
      throw usageError(`${file} is not an image archive that can be read: ${messageOf(error).replace(/\.$/, '')}.`, 'Give the file `docker save IMAGE -o FILE` wrote (gzip-compressed is fine).');
    }
    throw error;
  } finally {
    stream.destroy();
  }
  const diffIds = archive.config.rootfs?.diff_ids ?? [];
  const origins = layerOrigins(archive.config.history, archive.layers.length);
  const layers = archive.layers.map((layer, index): SourceLayer => {
    const origin = origins[index] ?? {};
    return {
      diffId: diffIds[index] ?? '',
      sizeBytes: layer.contents?.sizeBytes ?? 0,
      ...(origin.createdBy !== undefined ? { createdBy: origin.createdBy } : {}),
      ...(origin.instruction !== undefined ? { instruction: origin.instruction } : {}),
      ...(layer.unreadable ? { unreadable: layer.unreadable } : {}),
      entries: layer.contents?.entries ?? [],
      whiteouts: layer.contents?.whiteouts ?? [],
      opaqueDirectories: layer.contents?.opaqueDirectories ?? [],
    };
  });
  return { ref: file, source: 'archive', layers };
}
