/**
 * The one ELF reader: what a program's own bytes say the kernel and the dynamic loader need
 * before it can run. Read while the bytes stream past (any size, memory bounded), so a
 * check never depends on a program being small enough to keep.
 *
 * - The ELF header and program headers (the first page): the file type, the loader the
 *   kernel starts first (PT_INTERP), and where the dynamic section is (PT_DYNAMIC).
 * - The dynamic section, wherever it lies: the libraries named (DT_NEEDED) and the search
 *   paths (DT_RPATH, DT_RUNPATH). Their strings sit in the string table DT_STRTAB points at,
 *   an address mapped to a file offset through the PT_LOAD segments. Linkers put it before
 *   the dynamic section, near the start of the file, so the start of the file is kept (up to
 *   `keptStartBytes`) until the dynamic section has gone by.
 * See the System V ABI (gABI) chapter 5, "Program Loading and Dynamic Linking".
 */

import type { ElfLinking } from '../types.js';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const ET_EXEC = 2;

/** How much of a file's start is kept while waiting for its dynamic section. */
const keptStartBytes = 512 * 1024;
/** A dynamic section or string table bigger than this is not a real program's. */
const maxTableBytes = 1024 * 1024;

interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  fileSize: number;
}

export interface ElfHeader {
  is64: boolean;
  isLittle: boolean;
  /** e_type: 2 for ET_EXEC, 3 for ET_DYN (PIE programs and libraries). */
  type: number;
  /** PT_INTERP: the loader the kernel starts first, e.g. /lib64/ld-linux-x86-64.so.2. */
  interpreter?: string;
  /** An executable rather than a library: ET_EXEC, or ET_DYN with a loader. */
  isExecutable: boolean;
  programHeaders: ProgramHeader[];
}

/**
 * Reads the ELF header and program headers from the first bytes of a file. Undefined when
 * the bytes are not ELF or the program headers lie beyond them.
 */
export function readElfHeader(head: Buffer): ElfHeader | undefined {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const isLittle = head[5] === 1;
  if (is64 && head.length < 64) return undefined;
  const read = reader(head, is64, isLittle);
  const type = read.u16(16);
  const headerOffset = read.word(is64 ? 32 : 28);
  const headerSize = read.u16(is64 ? 54 : 42);
  const headerCount = read.u16(is64 ? 56 : 44);
  if (headerCount > 0 && headerSize < (is64 ? 56 : 32)) return undefined;
  if (headerOffset + headerSize * headerCount > head.length) return undefined;
  const programHeaders: ProgramHeader[] = [];
  let interpreter: string | undefined;
  for (let index = 0; index < headerCount; index++) {
    const at = headerOffset + index * headerSize;
    const header = {
      type: read.u32(at),
      offset: read.word(is64 ? at + 8 : at + 4),
      vaddr: read.word(is64 ? at + 16 : at + 8),
      fileSize: read.word(is64 ? at + 32 : at + 16),
    };
    programHeaders.push(header);
    if (header.type === PT_INTERP && header.offset + header.fileSize <= head.length && header.fileSize > 1 && header.fileSize < 256) {
      interpreter = head.subarray(header.offset, header.offset + header.fileSize - 1).toString('latin1');
    }
  }
  return {
    is64,
    isLittle,
    type,
    ...(interpreter !== undefined ? { interpreter } : {}),
    isExecutable: type === ET_EXEC || interpreter !== undefined,
    programHeaders,
  };
}

/**
 * Follows one ELF file's bytes as they stream past and works out how it is linked. Give it
 * the header read from the file's first bytes, `push` every chunk from the start of the
 * file, then `finish`.
 */
export class ElfLinkingReader {
  readonly #header: ElfHeader;
  readonly #dynamic: ProgramHeader | undefined;
  #offset = 0;
  #start: Buffer[] = [];
  #startLength = 0;
  #dynamicBytes: Buffer | undefined;
  #stringTableWanted: { offset: number; size: number } | undefined;
  #result: ElfLinking | undefined;

  constructor(header: ElfHeader) {
    this.#header = header;
    this.#dynamic = header.programHeaders.find((program) => program.type === PT_DYNAMIC);
    if (!this.#dynamic) this.#result = { kind: 'static' };
    else if (this.#dynamic.fileSize === 0) this.#result = { kind: 'dynamic', needed: [], rpath: [], runpath: [] };
    else if (this.#dynamic.fileSize > maxTableBytes) this.#result = { kind: 'unknown', why: 'its dynamic section is implausibly large' };
  }

  push(chunk: Buffer): void {
    if (this.#result) return;
    const chunkStart = this.#offset;
    this.#offset += chunk.length;
    if (this.#startLength < keptStartBytes && chunkStart === this.#startLength) {
      const part = chunk.subarray(0, keptStartBytes - this.#startLength);
      this.#start.push(Buffer.from(part));
      this.#startLength += part.length;
    }
    const dynamic = this.#dynamic!;
    if (!this.#dynamicBytes) {
      this.#collect(chunk, chunkStart, dynamic.offset, dynamic.fileSize, (bytes) => (this.#dynamicBytes = bytes));
      if (this.#dynamicBytes) this.#afterDynamic(chunkStart);
    }
    // The string table may come later, in this chunk or another.
    if (!this.#result && this.#stringTableWanted) {
      const wanted = this.#stringTableWanted;
      this.#collect(chunk, chunkStart, wanted.offset, wanted.size, (bytes) => {
        this.#result = this.#parse(this.#dynamicBytes!, bytes, wanted.size);
      });
    }
  }

  finish(): ElfLinking {
    if (this.#result) return this.#result;
    return { kind: 'unknown', why: this.#dynamicBytes ? 'the file ends before the string table of its dynamic section' : 'the file ends before its dynamic section' };
  }

  /** Bytes of [offset, offset + size) accumulate across chunks; `done` gets them once whole. */
  #pending: { offset: number; size: number; parts: Buffer[]; length: number } | undefined;

  #collect(chunk: Buffer, chunkStart: number, offset: number, size: number, done: (bytes: Buffer) => void): void {
    const chunkEnd = chunkStart + chunk.length;
    if (chunkEnd <= offset || chunkStart >= offset + size) return;
    if (!this.#pending || this.#pending.offset !== offset) this.#pending = { offset, size, parts: [], length: 0 };
    const from = Math.max(offset, chunkStart) - chunkStart;
    const to = Math.min(offset + size, chunkEnd) - chunkStart;
    this.#pending.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.#pending.length += to - from;
    if (this.#pending.length >= size) {
      const bytes = Buffer.concat(this.#pending.parts);
      this.#pending = undefined;
      done(bytes);
    }
  }

  #afterDynamic(chunkStart: number): void {
    const entries = this.#entries(this.#dynamicBytes!);
    const stringTableAddress = entries.find((entry) => entry.tag === DT_STRTAB)?.value;
    const stringTableSize = entries.find((entry) => entry.tag === DT_STRSZ)?.value;
    const namesStrings = entries.some((entry) => entry.tag === DT_NEEDED || entry.tag === DT_RPATH || entry.tag === DT_RUNPATH);
    if (!namesStrings) {
      // A static PIE has a dynamic section for its own relocations, and needs nothing.
      this.#result = { kind: 'dynamic', needed: [], rpath: [], runpath: [] };
      return;
    }
    if (stringTableAddress === undefined || stringTableSize === undefined || stringTableSize > maxTableBytes) {
      this.#result = { kind: 'unknown', why: 'its dynamic section names no usable string table' };
      return;
    }
    // DT_STRTAB is an address in memory; the PT_LOAD segment holding it says where it is in the file.
    const segment = this.#header.programHeaders.find(
      (program) => program.type === PT_LOAD && stringTableAddress >= program.vaddr && stringTableAddress < program.vaddr + program.fileSize,
    );
    if (!segment) {
      this.#result = { kind: 'unknown', why: 'its string table is in no loaded segment' };
      return;
    }
    const offset = segment.offset + (stringTableAddress - segment.vaddr);
    if (offset + stringTableSize <= this.#startLength) {
      const start = Buffer.concat(this.#start);
      this.#result = this.#parse(this.#dynamicBytes!, start.subarray(offset, offset + stringTableSize), stringTableSize);
    } else if (offset >= chunkStart) {
      // Still to come (or in the chunk that ended the dynamic section): collected as it passes.
      this.#stringTableWanted = { offset, size: stringTableSize };
    } else {
      this.#result = { kind: 'unknown', why: `its string table lies ${offset} bytes into the file, before its dynamic section and beyond the ${keptStartBytes / 1024} KiB the reader keeps` };
    }
    this.#start = [];
  }

  #entries(dynamic: Buffer): Array<{ tag: number; value: number }> {
    const { is64, isLittle } = this.#header;
    const read = reader(dynamic, is64, isLittle);
    const entrySize = is64 ? 16 : 8;
    const entries: Array<{ tag: number; value: number }> = [];
    for (let at = 0; at + entrySize <= dynamic.length; at += entrySize) {
      const tag = is64 ? read.word(at) : read.u32(at);
      if (tag === DT_NULL) break;
      entries.push({ tag, value: read.word(is64 ? at + 8 : at + 4) });
    }
    return entries;
  }

  #parse(dynamic: Buffer, stringTable: Buffer, size: number): ElfLinking {
    const entries = this.#entries(dynamic);
    const stringAt = (offset: number): string | undefined => {
      if (offset >= size) return undefined;
      const end = stringTable.indexOf(0, offset);
      return end === -1 ? undefined : stringTable.subarray(offset, end).toString('latin1');
    };
    const strings = (tag: number) =>
      entries.filter((entry) => entry.tag === tag).flatMap((entry) => {
        const text = stringAt(entry.value);
        return text === undefined ? [] : [text];
      });
    const searchPath = (tag: number) => strings(tag).flatMap((text) => text.split(':')).filter(Boolean);
    return { kind: 'dynamic', needed: strings(DT_NEEDED), rpath: searchPath(DT_RPATH), runpath: searchPath(DT_RUNPATH) };
  }
}

/** Reads how a whole file in memory is linked; undefined when it is not ELF. */
export function readElfLinking(bytes: Buffer): { header: ElfHeader; linking: ElfLinking } | undefined {
  const header = readElfHeader(bytes.subarray(0, 64 * 1024));
  if (!header) return undefined;
  const linking = new ElfLinkingReader(header);
  linking.push(bytes);
  return { header, linking: linking.finish() };
}

function reader(bytes: Buffer, is64: boolean, isLittle: boolean) {
  const u16 = (at: number) => (isLittle ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (isLittle ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number) => (is64 ? Number(isLittle ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : u32(at));
  return { u16, u32, word };
}
