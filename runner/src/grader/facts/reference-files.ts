import type { ReferenceFileFacts, ReferenceFileRequest } from '../types.js';
import { instructionOf, layerOrigins } from './history.js';
import type { ImageArchive } from './image-archive.js';
import { normaliseEntryName } from './layer-tar.js';
import { mergeLayers } from './merged-view.js';

/** A layer's files kept per version: the course's layers hold a few; a hostile image's could hold millions. */
export const maxLayerFiles = 10_000;

/**
 * Where one path appears in another image's layers: every layer whose tar writes it (the
 * bytes still ship there even when a later layer deletes it), and whether the merged view,
 * what a container sees, still has it. Pure: the archive was read while gathering, with
 * the path's content kept (small files only).
 */
export function referenceFileFacts(request: ReferenceFileRequest, archive: ImageArchive): ReferenceFileFacts {
  const entryPath = normaliseEntryName(request.path).path;
  const origins = layerOrigins(archive.config.history, archive.layers.length);
  const versions: Extract<ReferenceFileFacts, { isImagePresent: true }>['versions'] = [];
  const diffIds = archive.config.rootfs?.diff_ids ?? [];
  archive.layers.forEach((layer, index) => {
    const entries = layer.contents?.entries ?? [];
    for (const entry of entries) {
      if (entry.path !== entryPath) continue;
      const instruction = origins[index]?.instruction;
      versions.push({
        layer: index,
        ...(instruction !== undefined ? { instruction } : {}),
        type: entry.type,
        sizeBytes: entry.sizeBytes,
        ...(entry.content ? { content: entry.content } : {}),
        diffId: diffIds[index] ?? '',
        layerFiles: entries.filter((other) => other.type !== 'directory').slice(0, maxLayerFiles).map(({ path, type, sizeBytes }) => ({ path, type, sizeBytes })),
      });
    }
  });
  const merged = mergeLayers(archive.layers.map((layer) => layer.contents));
  const layerInstructions = origins.map((origin) => (origin.createdBy !== undefined ? instructionOf(origin.createdBy) : undefined));
  return { ...request, isImagePresent: true, layerCount: archive.layers.length, layerInstructions, versions, isVisible: merged.files.has(entryPath) };
}
