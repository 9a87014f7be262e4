import { describe, expect, it } from 'vitest';
import { ElfLinkingReader, readElfHeader, readElfLinking } from '../../../runner/src/grader/facts/elf.js';

// The ELF reader on hand-built files of both widths and byte orders, whatever the chunks.

interface ElfOptions {
  is64?: boolean;
  isLittle?: boolean;
  type?: number;
  interpreter?: string;
  needed?: string[];
  rpath?: string;
  runpath?: string;
  /** Dynamic entries to write instead of those the strings give. */
  dynamic?: Array<[number, number]>;
  /** Where the string table goes: before the dynamic section (as linkers do) or after it. */
  stringTableAt?: number;
  dynamicAt?: number;
  noLoad?: boolean;
  fileSize?: number;
  noDynamicHeader?: boolean;
  dynamicSize?: number;
}

const base = 0x400000;

function elf(options: ElfOptions = {}): Buffer {
  const is64 = options.is64 ?? true;
  const isLittle = options.isLittle ?? true;
  const word = is64 ? 8 : 4;
  const stringTableAt = options.stringTableAt ?? 0x300;
  const dynamicAt = options.dynamicAt ?? 0x600;
  const strings = ['', ...(options.needed ?? []), ...(options.rpath !== undefined ? [options.rpath] : []), ...(options.runpath !== undefined ? [options.runpath] : [])];
  const offsets = new Map<string, number>();
  let table = '';
  for (const text of strings) {
    if (!offsets.has(text)) offsets.set(text, table.length);
    table += `${text}\0`;
  }
  const entries: Array<[number, number]> = options.dynamic ?? [
    ...(options.needed ?? []).map((name): [number, number] => [1, offsets.get(name)!]),
    ...(options.rpath !== undefined ? [[15, offsets.get(options.rpath)!] as [number, number]] : []),
    ...(options.runpath !== undefined ? [[29, offsets.get(options.runpath)!] as [number, number]] : []),
    [5, base + stringTableAt],
    [10, table.length],
    [0, 0],
  ];
  const entrySize = is64 ? 16 : 8;
  const dynamicSize = options.dynamicSize ?? entries.length * entrySize;
  const size = options.fileSize ?? Math.max(dynamicAt + dynamicSize, stringTableAt + table.length) + 64;
  const bytes = Buffer.alloc(size);
  const u16 = (at: number, value: number) => (isLittle ? bytes.writeUInt16LE(value, at) : bytes.writeUInt16BE(value, at));
  const u32 = (at: number, value: number) => (isLittle ? bytes.writeUInt32LE(value, at) : bytes.writeUInt32BE(value, at));
  const wordAt = (at: number, value: number) => (is64 ? (isLittle ? bytes.writeBigUInt64LE(BigInt(value), at) : bytes.writeBigUInt64BE(BigInt(value), at)) : u32(at, value));
  bytes.write('\x7fELF', 0, 'latin1');
  bytes[4] = is64 ? 2 : 1;
  bytes[5] = isLittle ? 1 : 2;
  bytes[6] = 1;
  u16(16, options.type ?? 3);
  const headerOffset = is64 ? 64 : 52;
  const programSize = is64 ? 56 : 32;
  const programs: Array<{ type: number; offset: number; vaddr: number; fileSize: number }> = [
    ...(options.interpreter !== undefined ? [{ type: 3, offset: 0x200, vaddr: base + 0x200, fileSize: options.interpreter.length + 1 }] : []),
    ...(options.noLoad ? [] : [{ type: 1, offset: 0, vaddr: base, fileSize: size }]),
    ...(options.noDynamicHeader ? [] : [{ type: 2, offset: dynamicAt, vaddr: base + dynamicAt, fileSize: dynamicSize }]),
  ];
  wordAt(is64 ? 32 : 28, headerOffset);
  u16(is64 ? 54 : 42, programSize);
  u16(is64 ? 56 : 44, programs.length);
  programs.forEach((program, index) => {
    const at = headerOffset + index * programSize;
    u32(at, program.type);
    wordAt(is64 ? at + 8 : at + 4, program.offset);
    wordAt(is64 ? at + 16 : at + 8, program.vaddr);
    wordAt(is64 ? at + 32 : at + 16, program.fileSize);
  });
  if (options.interpreter !== undefined) bytes.write(`${options.interpreter}\0`, 0x200, 'latin1');
  bytes.write(table, stringTableAt, 'latin1');
  entries.forEach(([tag, value], index) => {
    const at = dynamicAt + index * entrySize;
    if (at + entrySize > size) return;
    if (is64) {
      wordAt(at, tag);
      wordAt(at + word, value);
    } else {
      u32(at, tag);
      u32(at + 4, value);
    }
  });
  return bytes;
}

function streamed(bytes: Buffer, pieceSize: number) {
  const header = readElfHeader(bytes.subarray(0, 4096))!;
  const reader = new ElfLinkingReader(header);
  for (let offset = 0; offset < bytes.length; offset += pieceSize) reader.push(bytes.subarray(offset, offset + pieceSize));
  return reader.finish();
}

const program = { interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libgreet.so.1', 'libc.so.6'], rpath: '/opt/a::/opt/b', runpath: '$ORIGIN/../lib' };
const linked = { kind: 'dynamic', needed: ['libgreet.so.1', 'libc.so.6'], rpath: ['/opt/a', '/opt/b'], runpath: ['$ORIGIN/../lib'] };

describe('readElfHeader', () => {
  it('reads both widths and byte orders, with the loader a program asks for', () => {
    for (const is64 of [true, false]) {
      for (const isLittle of [true, false]) {
        const header = readElfHeader(elf({ ...program, is64, isLittle }));
        expect(header, `${is64} ${isLittle}`).toMatchObject({ is64, isLittle, type: 3, interpreter: '/lib64/ld-linux-x86-64.so.2', isExecutable: true });
        expect(header?.programHeaders.map((entry) => entry.type)).toEqual([3, 1, 2]);
        expect(header?.programHeaders[2]).toMatchObject({ offset: 0x600, vaddr: base + 0x600 });
      }
    }
  });

  it('calls ET_EXEC or a loader an executable, and a library without one not', () => {
    expect(readElfHeader(elf({ type: 2 }))).toMatchObject({ type: 2, isExecutable: true });
    expect(readElfHeader(elf({ type: 3 }))).toMatchObject({ type: 3, isExecutable: false });
    expect('interpreter' in readElfHeader(elf({ type: 3 }))!).toBe(false);
  });

  it('refuses what is not ELF, too short, or has its program headers out of reach', () => {
    expect(readElfHeader(Buffer.alloc(64))).toBeUndefined();
    expect(readElfHeader(elf().subarray(0, 51))).toBeUndefined();
    const bare = elf({ is64: false });
    bare.writeUInt16LE(0, 44);
    expect(readElfHeader(bare.subarray(0, 52))).toMatchObject({ is64: false, programHeaders: [] });
    expect(readElfHeader(bare.subarray(0, 51))).toBeUndefined();
    expect(readElfHeader(elf().subarray(0, 63))).toBeUndefined();
    expect(readElfHeader(elf().subarray(0, 64 + 56 * 2 - 1))).toBeUndefined();
    const tooSmall = elf();
    tooSmall.writeUInt16LE(55, 54);
    expect(readElfHeader(tooSmall)).toBeUndefined();
    const small32 = elf({ is64: false });
    small32.writeUInt16LE(31, 42);
    expect(readElfHeader(small32)).toBeUndefined();
    const none = elf();
    none.writeUInt16LE(0, 56);
    none.writeUInt16LE(0, 54);
    expect(readElfHeader(none)).toMatchObject({ programHeaders: [] });
  });

  it('ignores a loader name that is empty, too long or beyond the head', () => {
    expect(readElfHeader(elf({ interpreter: '' }))?.interpreter).toBeUndefined();
    expect(readElfHeader(elf({ interpreter: 'x' }))?.interpreter).toBe('x');
    expect(readElfHeader(elf({ interpreter: `/${'l'.repeat(253)}` }))?.interpreter).toBe(`/${'l'.repeat(253)}`);
    expect(readElfHeader(elf({ interpreter: `/${'l'.repeat(254)}` }))?.interpreter).toBeUndefined();
    const bytes = elf({ interpreter: '/lib/ld.so' });
    expect(readElfHeader(bytes.subarray(0, 0x200 + 10))?.interpreter).toBeUndefined();
    expect(readElfHeader(bytes.subarray(0, 0x200 + 11))?.interpreter).toBe('/lib/ld.so');
  });
});

describe('ElfLinkingReader', () => {
  it('reads the libraries and search paths, whatever the width, order and chunks', () => {
    for (const is64 of [true, false]) {
      for (const isLittle of [true, false]) {
        for (const pieceSize of [1, 7, 100, 1 << 20]) {
          expect(streamed(elf({ ...program, is64, isLittle }), pieceSize), `${is64} ${isLittle} ${pieceSize}`).toEqual(linked);
        }
      }
    }
  });

  it('collects a string table that comes after the dynamic section', () => {
    for (const pieceSize of [3, 64, 4096]) expect(streamed(elf({ ...program, stringTableAt: 0x900 }), pieceSize)).toEqual(linked);
  });

  it('calls a program without a dynamic section static, and an empty one or one naming nothing dynamic with no needs', () => {
    expect(streamed(elf({ noDynamicHeader: true }), 100)).toEqual({ kind: 'static' });
    expect(streamed(elf({ dynamicSize: 0 }), 100)).toEqual({ kind: 'dynamic', needed: [], rpath: [], runpath: [] });
    expect(streamed(elf({ dynamic: [[7, 1], [0, 0]] }), 100)).toEqual({ kind: 'dynamic', needed: [], rpath: [], runpath: [] });
  });

  it('stops at DT_NULL, and skips names past the string table', () => {
    expect(streamed(elf({ dynamic: [[5, base + 0x300], [10, 5], [0, 0], [1, 0]] }), 100)).toEqual({ kind: 'dynamic', needed: [], rpath: [], runpath: [] });
    const bytes = elf({ needed: ['liba.so'], dynamic: [[1, 1], [1, 50], [5, base + 0x300], [10, 9], [0, 0]] });
    expect(streamed(bytes, 100)).toEqual({ kind: 'dynamic', needed: ['liba.so'], rpath: [], runpath: [] });
    const unterminated = elf({ needed: ['liba.so'], dynamic: [[1, 1], [5, base + 0x300], [10, 5], [0, 0]] });
    expect(streamed(unterminated, 100)).toEqual({ kind: 'dynamic', needed: [], rpath: [], runpath: [] });
  });

  it('says why it could not tell', () => {
    expect(streamed(elf({ dynamicSize: 1024 * 1024 + 1, fileSize: 0x1000 }), 100)).toEqual({ kind: 'unknown', why: 'its dynamic section is implausibly large' });
    expect(streamed(elf({ needed: ['a'], dynamic: [[1, 1], [10, 3], [0, 0]] }), 100)).toEqual({ kind: 'unknown', why: 'its dynamic section names no usable string table' });
    expect(streamed(elf({ needed: ['a'], dynamic: [[1, 1], [5, base + 0x300], [0, 0]] }), 100)).toEqual({ kind: 'unknown', why: 'its dynamic section names no usable string table' });
    expect(streamed(elf({ needed: ['a'], dynamic: [[1, 1], [5, base + 0x300], [10, 1024 * 1024 + 1], [0, 0]] }), 100)).toEqual({
      kind: 'unknown',
      why: 'its dynamic section names no usable string table',
    });
    expect(streamed(elf({ ...program, noLoad: true }), 100)).toEqual({ kind: 'unknown', why: 'its string table is in no loaded segment' });
    const far = elf({ ...program, stringTableAt: 600_000, dynamicAt: 700_000 });
    expect(streamed(far, 65_536)).toEqual({ kind: 'unknown', why: 'its string table lies 600000 bytes into the file, before its dynamic section and beyond the 512 KiB the reader keeps' });
    expect(streamed(elf({ ...program, stringTableAt: 500_000, dynamicAt: 700_000 }), 65_536)).toEqual(linked);
    const whole = elf(program);
    expect(streamed(whole.subarray(0, 0x600 + 10), 100)).toEqual({ kind: 'unknown', why: 'the file ends before its dynamic section' });
    const late = elf({ ...program, stringTableAt: 0x900 });
    expect(streamed(late.subarray(0, 0x905), 100)).toEqual({ kind: 'unknown', why: 'the file ends before the string table of its dynamic section' });
  });

  it('finds the string table through a segment that does not start at the file’s start, and at the segment’s edges', () => {
    expect(readElfLinking(elf(program))?.linking).toEqual(linked);
    expect(readElfLinking(Buffer.from('not elf'))).toBeUndefined();
    const onEdge = elf({ needed: ['a'], dynamic: [[1, 1], [5, base + 0x300], [10, 3], [0, 0]], stringTableAt: 0x300 });
    expect(readElfLinking(onEdge)?.linking).toMatchObject({ kind: 'dynamic' });
  });
});
