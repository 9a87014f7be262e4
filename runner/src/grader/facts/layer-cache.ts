import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { maxKeptFileBytes, type ArchiveLayout, type FileType, type LayerCompression } from '../types.js';
import type { LayerContents, LayerEntry } from './layer-tar.js';

/**
 * Facts about a layer never change: a layer is named by its diffID, the digest of its
 * uncompressed tar. So what the reader learnt about one (its entries, the executables in it)
 * is kept on disk by diffID, and the next check of any image sharing that layer (every
 * learner image on golang:1.24, say) skips reading it.
 *
 * - Where: a folder the caller chooses (the data directory's cache/layer-facts); the grader
 *   knows nothing of data directories.
 * - Versioned twice: the file format, and a fingerprint of the reader's own code, so facts
 *   from an older reader are never trusted (a new rule in file-identity.ts makes them stale).
 * - Written atomically (temporary file, then rename), gzip-compressed (its CRC catches a
 *   damaged file), bounded in total size (oldest-used entries go first), and a file that
 *   cannot be read or does not look right is ignored and removed: the layer is read again.
 */
export interface LayerFactsCache {
  /** The layer's facts, or undefined when not cached or when a wanted file's bytes are not in the entry. */
  get(diffId: string, keepContentOf?: ReadonlySet<string>): Promise<LayerContents | undefined>;
  /** Best effort: a folder that cannot be written to only means no cache. */
  put(diffId: string, contents: LayerContents): Promise<void>;
  /**
   * An image's config as its archive held it, by image id. Only kept where the id is the
   * config's own digest (the classic store), so what comes back is verified byte for byte.
   */
  getImage(imageId: string): Promise<CachedImage | undefined>;
  putImage(imageId: string, image: CachedImage): Promise<void>;
}

export interface CachedImage {
  layout: ArchiveLayout;
  /** The config JSON, exactly as the archive held it. */
  configJson: string;
  /** Per layer, bottom to top, as the archive stored it. */
  compressions: LayerCompression[];
}

const formatVersion = 1;
export const defaultLayerCacheBytes = 512 * 1024 * 1024;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const diffIdPattern = /^sha256:([0-9a-f]{64})$/;
const fileTypes = new Set<FileType>(['file', 'directory', 'symlink', 'hardlink', 'other']);

interface StoredEntry extends Omit<LayerEntry, 'content'> {
  /** The kept bytes, base64. */
  content?: string;
}

interface StoredLayer {
  format: number;
  reader: string;
  diffId: string;
  contents: Omit<LayerContents, 'entries'> & { entries: StoredEntry[] };
}

/** A fingerprint of the code whose output is cached; any change to it starts a new cache. */
function readerFingerprint(): string {
  const here = fileURLToPath(import.meta.url);
  const extension = path.extname(here);
  const hash = createHash('sha256');
  for (const file of [`layer-tar${extension}`, `file-identity${extension}`, `../types${extension}`]) {
    hash.update(readFileSync(path.join(path.dirname(here), file)));
  }
  return hash.digest('hex').slice(0, 16);
}

let fingerprint: string | undefined;

const noCache: LayerFactsCache = {
  get: async () => undefined,
  put: async () => {},
  getImage: async () => undefined,
  putImage: async () => {},
};

/**
 * Opens (lazily: nothing happens on disk until the first put) the cache in `folder`, e.g.
 * `<data dir>/cache/layer-facts`. Entries live in a subfolder named for the format and the
 * reader's fingerprint; other subfolders are from older readers and are removed on write.
 */
export function openLayerFactsCache(folder: string, options: { maxBytes?: number } = {}): LayerFactsCache {
  try {
    fingerprint ??= readerFingerprint();
  } catch {
    // The reader's files cannot be read (a bundled build?): facts of unknown vintage are
    // never trusted, so there is no cache.
    return noCache;
  }
  const version = `v${formatVersion}-${fingerprint}`;
  const entriesFolder = path.join(folder, version);
  const maxBytes = options.maxBytes ?? defaultLayerCacheBytes;
  const fileOf = (diffId: string) => {
    const hex = diffIdPattern.exec(diffId)?.[1];
    return hex ? path.join(entriesFolder, `${hex}.json.gz`) : undefined;
  };
  const imageFileOf = (imageId: string) => {
    const hex = diffIdPattern.exec(imageId)?.[1];
    return hex ? path.join(entriesFolder, `image-${hex}.json.gz`) : undefined;
  };

  return {
    async get(diffId, keepContentOf) {
      const file = fileOf(diffId);
      if (!file) return undefined;
      let stored: StoredLayer;
      try {
        stored = JSON.parse((await gunzipAsync(await readFile(file))).toString('utf8')) as StoredLayer;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') await rm(file, { force: true }).catch(() => {});
        return undefined;
      }
      const contents = isWellFormed(stored, diffId, version) ? revive(stored) : undefined;
      if (!contents) {
        await rm(file, { force: true }).catch(() => {});
        return undefined;
      }
      if (keepContentOf?.size && lacksWantedBytes(contents, keepContentOf)) return undefined;
      const now = new Date();
      await utimes(file, now, now).catch(() => {}); // recently used: evicted last
      return contents;
    },

    async put(diffId, contents) {
      const file = fileOf(diffId);
      if (!file) return;
      const stored: StoredLayer = { format: formatVersion, reader: version, diffId, contents: { ...contents, entries: contents.entries.map(storable) } };
      await writeEntry(file, stored);
    },

    async getImage(imageId) {
      const file = imageFileOf(imageId);
      if (!file) return undefined;
      try {
        const stored = JSON.parse((await gunzipAsync(await readFile(file))).toString('utf8')) as StoredImage;
        const isIntact =
          stored.format === formatVersion &&
          stored.reader === version &&
          typeof stored.configJson === 'string' &&
          `sha256:${createHash('sha256').update(stored.configJson).digest('hex')}` === imageId &&
          Array.isArray(stored.compressions) &&
          (stored.layout === 'oci' || stored.layout === 'docker-legacy');
        if (isIntact) return { layout: stored.layout, configJson: stored.configJson, compressions: stored.compressions };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      }
      await rm(file, { force: true }).catch(() => {});
      return undefined;
    },

    async putImage(imageId, image) {
      const file = imageFileOf(imageId);
      // Only a config whose digest is the id can be verified when read back.
      if (!file || `sha256:${createHash('sha256').update(image.configJson).digest('hex')}` !== imageId) return;
      await writeEntry(file, { format: formatVersion, reader: version, ...image });
    },
  };

  async function writeEntry(file: string, stored: StoredLayer | StoredImage): Promise<void> {
    try {
      await mkdir(entriesFolder, { recursive: true });
      const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, await gzipAsync(JSON.stringify(stored), { level: 1 }), { flag: 'wx' });
        await rename(temporary, file);
      } finally {
        await rm(temporary, { force: true });
      }
      await removeOtherVersions(folder, version);
      await evict(entriesFolder, maxBytes);
    } catch {
      // A full disk or a read-only data directory costs speed, never a check.
    }
  }
}

interface StoredImage extends CachedImage {
  format: number;
  reader: string;
}

function storable(entry: LayerEntry): StoredEntry {
  if (!entry.content) return entry as StoredEntry;
  return { ...entry, content: entry.content.toString('base64') };
}

function revive(stored: StoredLayer): LayerContents {
  const entries = stored.contents.entries.map((entry): LayerEntry => {
    if (entry.content === undefined) return entry as LayerEntry;
    return { ...entry, content: Buffer.from(entry.content, 'base64') };
  });
  return { ...stored.contents, entries };
}

/** Cheap checks that catch a file from elsewhere or a half-understood one; gzip's CRC caught damage. */
function isWellFormed(stored: StoredLayer, diffId: string, version: string): boolean {
  if (stored?.format !== formatVersion || stored.reader !== version || stored.diffId !== diffId) return false;
  const contents = stored.contents;
  if (!contents || !Array.isArray(contents.entries) || !Array.isArray(contents.whiteouts) || !Array.isArray(contents.opaqueDirectories)) return false;
  if (typeof contents.sizeBytes !== 'number' || typeof contents.entryCount !== 'number' || !Array.isArray(contents.anomalies)) return false;
  return contents.entries.every(
    (entry) => typeof entry?.path === 'string' && fileTypes.has(entry.type) && typeof entry.sizeBytes === 'number' && typeof entry.mode === 'number' && (entry.content === undefined || typeof entry.content === 'string'),
  );
}

/** A check wants a small file's bytes that this entry was stored without: read the layer again. */
function lacksWantedBytes(contents: LayerContents, keepContentOf: ReadonlySet<string>): boolean {
  return contents.entries.some((entry) => entry.type === 'file' && entry.sizeBytes <= maxKeptFileBytes && entry.content === undefined && keepContentOf.has(entry.path));
}

async function removeOtherVersions(folder: string, version: string): Promise<void> {
  for (const name of await readdir(folder)) {
    if (name !== version && /^v\d+-/.test(name)) await rm(path.join(folder, name), { recursive: true, force: true });
  }
}

/** Removes the least recently used entries until the folder is within 80% of its bound. */
async function evict(entriesFolder: string, maxBytes: number): Promise<void> {
  const files = await Promise.all(
    (await readdir(entriesFolder))
      .filter((name) => name.endsWith('.json.gz'))
      .map(async (name) => {
        const info = await stat(path.join(entriesFolder, name)).catch(() => undefined);
        return { name, size: info?.size ?? 0, usedAt: info?.mtimeMs ?? 0 };
      }),
  );
  let total = files.reduce((sum, file) => sum + file.size, 0);
  if (total <= maxBytes) return;
  files.sort((a, b) => a.usedAt - b.usedAt);
  for (const file of files) {
    if (total <= maxBytes * 0.8) break;
    await rm(path.join(entriesFolder, file.name), { force: true });
    total -= file.size;
  }
}
