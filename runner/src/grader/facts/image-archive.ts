import path from 'node:path';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { ArchiveLayout, LayerCompression } from '../types.js';
import { feed, normaliseEntryName, readLayerTar, type LayerContents, type ReadLayerOptions } from './layer-tar.js';

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
  layout: ArchiveLayout;
  /** The image config (`config.json` of the image spec): history, rootfs, runtime config. */
  config: ImageConfigJson;
  /** In manifest order, bottom to top. */
  layers: ArchiveLayer[];
}

export interface ArchiveLayer {
  /** Path of the layer inside the archive. */
  archivePath: string;
  compression: LayerCompression;
  contents?: LayerContents;
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
  rootfs?: { diff_ids?: string[] };
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
}

export async function readImageArchive(source: AsyncIterable<Buffer>, options: ReadLayerOptions = {}): Promise<ImageArchive> {
  const jsonFiles = new Map<string, string>();
  const scanned = new Map<string, ScannedEntry>();
  const symlinks = new Map<string, string>();
  const extract = tar.extract();
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
  options: ReadLayerOptions,
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

  if (/^\s*[{[]/.test(start.subarray(0, 16).toString('latin1'))) {
    if (size > maxJsonBytes) {
      await drain(rest);
      return;
    }
    const parts: Buffer[] = [];
    for await (const chunk of rest) parts.push(chunk);
    jsonFiles.set(entryPath, Buffer.concat(parts).toString('utf8'));
    return;
  }
  if (start[0] === 0x28 && start[1] === 0xb5 && start[2] === 0x2f && start[3] === 0xfd) {
    await drain(rest);
    scanned.set(entryPath, {
      compression: 'zstd',
      unreadable: 'it is compressed with zstd, which this grader cannot read yet (Node.js 20 has no zstd)',
    });
    return;
  }
  const isGzip = start[0] === 0x1f && start[1] === 0x8b;
  if (!isGzip && !looksLikeTar(start)) {
    await drain(rest);
    return;
  }
  const compression: LayerCompression = isGzip ? 'gzip' : 'none';
  let layerSource: AsyncIterable<Buffer> = rest;
  let gunzipping: Promise<void> | undefined;
  if (isGzip) {
    const gunzip = createGunzip();
    gunzipping = feed(rest, gunzip);
    layerSource = gunzip;
  }
  try {
    const contents = await readLayerTar(layerSource, options);
    scanned.set(entryPath, { compression, contents });
  } catch (error) {
    scanned.set(entryPath, { compression, unreadable: error instanceof Error ? error.message : String(error) });
  } finally {
    // feed() reads its source to the end even when the reader stops early, so once it is
    // done nothing of this entry is left unread.
    if (gunzipping) await gunzipping;
  }
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
  const config = parseJson<ImageConfigJson>(jsonFiles.get(configPath), configPath);
  if (!config) throw new ArchiveReadError(`the image archive lacks the image config ${configPath}`);

  const layers = manifest.Layers.map((layerPath): ArchiveLayer => {
    let archivePath = normaliseEntryName(layerPath).path;
    for (let hops = 0; symlinks.has(archivePath) && hops < 8; hops++) archivePath = symlinks.get(archivePath)!;
    const found = scanned.get(archivePath);
    if (!found) return { archivePath, compression: 'none', unreadable: `the archive has no layer at ${archivePath}` };
    return { archivePath, ...found };
  });
  return { layout, config, layers };
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
