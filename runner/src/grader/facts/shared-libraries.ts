/**
 * What the dynamic loader reads before a program starts: the program's own list of needs
 * (its ELF dynamic section) and the loader's cache of where libraries are
 * (/etc/ld.so.cache, which `ldconfig` writes). Pure parsers over bytes the archive reader
 * kept; the search itself is judged in kinds/shared-libraries-resolve.ts.
 */

export interface ElfDynamicInfo {
  /** PT_INTERP: the loader the kernel starts first, e.g. /lib64/ld-linux-x86-64.so.2. */
  interpreter?: string;
  /** DT_NEEDED, in order: the libraries the program asks for by soname. */
  needed: string[];
  /** DT_RPATH and DT_RUNPATH, split on ":"; `$ORIGIN` is left for the caller to expand. */
  rpath: string[];
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/**
 * Reads the needs of an ELF file from its whole bytes. Undefined when the bytes are not an
 * ELF file, or are cut short (the dynamic section lies beyond them). A static program has
 * no dynamic section and needs nothing: `{ needed: [] }`.
 */
export function parseElfDynamic(bytes: Buffer): ElfDynamicInfo | undefined {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const isLittle = bytes[5] === 1;
  if (is64 && bytes.length < 64) return undefined;
  const u16 = (at: number) => (isLittle ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (isLittle ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number) => (is64 ? Number(isLittle ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : u32(at));
  const inBounds = (at: number, size: number) => at >= 0 && size >= 0 && at + size <= bytes.length;

  const headerOffset = word(is64 ? 32 : 28);
  const headerSize = u16(is64 ? 54 : 42);
  const headerCount = u16(is64 ? 56 : 44);
  if (headerSize < (is64 ? 56 : 32) || !inBounds(headerOffset, headerSize * headerCount)) return undefined;

  const loads: Array<{ vaddr: number; offset: number; fileSize: number }> = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interpreter: string | undefined;
  for (let index = 0; index < headerCount; index++) {
    const at = headerOffset + index * headerSize;
    const type = u32(at);
    const offset = word(is64 ? at + 8 : at + 4);
    const vaddr = word(is64 ? at + 16 : at + 8);
    const fileSize = word(is64 ? at + 32 : at + 16);
    if (type === PT_LOAD) loads.push({ vaddr, offset, fileSize });
    if (type === PT_DYNAMIC) dynamic = { offset, size: fileSize };
    if (type === PT_INTERP) {
      if (!inBounds(offset, fileSize) || fileSize < 2) return undefined;
      interpreter = bytes.subarray(offset, offset + fileSize - 1).toString('latin1');
    }
  }
  const withInterpreter = interpreter !== undefined ? { interpreter } : {};
  if (!dynamic) return { ...withInterpreter, needed: [], rpath: [], runpath: [] };
  if (!inBounds(dynamic.offset, dynamic.size)) return undefined;

  const entrySize = is64 ? 16 : 8;
  const entries: Array<{ tag: number; value: number }> = [];
  for (let at = dynamic.offset; at + entrySize <= dynamic.offset + dynamic.size; at += entrySize) {
    const tag = is64 ? word(at) : u32(at);
    if (tag === DT_NULL) break;
    entries.push({ tag, value: word(is64 ? at + 8 : at + 4) });
  }
  const stringTableAddress = entries.find((entry) => entry.tag === DT_STRTAB)?.value;
  const stringTableSize = entries.find((entry) => entry.tag === DT_STRSZ)?.value;
  if (stringTableAddress === undefined || stringTableSize === undefined) return undefined;
  // DT_STRTAB is an address in memory; the PT_LOAD segment holding it says where it is in the file.
  const segment = loads.find((load) => stringTableAddress >= load.vaddr && stringTableAddress < load.vaddr + load.fileSize);
  if (!segment) return undefined;
  const stringTable = segment.offset + (stringTableAddress - segment.vaddr);
  if (!inBounds(stringTable, stringTableSize)) return undefined;
  const stringAt = (offset: number): string | undefined => {
    if (offset >= stringTableSize) return undefined;
    const start = stringTable + offset;
    const end = bytes.indexOf(0, start);
    return end === -1 || end >= stringTable + stringTableSize ? undefined : bytes.subarray(start, end).toString('latin1');
  };
  const strings = (tag: number) =>
    entries.filter((entry) => entry.tag === tag).flatMap((entry) => {
      const text = stringAt(entry.value);
      return text === undefined ? [] : [text];
    });
  const searchPath = (tag: number) => strings(tag).flatMap((text) => text.split(':')).filter(Boolean);
  return { ...withInterpreter, needed: strings(DT_NEEDED), rpath: searchPath(DT_RPATH), runpath: searchPath(DT_RUNPATH) };
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
