import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import type { ArchiveLayout, LayerCompression } from '../types.js';
import { endAwareExtract, feed, LayerReadError, normaliseEntryName, readLayerTar, type LayerContents, type ReadLayerOptions } from './layer-tar.js';

/**
 * Reads the archive of `GET /images/{name}/get` (what `docker save` writes) in one pass.
 *
 * Both layouts carry a `manifest.json` listing the config and the layer files by path:
 * - legacy (Engine < 25): `<id>/layer.tar`, `<config id>.json`, `manifest.json`;
 * - OCI (Engine 25+): `blobs/sha256/<digest>`, `index.json`, `oci-layout`, plus `manifest.json`.
 * The order of entries is not guaranteed (manifest.json may come last), so every entry that
 * looks like a tar is read as a layer while it streams past, keyed by its path, and the
 * manifest is joined at the end. Small JSON files are kept; nothing else is buffered.
 */
export interface ImageArchive {
  /** None where no archive was read: an image without layers, which engines refuse to save. */
  layout?: ArchiveLayout;
  /** The image config (`config.json` of the image spec): history, rootfs, runtime config. */
  config: ImageConfigJson;
  /** The same, as the archive held it. */
  configJson: string;
  /** In manifest order, bottom to top. */
  layers: ArchiveLayer[];
}

export interface ArchiveLayer {
  /** Path of the layer inside the archive. */
  archivePath: string;
  compression: LayerCompression;
  contents?: LayerContents;
  /** The contents came from ReadArchiveOptions.knownLayers; the layer's bytes were skipped. */
  isFromCache?: boolean;
  /** Why the layer could not be read. */
  unreadable?: string;
}

/** The parts of the image config the grader reads (image-spec config.md). */
export interface ImageConfigJson {
  config?: {
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    ExposedPorts?: Record<string, unknown> | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
  };
  rootfs?: { diff_ids?: string[] | null };
  history?: Array<{ created_by?: string; empty_layer?: boolean; comment?: string }>;
}

export class ArchiveReadError extends Error {
  override readonly name = 'ArchiveReadError';
}

/** JSON files bigger than this are not metadata; a hostile archive could claim any size. */
const maxJsonBytes = 8 * 1024 * 1024;
const sniffBytes = 512;

interface ScannedEntry {
  compression: LayerCompression;
  contents?: LayerContents;
  unreadable?: string;
  isFromCache?: boolean;
}

export interface ReadArchiveOptions extends ReadLayerOptions {
  /**
   * Layers whose facts are known already (from a LayerFactsCache), by diffID. A layer blob
   * named by its diffID (`blobs/sha256/<diffID>`, how Engine 25+ saves a classic-store
   * image) is then skipped unread: its bytes still stream past, but nothing parses them.
   */
  knownLayers?: ReadonlyMap<string, LayerContents>;
}

export async function readImageArchive(source: AsyncIterable<Buffer>, options: ReadArchiveOptions = {}): Promise<ImageArchive> {
  const jsonFiles = new Map<string, string>();
  const scanned = new Map<string, ScannedEntry>();
  const symlinks = new Map<string, string>();
  const extract = endAwareExtract();
  const feeding = feed(source, extract);

  try {
    for await (const entry of extract) {
      const header = entry.header;
      const { path: entryPath } = normaliseEntryName(header.name);
      const chunks = entry as AsyncIterable<Buffer>;
      if (header.type === 'symlink' && header.linkname) {
        // The legacy layout links a layer that appears twice to its first copy.
        symlinks.set(entryPath, normaliseEntryName(path.posix.join(path.posix.dirname(entryPath), header.linkname)).path);
      }
      if (header.type !== 'file' || !entryPath || /(^|\/)(VERSION|oci-layout)$/.test(entryPath)) {
        await drain(chunks);
        continue;
      }
      await scanEntry(entryPath, header.size ?? 0, chunks, jsonFiles, scanned, options);
    }
  } catch (error) {
    extract.destroy();
    await feeding;
    throw new ArchiveReadError(describeArchiveError(error));
  }
  await feeding;
  return joinManifest(jsonFiles, scanned, symlinks);
}

/** Peeks at the first bytes, then reads the entry as JSON, as a layer, or not at all. */
async function scanEntry(
  entryPath: string,
  size: number,
  chunks: AsyncIterable<Buffer>,
  jsonFiles: Map<string, string>,
  scanned: Map<string, ScannedEntry>,
  options: ReadArchiveOptions,
): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let isDone = false;
  while (headLength < sniffBytes) {
    const next = await iterator.next();
    if (next.done) {
      isDone = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  // Read once: the head chunks, then the rest of the entry.
  const rest: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      yield* head.splice(0);
      if (isDone) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  const start = Buffer.concat(head).subarray(0, sniffBytes);

  // Magic bytes first: a layer whose first entry is named "[x]" or "{x}" starts with "[" or "{".
  const compression = compressionOf(start);
  if (!compression) {
    if (/^\s*[{[]/.test(start.subarray(0, 16).toString('latin1')) && size <= maxJsonBytes) {
      const parts: Buffer[] = [];
      for await (const chunk of rest) parts.push(chunk);
      jsonFiles.set(entryPath, Buffer.concat(parts).toString('utf8'));
    } else {
      await drain(rest);
    }
    return;
  }
  const known = options.knownLayers?.get(`sha256:${/^blobs\/sha256\/([0-9a-f]{64})$/.exec(entryPath)?.[1]}`);
  if (known && compression === 'none') {
    await drain(rest);
    scanned.set(entryPath, { compression, contents: known, isFromCache: true });
    return;
  }
  let layerSource: AsyncIterable<Buffer> = rest;
  let gunzipping: Promise<void> | undefined;
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    gunzipping = feed(rest, gunzip);
    layerSource = gunzip;
  } else if (compression === 'zstd') {
    layerSource = unzstd(rest);
  }
  try {
    const contents = await readLayerTar(layerSource, options);
    scanned.set(entryPath, { compression, contents });
  } catch (error) {
    scanned.set(entryPath, { compression, unreadable: error instanceof Error ? error.message : String(error) });
  } finally {
    // feed() reads its source to the end even when the reader stops early; a failed zstd
    // decoder does not, so what it left is read here: the archive must move past this entry.
    if (gunzipping) await gunzipping;
    await drain(rest);
  }
}

/** What the first bytes say an entry is: a layer (compressed or not), or something else. */
export function compressionOf(start: Buffer): LayerCompression | undefined {
  if (start[0] === 0x1f && start[1] === 0x8b) return 'gzip';
  if (start.length >= 4 && start.readUInt32LE(0) === zstdMagic) return 'zstd';
  if (looksLikeTar(start)) return 'none';
  return undefined;
}

const zstdMagic = 0xfd2fb528;
/**
 * Compressed bytes handed to the zstd decoder at a time. fzstd decodes every whole block it
 * is given at once, and a block can grow 30,000-fold (runs of one byte), so small slices
 * keep what is held in memory small.
 */
const zstdSliceBytes = 16 * 1024;

/**
 * Decompresses a zstd stream (one or more frames, skippable frames too) with fzstd, pure JS
 * since Node.js 20 has no zstd. Output is handed on slice by slice, so memory stays bounded
 * by what one slice decodes to; a corrupt stream rejects.
 */
async function* unzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let output: Buffer[] = [];
  const decoder = new Decompress((chunk) => {
    if (chunk.length) output.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });
  const flush = () => {
    const ready = output;
    output = [];
    return ready;
  };
  try {
    for await (const chunk of source) {
      for (let offset = 0; offset < chunk.length; offset += zstdSliceBytes) {
        decoder.push(chunk.subarray(offset, offset + zstdSliceBytes));
        yield* flush();
      }
    }
    decoder.push(new Uint8Array(0), true);
  } catch (error) {
    throw new LayerReadError(`its zstd data is corrupt (${error instanceof Error ? error.message : String(error)})`);
  }
  yield* flush();
}

/**
 * A tar header has "ustar" at offset 257; an empty tar is all zeros (BuildKit writes one
 * for a WORKDIR that changes nothing).
 */
function looksLikeTar(start: Buffer): boolean {
  if (start.length >= 262 && start.subarray(257, 262).toString('latin1') === 'ustar') return true;
  return start.length > 0 && start.every((byte) => byte === 0);
}

async function drain(chunks: AsyncIterable<Buffer>): Promise<void> {
  for await (const _chunk of chunks) {
    // dropped: the tar stream has to be read past this entry
  }
}

function describeArchiveError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end of data/i.test(message)) return 'the image archive ended in the middle of an entry (truncated)';
  if (/invalid tar header/i.test(message)) return 'the image archive is not a valid tar';
  return `the image archive could not be read: ${message}`;
}

interface ManifestEntry {
  Config?: string;
  Layers?: string[];
}

function joinManifest(jsonFiles: Map<string, string>, scanned: Map<string, ScannedEntry>, symlinks: Map<string, string>): ImageArchive {
  const layout: ArchiveLayout = jsonFiles.has('index.json') ? 'oci' : 'docker-legacy';
  const manifest = parseJson<ManifestEntry[]>(jsonFiles.get('manifest.json'), 'manifest.json')?.[0] ?? ociManifest(jsonFiles);
  if (!manifest?.Config || !Array.isArray(manifest.Layers)) {
    throw new ArchiveReadError('the image archive has neither a usable manifest.json nor an OCI index.json');
  }
  const configPath = normaliseEntryName(manifest.Config).path;
  const configJson = jsonFiles.get(configPath);
  const config = parseJson<ImageConfigJson>(configJson, configPath);
  if (!config || configJson === undefined) throw new ArchiveReadError(`the image archive lacks the image config ${configPath}`);

  const layers = manifest.Layers.map((layerPath): ArchiveLayer => {
    let archivePath = normaliseEntryName(layerPath).path;
    for (let hops = 0; symlinks.has(archivePath) && hops < 8; hops++) archivePath = symlinks.get(archivePath)!;
    const found = scanned.get(archivePath);
    if (!found) return { archivePath, compression: 'none', unreadable: `the archive has no layer at ${archivePath}` };
    return { archivePath, ...found };
  });
  return { layout, config, configJson, layers };
}

/** Without manifest.json, follow index.json to the image manifest blob (image-spec image-layout.md). */
function ociManifest(jsonFiles: Map<string, string>): ManifestEntry | undefined {
  const index = parseJson<{ manifests?: Array<{ digest?: string }> }>(jsonFiles.get('index.json'), 'index.json');
  const blobPath = (digest: string | undefined) => (digest ? `blobs/${digest.replace(':', '/')}` : '');
  let manifest = parseJson<{ config?: { digest?: string }; layers?: Array<{ digest?: string }>; manifests?: Array<{ digest?: string }> }>(
    jsonFiles.get(blobPath(index?.manifests?.[0]?.digest)),
    'the OCI manifest',
  );
  // An index may point at another index first (multi-platform images).
  if (manifest?.manifests) manifest = parseJson(jsonFiles.get(blobPath(manifest.manifests[0]?.digest)), 'the OCI manifest');
  if (!manifest?.config?.digest || !manifest.layers) return undefined;
  return { Config: blobPath(manifest.config.digest), Layers: manifest.layers.map((layer) => blobPath(layer.digest)) };
}

function parseJson<T>(text: string | undefined, what: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ArchiveReadError(`${what} in the image archive is not valid JSON`);
  }
}
