import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfLinkingReader, readElfHeader, readElfLinking } from '../../../runner/src/grader/facts/elf.js';
import { ExecutableIdentifier } from '../../../runner/src/grader/facts/file-identity.js';
import { parseLdSoCache, readLoaderCache } from '../../../runner/src/grader/facts/shared-libraries.js';
import { sharedLibrariesResolve } from '../../../runner/src/grader/kinds/shared-libraries-resolve.js';
import type { FileFacts, ImageFacts } from '../../../runner/src/grader/types.js';
import { facts as factsOf, layer } from './builders.js';

/**
 * Real bytes from the sandbox: greet as exercises/lesson-8/solution builds it (gcc 14,
 * Debian trixie) and the /etc/ld.so.cache of that image after `RUN ldconfig`.
 */
const greet = readFileSync(new URL('../../fixtures/elf/greet', import.meta.url));
const cacheWithGreet = readFileSync(new URL('../../fixtures/elf/ld.so.cache', import.meta.url));

const loader = '/lib64/ld-linux-x86-64.so.2';

/**
 * A small 64-bit ELF program with one PT_LOAD segment at address 0x400000, so the dynamic
 * section's string table has to be found through the segment, as in a real file.
 */
function dynamicElf(options: { interpreter?: string; needed?: string[]; rpath?: string; runpath?: string }): Buffer {
  const base = 0x400000;
  const strings: string[] = ['', ...(options.needed ?? []), ...(options.rpath ? [options.rpath] : []), ...(options.runpath ? [options.runpath] : [])];
  const offsets = new Map<string, number>();
  let table = '';
  for (const text of strings) {
    offsets.set(text, table.length);
    table += `${text}\0`;
  }
  const headerCount = options.interpreter ? 3 : 2;
  const interpAt = 64 + 56 * headerCount;
  const interpText = options.interpreter ? `${options.interpreter}\0` : '';
  const strtabAt = interpAt + interpText.length;
  const dynamicEntries: Array<[number, number]> = [
    ...(options.needed ?? []).map((name): [number, number] => [1, offsets.get(name)!]),
    ...(options.rpath ? [[15, offsets.get(options.rpath)!] as [number, number]] : []),
    ...(options.runpath ? [[29, offsets.get(options.runpath)!] as [number, number]] : []),
    [5, base + strtabAt],
    [10, table.length],
    [0, 0],
  ];
  const dynamicAt = strtabAt + table.length + (8 - ((strtabAt + table.length) % 8)) % 8;
  const size = dynamicAt + dynamicEntries.length * 16;
  const bytes = Buffer.alloc(size);
  bytes.write('\x7fELF', 0, 'latin1');
  bytes[4] = 2;
  bytes[5] = 1;
  bytes[6] = 1;
  bytes.writeUInt16LE(3, 16); // ET_DYN, as gcc's PIE programs are
  bytes.writeBigUInt64LE(64n, 32);
  bytes.writeUInt16LE(56, 54);
  bytes.writeUInt16LE(headerCount, 56);
  const programHeader = (index: number, type: number, offset: number, length: number) => {
    const at = 64 + index * 56;
    bytes.writeUInt32LE(type, at);
    bytes.writeBigUInt64LE(BigInt(offset), at + 8);
    bytes.writeBigUInt64LE(BigInt(base + offset), at + 16);
    bytes.writeBigUInt64LE(BigInt(length), at + 32);
  };
  programHeader(0, 1, 0, size);
  programHeader(1, 2, dynamicAt, dynamicEntries.length * 16);
  if (options.interpreter) programHeader(2, 3, interpAt, interpText.length);
  bytes.write(interpText, interpAt, 'latin1');
  bytes.write(table, strtabAt, 'latin1');
  dynamicEntries.forEach(([tag, value], index) => {
    bytes.writeBigUInt64LE(BigInt(tag), dynamicAt + index * 16);
    bytes.writeBigUInt64LE(BigInt(value), dynamicAt + index * 16 + 8);
  });
  return bytes;
}

const file = (filePath: string, extra: Partial<FileFacts> = {}): FileFacts => ({ path: filePath, type: 'file', sizeBytes: extra.content?.length ?? 1000, mode: 0o755, layer: 0, ...extra });

/** A program as the archive reader records it: its bytes streamed past the one ELF reader, in pieces. */
function program(filePath: string, bytes: Buffer, pieceSize = 4093): FileFacts {
  const identifier = new ExecutableIdentifier(filePath, 0o755);
  for (let offset = 0; offset < bytes.length; offset += pieceSize) identifier.push(bytes.subarray(offset, offset + pieceSize));
  const identity = identifier.finish();
  return file(filePath, { sizeBytes: bytes.length, ...(identity ? { identity } : {}) });
}

/** Facts as gathering makes them: the loader cache read from the merged view. */
function facts(overrides: Partial<ImageFacts> = {}, files: FileFacts[] = []): ImageFacts {
  const image = factsOf(overrides, files);
  return { ...image, loaderCache: readLoaderCache(image.files) };
}
const link = (filePath: string, target: string): FileFacts => ({ path: filePath, type: 'symlink', sizeBytes: 0, mode: 0o777, linkTarget: target, layer: 0 });

/** What debian:trixie-slim brings that matters here: merged /usr, the loader and libc. */
const debianBase: FileFacts[] = [
  link('lib', 'usr/lib'),
  link('lib64', 'usr/lib64'),
  file('usr/lib/x86_64-linux-gnu/libc.so.6'),
  file('usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
  link('usr/lib64/ld-linux-x86-64.so.2', '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
];

const check = { executable: '/usr/local/bin/greet' };

describe('the ELF reader', () => {
  it('reads the loader and needed libraries of a real gcc-built program, whatever the pieces it streams in', () => {
    for (const pieceSize of [1, 100, 4096, 1 << 20]) {
      expect(program('usr/local/bin/greet', greet, pieceSize).identity).toEqual({
        kind: 'elf',
        interpreter: loader,
        linking: { kind: 'dynamic', needed: ['libgreet.so.1', 'libc.so.6'], rpath: [], runpath: [] },
      });
    }
  });

  it('finds the string table through the PT_LOAD segment and splits search paths on ":"', () => {
    const bytes = dynamicElf({ interpreter: loader, needed: ['libgreet.so.1'], runpath: '$ORIGIN/../lib:/opt/lib' });
    expect(readElfLinking(bytes)).toMatchObject({ header: { interpreter: loader }, linking: { kind: 'dynamic', needed: ['libgreet.so.1'], rpath: [], runpath: ['$ORIGIN/../lib', '/opt/lib'] } });
  });

  it('reads a big program, its dynamic section far into the file, without keeping it', () => {
    const padded = Buffer.concat([greet, Buffer.alloc(3_000_000, 0x90)]);
    // Move the dynamic section past the padding: the reader must follow the program header there.
    const header = readElfHeader(padded)!;
    const dynamic = header.programHeaders.find((program) => program.type === 2)!;
    const moved = Buffer.concat([padded, greet.subarray(dynamic.offset, dynamic.offset + dynamic.fileSize)]);
    const phdr = 64 + header.programHeaders.indexOf(dynamic) * 56;
    moved.writeBigUInt64LE(BigInt(padded.length), phdr + 8);
    const reader = new ElfLinkingReader(readElfHeader(moved)!);
    for (let offset = 0; offset < moved.length; offset += 65536) reader.push(moved.subarray(offset, offset + 65536));
    expect(reader.finish()).toEqual({ kind: 'dynamic', needed: ['libgreet.so.1', 'libc.so.6'], rpath: [], runpath: [] });
  });

  it('says a file that is not ELF cannot be read, and one cut short is unknown', () => {
    expect(readElfLinking(Buffer.from('#!/bin/sh\necho hello\n'))).toBeUndefined();
    expect(readElfLinking(greet.subarray(0, 2000))?.linking).toMatchObject({ kind: 'unknown', why: 'the file ends before its dynamic section' });
  });
});

describe('parseLdSoCache', () => {
  it('maps sonames to paths in a cache written by ldconfig on Debian trixie', () => {
    const cache = parseLdSoCache(cacheWithGreet)!;
    expect(cache.get('libgreet.so.1')).toEqual(['/usr/local/lib/libgreet.so.1']);
    expect(cache.get('libc.so.6')).toEqual(['/lib/x86_64-linux-gnu/libc.so.6']);
  });

  it('refuses other formats', () => {
    expect(parseLdSoCache(Buffer.from('ld.so-1.7.0\0\0\0\0\0'.padEnd(64, '\0')))).toBeUndefined();
  });
});

describe('shared-libraries-resolve', () => {
  const greetAt = program('usr/local/bin/greet', greet);

  it('passes when ldconfig put the library in the cache', () => {
    const outcome = sharedLibrariesResolve.evaluate(
      facts({}, [...debianBase, greetAt, file('usr/local/lib/libgreet.so.1'), file('etc/ld.so.cache', { content: cacheWithGreet })]),
      check,
    );
    expect(outcome.status).toBe('pass');
    expect(outcome.actual).toContain('libgreet.so.1 → /usr/local/lib/libgreet.so.1 (/etc/ld.so.cache)');
    expect(outcome.actual).toContain('libc.so.6 → /lib/x86_64-linux-gnu/libc.so.6');
  });

  it('fails when the library sits in /usr/local/lib but the cache does not list it, and says where it is', () => {
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...debianBase, greetAt, file('usr/local/lib/libgreet.so.1')]), check);
    expect(outcome.status).toBe('fail');
    expect(outcome.actual).toBe('libgreet.so.1 not found');
    expect(outcome.message).toContain('/usr/local/bin/greet needs libgreet.so.1, and the loader would not find it');
    expect(outcome.message).toContain('/etc/ld.so.cache (there is none)');
    expect(outcome.message).toContain('The image does have /usr/local/lib/libgreet.so.1, but not where the loader looks.');
  });

  it('follows LD_LIBRARY_PATH from the image environment', () => {
    const outcome = sharedLibrariesResolve.evaluate(
      facts({ config: { ...facts().config, env: ['PATH=/usr/bin', 'LD_LIBRARY_PATH=/usr/local/lib'] } }, [...debianBase, greetAt, file('usr/local/lib/libgreet.so.1')]),
      check,
    );
    expect(outcome).toMatchObject({ status: 'pass' });
    expect(outcome.actual).toContain('(LD_LIBRARY_PATH)');
  });

  it('expands $ORIGIN in DT_RUNPATH to the folder of the program', () => {
    const greetInApp = program('app/bin/greet', dynamicElf({ interpreter: loader, needed: ['libgreet.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib' }));
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...debianBase, greetInApp, file('app/lib/libgreet.so.1')]), { executable: '/app/bin/greet' });
    expect(outcome).toMatchObject({ status: 'pass' });
    expect(outcome.actual).toContain('libgreet.so.1 → /app/lib/libgreet.so.1 (DT_RUNPATH)');
  });

  it('finds a library in the built-in folders through the /lib symlink', () => {
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...debianBase, greetAt, file('usr/lib/libgreet.so.1')]), check);
    expect(outcome).toMatchObject({ status: 'pass' });
    expect(outcome.actual).toContain('libgreet.so.1 → /lib/libgreet.so.1 (built-in search path)');
  });

  it('fails on busybox when the glibc loader and libc are missing, explaining the "no such file" error', () => {
    const busybox: FileFacts[] = [file('bin/busybox'), link('bin/sh', 'busybox')];
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...busybox, greetAt, file('usr/lib/libgreet.so.1')]), check);
    expect(outcome.status).toBe('fail');
    expect(outcome.actual).toBe('no loader /lib64/ld-linux-x86-64.so.2, libc.so.6 not found');
    expect(outcome.message).toContain('its loader /lib64/ld-linux-x86-64.so.2 is not in the image');
    expect(outcome.message).toContain('exec /usr/local/bin/greet: no such file or directory');
    expect(outcome.message).toContain('No file named libc.so.6 is anywhere in the image.');
  });

  it('passes on busybox once the loader and libc are copied next to the program', () => {
    const files: FileFacts[] = [file('bin/busybox'), greetAt, file('usr/lib/libgreet.so.1'), file('usr/lib/libc.so.6'), file('lib64/ld-linux-x86-64.so.2')];
    expect(sharedLibrariesResolve.evaluate(facts({}, files), check)).toMatchObject({ status: 'pass' });
  });

  it('passes a statically linked program of any size, which needs nothing', () => {
    const bytes = Buffer.concat([dynamicElf({}), Buffer.alloc(900_000, 0x90)]);
    // No PT_DYNAMIC at all: strip it by giving a program with one PT_LOAD only, as gcc -static makes (ET_EXEC).
    bytes.writeUInt16LE(1, 56);
    bytes.writeUInt16LE(2, 16);
    expect(sharedLibrariesResolve.evaluate(facts({}, [program('usr/local/bin/greet', bytes)]), check)).toMatchObject({ status: 'pass', actual: 'linked statically: needs no loader or library' });
  });

  it('fails when the program is missing and names a file of that name elsewhere', () => {
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...debianBase, program('src/greet', greet)]), check);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'no /usr/local/bin/greet' });
    expect(outcome.message).toBe('/usr/local/bin/greet is not in the image. The image has /src/greet.');
  });

  it('cannot decide, and does not pass, when the program is cut short', () => {
    const outcome = sharedLibrariesResolve.evaluate(facts({}, [...debianBase, program('usr/local/bin/greet', greet.subarray(0, 5000))]), check);
    expect(outcome.status).toBe('skip');
    expect(outcome.message).toBe('Could not tell which libraries /usr/local/bin/greet needs: the file ends before its dynamic section.');
  });

  it('fails a script or a file that is not a program', () => {
    const script = program('usr/local/bin/greet', Buffer.from('#!/bin/sh\necho hello, world\n'));
    expect(sharedLibrariesResolve.evaluate(facts({}, [...debianBase, script]), check).message).toBe('/usr/local/bin/greet is a script for /bin/sh, so it names no loader or libraries of its own.');
  });

  it('skips a missing library when a layer could not be read', () => {
    const outcome = sharedLibrariesResolve.evaluate(
      facts({ layers: [layer(0), layer(1, { unreadable: 'truncated tar' })] }, [...debianBase, greetAt]),
      check,
    );
    expect(outcome.status).toBe('skip');
    expect(outcome.message).toContain('could not be read: truncated tar');
  });

  it('asks for the loader cache to be kept; the program is read as it streams past, whatever its size', () => {
    expect(sharedLibrariesResolve.probes!(check)).toEqual({ fileContents: ['/etc/ld.so.cache'] });
  });

  it('rejects a relative or wildcard path', () => {
    expect(sharedLibrariesResolve.params.safeParse({ executable: 'greet' }).success).toBe(false);
    expect(sharedLibrariesResolve.params.safeParse({ executable: '/usr/*/greet' }).success).toBe(false);
  });
});
