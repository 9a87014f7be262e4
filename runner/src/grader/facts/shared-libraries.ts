import { formatSize } from '../describe.js';
import { maxKeptFileBytes, type FileFacts, type LoaderCacheFacts } from '../types.js';
import { resolvePath } from './merged-view.js';

/**
 * The dynamic loader's cache of where libraries are (/etc/ld.so.cache, which `ldconfig`
 * writes), read while gathering facts. What a program itself asks for is read by the one
 * ELF reader (elf.ts); the search is judged in kinds/shared-libraries-resolve.ts.
 */

export const loaderCachePath = '/etc/ld.so.cache';

/** The loader cache of an image's merged view; its bytes are kept only when a check asked for them. */
export function readLoaderCache(files: ReadonlyMap<string, FileFacts>): LoaderCacheFacts {
  const resolved = resolvePath(files, loaderCachePath);
  const file = resolved !== undefined ? files.get(resolved) : undefined;
  if (!file || file.type !== 'file') return { state: 'absent' };
  if (!file.content) {
    return { state: 'unreadable', why: file.sizeBytes > maxKeptFileBytes ? `it is bigger than ${formatSize(maxKeptFileBytes)}` : 'its bytes were not read' };
  }
  const libraries = parseLdSoCache(file.content);
  return libraries ? { state: 'read', libraries } : { state: 'unreadable', why: 'it is not in the format glibc 2.32 and later write' };
}

const cacheMagic = Buffer.from('glibc-ld.so.cache1.1', 'latin1');
const cacheHeaderBytes = 48;
const cacheEntryBytes = 24;

/**
 * Reads /etc/ld.so.cache in the format glibc 2.32 and later writes (`glibc-ld.so.cache1.1`,
 * see glibc's sysdeps/generic/dl-cache.h): soname → paths, in the cache's order. Undefined
 * for anything else, such as the old `ld.so-1.7.0` format.
 */
export function parseLdSoCache(bytes: Buffer): Map<string, string[]> | undefined {
  if (bytes.length < cacheHeaderBytes || !bytes.subarray(0, cacheMagic.length).equals(cacheMagic)) return undefined;
  const count = bytes.readUInt32LE(20);
  if (cacheHeaderBytes + count * cacheEntryBytes > bytes.length) return undefined;
  const stringAt = (offset: number): string | undefined => {
    const end = bytes.indexOf(0, offset);
    return offset >= bytes.length || end === -1 ? undefined : bytes.subarray(offset, end).toString('latin1');
  };
  const libraries = new Map<string, string[]>();
  for (let index = 0; index < count; index++) {
    const at = cacheHeaderBytes + index * cacheEntryBytes;
    // Offsets count from the start of the new-format header, which is the file's start here.
    const soname = stringAt(bytes.readUInt32LE(at + 4));
    const libraryPath = stringAt(bytes.readUInt32LE(at + 8));
    if (soname === undefined || libraryPath === undefined) return undefined;
    libraries.set(soname, [...(libraries.get(soname) ?? []), libraryPath]);
  }
  return libraries;
}
