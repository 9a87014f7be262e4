import path from 'node:path';
import tar from 'tar-stream';
import { maxKeptFileBytes, type FileIdentity, type FileType } from '../types.js';
import { ExecutableIdentifier } from './file-identity.js';

/** One entry of a layer's tar, with its name made safe (see `normaliseEntryName`). */
export interface LayerEntry {
  path: string;
  type: FileType;
  sizeBytes: number;
  mode: number;
  linkTarget?: string;
  identity?: FileIdentity;
  /** The bytes, for the paths the reader was asked to keep (see ReadLayerOptions). */
  content?: Buffer;
}

export interface ReadLayerOptions {
  /** Paths (relative to the root, no leading "/") whose bytes to keep, up to maxKeptFileBytes each. */
  keepContentOf?: ReadonlySet<string>;
}

/** What one layer changes: entries it adds or replaces, and what it deletes below it. */
export interface LayerContents {
  entries: LayerEntry[];
  /** `.wh.<name>` files: the path (and everything under it) is deleted. */
  whiteouts: string[];
  /** `.wh..wh..opq` files: everything the layers below put in this directory is hidden. */
  opaqueDirectories: string[];
  /** Bytes of file content. */
  sizeBytes: number;
  entryCount: number;
  /** Odd things seen on the way, such as names that tried to leave the root. */
  anomalies: string[];
}

/** A layer with more entries than this is not read further (a hostile image could have millions). */
export const maxEntriesPerLayer = 500_000;
const maxAnomalies = 20;

export class LayerReadError extends Error {
  override readonly name = 'LayerReadError';
}

/**
 * Turns a tar entry name into a path relative to the root, without a leading "/" or "./" and
 * with ".." resolved lexically and clamped at the root. Nothing is ever written to disk, so
 * this is about reporting the path a container would see, not about safety; the caller is
 * told when a name tried to escape.
 */
export function normaliseEntryName(name: string): { path: string; didEscape: boolean } {
  const parts: string[] = [];
  let didEscape = false;
  for (const part of name.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) didEscape = true;
      else parts.pop();
      continue;
    }
    parts.push(part);
  }
  return { path: parts.join('/'), didEscape: didEscape || name.startsWith('/') };
}

/** Resolves a hard-link target, which tar writes relative to the archive root. */
function hardLinkTarget(linkname: string): string {
  return normaliseEntryName(linkname).path;
}

const fileTypes: Record<string, FileType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
};

/**
 * Reads one layer tar as it streams past: records every entry, looks into executables with
 * ExecutableIdentifier, keeps the bytes of the few small files a check asked for, and skips
 * the rest. Memory is bounded by the number of entries, never by file sizes.
 */
export async function readLayerTar(source: AsyncIterable<Buffer>, options: ReadLayerOptions = {}): Promise<LayerContents> {
  const contents: LayerContents = { entries: [], whiteouts: [], opaqueDirectories: [], sizeBytes: 0, entryCount: 0, anomalies: [] };
  const identities = new Map<string, FileIdentity>();
  const note = (text: string) => {
    if (contents.anomalies.length < maxAnomalies) contents.anomalies.push(text);
  };
  const extract = tar.extract();
  const feeding = feed(source, extract);

  try {
    for await (const entry of extract) {
      const header = entry.header;
      contents.entryCount++;
      if (contents.entryCount > maxEntriesPerLayer) {
        throw new LayerReadError(`it has more than ${maxEntriesPerLayer.toLocaleString('en')} entries; the grader stops reading there`);
      }
      const { path: entryPath, didEscape } = normaliseEntryName(header.name);
      if (didEscape) note(`the name "${header.name.slice(0, 200)}" points outside the root; read as /${entryPath}`);
      const type: FileType = fileTypes[header.type ?? ''] ?? 'other';
      const name = path.posix.basename(entryPath);
      const isFile = type === 'file';
      const identifier = isFile && entryPath ? new ExecutableIdentifier(entryPath, header.mode ?? 0) : undefined;
      const isKept = isFile && (header.size ?? 0) <= maxKeptFileBytes && options.keepContentOf?.has(entryPath) === true;
      const kept: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        identifier?.push(chunk);
        if (isKept) kept.push(chunk);
      }
      if (!entryPath) continue; // the root directory itself

      if (name.startsWith('.wh.')) {
        const directory = path.posix.dirname(entryPath);
        const parent = directory === '.' ? '' : directory;
        if (name === '.wh..wh..opq') contents.opaqueDirectories.push(parent);
        // Other ".wh..wh." names are aufs bookkeeping (hard-link directories), not deletions.
        else if (!name.startsWith('.wh..wh.')) contents.whiteouts.push(parent ? `${parent}/${name.slice(4)}` : name.slice(4));
        continue;
      }
      if (isFile) contents.sizeBytes += header.size ?? 0;
      const record: LayerEntry = { path: entryPath, type, sizeBytes: isFile ? (header.size ?? 0) : 0, mode: header.mode ?? 0 };
      if (isKept) record.content = Buffer.concat(kept);
      if (type === 'symlink' && header.linkname) record.linkTarget = header.linkname;
      if (type === 'hardlink' && header.linkname) {
        record.linkTarget = hardLinkTarget(header.linkname);
        // A hard link shares its target's bytes, which came earlier in this same tar.
        const identity = identities.get(record.linkTarget);
        if (identity) record.identity = identity;
      }
      const identity = identifier?.finish();
      if (identity) {
        record.identity = identity;
        identities.set(entryPath, identity);
      }
      contents.entries.push(record);
    }
  } catch (error) {
    extract.destroy();
    await feeding;
    throw error instanceof LayerReadError ? error : new LayerReadError(describeTarError(error));
  }
  await feeding;
  return contents;
}

function describeTarError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end of data/i.test(message)) return 'its tar ends in the middle of an entry (truncated)';
  if (/invalid tar header/i.test(message)) return 'it is not a valid tar (a header is corrupt)';
  return `its tar could not be read: ${message}`;
}

interface WritableLike {
  write(chunk: Buffer): boolean;
  end(data?: never): unknown;
  destroy(error?: Error): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly destroyed: boolean;
}

/**
 * Writes `source` into `sink`, honouring backpressure. Once the sink is gone (the reader
 * failed) the rest of the source is still read and dropped: stopping early would leave the
 * enclosing archive stuck in the middle of this entry.
 */
export async function feed(source: AsyncIterable<Buffer>, sink: WritableLike): Promise<void> {
  let isSinkGone = false;
  try {
    for await (const chunk of source) {
      if (isSinkGone || sink.destroyed) {
        isSinkGone = true;
        continue;
      }
      if (!sink.write(chunk)) isSinkGone = !(await drained(sink));
    }
    if (!isSinkGone && !sink.destroyed) sink.end();
  } catch (error) {
    sink.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Resolves true on 'drain', false when the sink closes or fails first. */
function drained(sink: WritableLike): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => () => {
      sink.removeListener('drain', onDrain);
      sink.removeListener('close', onClose);
      sink.removeListener('error', onClose);
      resolve(value);
    };
    const onDrain = done(true);
    const onClose = done(false);
    sink.once('drain', onDrain);
    sink.once('close', onClose);
    sink.once('error', onClose);
  });
}
