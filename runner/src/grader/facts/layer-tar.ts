import path from 'node:path';
import tar from 'tar-stream';
import { maxKeptFileBytes, type FileIdentity, type FileType } from '../types.js';
import { ExecutableIdentifier } from './file-identity.js';

/** One entry of a layer's tar, with its name made safe (see `normaliseEntryName`). */
export interface LayerEntry {
  path: string;
  type: FileType;
  sizeBytes: number;
  /** The permission bits, setuid, setgid and sticky included (mode & 0o7777). */
  mode: number;
  /**
   * A symlink's target as written; a hard link's target as a root-relative path. A hard link
   * entry is the tar's record of it, as dive counts it (type 'hardlink', 0 bytes: its bytes
   * ship once, under the target); mergeLayers turns it into the regular file a container sees.
   */
  linkTarget?: string;
  /** For a hard link, its target's identity when the target came earlier in this tar. */
  identity?: FileIdentity;
  /** The bytes, for the paths the reader was asked to keep (see ReadLayerOptions). */
  content?: Buffer;
}

export interface ReadLayerOptions {
  /** Paths (relative to the root, no leading "/") whose bytes to keep, up to maxKeptFileBytes each. */
  keepContentOf?: ReadonlySet<string>;
}

export interface ReadLayerTarOptions extends ReadLayerOptions {
  /**
   * `layer` (the default): a layer tar as `docker save` writes it, deletions as `.wh.` names.
   * `overlay-folder`: a tar of an overlay2 `diff` folder (see LayerFolders), deletions in
   * overlayfs' own form, read as the same facts: a character device 0/0 is a whiteout, a
   * folder marked overlay.opaque=y is an opaque folder (counted as the two entries, folder
   * and `.wh..wh..opq`, its layer tar has).
   */
  form?: 'layer' | 'overlay-folder';
}

/** tar-stream hands the entry's pax records over as `header.pax`; its types leave that out. */
function paxRecordsOf(header: tar.Header): Record<string, string> {
  return (header as { pax?: Record<string, string> }).pax ?? {};
}

/**
 * The real size of a file of which a layer folder's tar holds only the head: the pax record
 * `LAYERLAB.size`, bigger than the bytes that follow the header. Undefined for a whole file.
 */
function headOnlySize(header: tar.Header): number | undefined {
  const record = paxRecordsOf(header)[headOnlySizeRecord];
  if (record === undefined || !/^\d{1,15}$/.test(record)) return undefined;
  const size = Number(record);
  return size > (header.size ?? 0) ? size : undefined;
}

/** The pax record LayerFolders.readLayer puts the real size of a file in when it sends only its head. */
export const headOnlySizeRecord = 'LAYERLAB.size';

/** The pax records GNU tar writes for the xattr overlayfs marks an opaque folder with (trusted., or user. in userxattr mode). */
const opaqueXattrRecords = ['SCHILY.xattr.trusted.overlay.opaque', 'SCHILY.xattr.user.overlay.opaque'];

/** What one layer changes: entries it adds or replaces, and what it deletes below it. */
export interface LayerContents {
  entries: LayerEntry[];
  /** `.wh.<name>` files: the path (and everything under it) is deleted. */
  whiteouts: string[];
  /** `.wh..wh..opq` files: everything the layers below put in this directory is hidden. */
  opaqueDirectories: string[];
  /** Bytes of file content. */
  sizeBytes: number;
  /** Entries of the tar, whiteouts included; the root folder ("./") not, since only some writers list it. */
  entryCount: number;
  /** Odd things seen on the way, such as names that tried to leave the root. */
  anomalies: string[];
}

/** A layer with more entries than this is not read further (a hostile image could have millions). */
export const maxEntriesPerLayer = 500_000;
const maxAnomalies = 20;
/**
 * When a check wants a file's bytes, small files are remembered up to this many bytes per
 * layer, so a later hard link to one of them (tar writes the bytes once, under the first
 * name) can still hand them over.
 */
const hardLinkContentBudgetBytes = 4 * 1024 * 1024;

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
export async function readLayerTar(source: AsyncIterable<Buffer>, options: ReadLayerTarOptions = {}): Promise<LayerContents> {
  const isOverlayFolder = options.form === 'overlay-folder';
  const contents: LayerContents = { entries: [], whiteouts: [], opaqueDirectories: [], sizeBytes: 0, entryCount: 0, anomalies: [] };
  /** Regular files seen so far in this tar, for the hard links that follow them. */
  const regularFiles = new Map<string, LayerEntry>();
  const smallFileBytes = new Map<string, Buffer>();
  let smallFileBudget = options.keepContentOf?.size ? hardLinkContentBudgetBytes : 0;
  const note = (text: string) => {
    if (contents.anomalies.length < maxAnomalies) contents.anomalies.push(text);
  };
  const extract = endAwareExtract();
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
      // A folder's tar may carry only a file's head, with its real size beside it (see LayerFolders).
      const headOf = isOverlayFolder && isFile ? headOnlySize(header) : undefined;
      const size = headOf ?? header.size ?? 0;
      const isSmall = isFile && size <= maxKeptFileBytes;
      const isWanted = isSmall && headOf === undefined && options.keepContentOf?.has(entryPath) === true;
      const isKept = isWanted || (isSmall && headOf === undefined && size <= smallFileBudget);
      const kept: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        identifier?.push(chunk);
        if (isKept) kept.push(chunk);
      }
      if (!entryPath) {
        // The root folder itself ("./"): some writers list it, others do not, so it is not counted.
        contents.entryCount--;
        continue;
      }
      if (isOverlayFolder && header.type === 'character-device' && header.devmajor === 0 && header.devminor === 0) {
        contents.whiteouts.push(entryPath);
        continue;
      }
      if (isOverlayFolder && type === 'directory' && opaqueXattrRecords.some((record) => paxRecordsOf(header)[record] === 'y')) {
        contents.opaqueDirectories.push(entryPath);
        contents.entryCount++;
      }

      if (name.startsWith('.wh.')) {
        const directory = path.posix.dirname(entryPath);
        const parent = directory === '.' ? '' : directory;
        if (name === '.wh..wh..opq') contents.opaqueDirectories.push(parent);
        // Other ".wh..wh." names are aufs bookkeeping (hard-link directories), not deletions.
        else if (!name.startsWith('.wh..wh.')) contents.whiteouts.push(parent ? `${parent}/${name.slice(4)}` : name.slice(4));
        continue;
      }
      if (isFile) contents.sizeBytes += size;
      // Permission bits only: whether a tar's mode field also holds the file-type bits depends
      // on the tool that wrote it (moby's archive package adds them, BuildKit and GNU tar do not).
      const mode = (header.mode ?? 0) & 0o7777;
      const record: LayerEntry = { path: entryPath, type, sizeBytes: isFile ? size : 0, mode };
      if (type === 'symlink' && header.linkname) record.linkTarget = header.linkname;
      if (type === 'hardlink' && header.linkname) {
        record.linkTarget = hardLinkTarget(header.linkname);
        // tar writes the bytes once, under the first name; a later name is a link to it.
        const original = regularFiles.get(record.linkTarget);
        if (original?.identity) record.identity = original.identity;
        const bytes = original && (original.content ?? smallFileBytes.get(record.linkTarget));
        if (bytes && options.keepContentOf?.has(entryPath)) record.content = bytes;
      }
      if (isKept) {
        const bytes = Buffer.concat(kept);
        if (isWanted) record.content = bytes;
        else {
          smallFileBytes.set(entryPath, bytes);
          smallFileBudget -= bytes.length;
        }
      }
      const identity = identifier?.finish();
      if (identity) record.identity = identity;
      if (isFile) regularFiles.set(entryPath, record);
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

/** The parts of tar-stream's Extract (3.2.x) that `endAwareExtract` wraps. */
interface TarStreamInternals {
  _consumeHeader(): boolean;
  _write(data: Buffer, callback: (error?: Error | null) => void): void;
  _header: unknown;
  _buffer: { buffered: number; shift(size: number): unknown };
}

/**
 * tar-stream's extractor, stopping at the end-of-archive marker (two zero blocks) as GNU tar
 * and Go's archive/tar do. tar-stream itself skips zero blocks and reads on, so whatever
 * follows the marker (eStargz's index, a second tar appended) would be taken for files.
 *
 * tar-stream has no option for this, so its header step is wrapped: a consumed block that
 * decodes to no header is a zero block. tar-stream is pinned to the version this was
 * written against, and the tests over archives with data after the marker cover it.
 */
export function endAwareExtract(): tar.Extract {
  const extract = tar.extract();
  const internals = extract as unknown as TarStreamInternals;
  const consumeHeader = internals._consumeHeader.bind(extract);
  const write = internals._write.bind(extract);
  let zeroBlocks = 0;
  let hasEnded = false;
  internals._consumeHeader = () => {
    const consumed = consumeHeader();
    if (!consumed) return consumed;
    if (internals._header !== null) {
      zeroBlocks = 0;
      return consumed;
    }
    if (++zeroBlocks === 2) {
      hasEnded = true;
      internals._buffer.shift(internals._buffer.buffered); // what followed the marker in this chunk
    }
    return consumed;
  };
  // Everything after the marker is read (the enclosing stream must move on) and dropped.
  internals._write = (data, callback) => (hasEnded ? callback(null) : write(data, callback));
  return extract;
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
