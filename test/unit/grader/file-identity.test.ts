import { describe, expect, it } from 'vitest';
import { readElfHeader } from '../../../runner/src/grader/facts/elf.js';
import { buildToolByName, ExecutableIdentifier, parseGoBuildInfo } from '../../../runner/src/grader/facts/file-identity.js';
import { elfHead, goBinary, goBuildInfo, nativeBinary } from './builders.js';

function identify(path: string, bytes: Buffer, mode = 0o755, pieceSize = 4093) {
  const identifier = new ExecutableIdentifier(path, mode);
  for (let offset = 0; offset < bytes.length; offset += pieceSize) identifier.push(bytes.subarray(offset, offset + pieceSize));
  return identifier.finish();
}

describe('identifying executables by their bytes', () => {
  it('names a Go toolchain binary from its build info, wherever it sits and whatever it is called', () => {
    expect(identify('opt/x/formatter', goBinary('cmd/gofmt'))).toMatchObject({ kind: 'build-tool', family: 'go', tool: 'gofmt' });
    expect(identify('usr/lib/go/pkg/tool/linux_amd64/compile', goBinary('cmd/compile'))).toMatchObject({ family: 'go', tool: 'compile' });
  });

  it('finds build info split across chunk boundaries', () => {
    for (const pieceSize of [1, 7, 4096, 65536]) {
      expect(identify('x', goBinary('cmd/link', 9000), 0o755, pieceSize)).toMatchObject({ family: 'go', tool: 'link' });
    }
  });

  it('keeps the loader a cgo-built Go program asks for', () => {
    const bytes = Buffer.concat([elfHead({ goNote: true, interpreter: '/lib64/ld-linux-x86-64.so.2' }), Buffer.alloc(5000), goBuildInfo('example.com/hello'), Buffer.alloc(2000)]);
    expect(identify('hello', bytes)).toEqual({ kind: 'go-program', mainPath: 'example.com/hello', interpreter: '/lib64/ld-linux-x86-64.so.2', linking: { kind: 'static' } });
  });

  it('treats the learner\'s own Go program as a program, even when it is called go', () => {
    expect(identify('usr/local/bin/go', goBinary('example.com/layerlab/hello'))).toEqual({ kind: 'go-program', mainPath: 'example.com/layerlab/hello', linking: { kind: 'static' } });
  });

  it('skips a false build-info magic (cmd/link holds the magic string itself) and finds the real one after it', () => {
    const fake = Buffer.from('\xff Go buildinf:runtime.egcbss', 'latin1');
    const bytes = Buffer.concat([elfHead({ goNote: true }), Buffer.alloc(3000), fake, Buffer.alloc(3000), goBuildInfo('cmd/link'), Buffer.alloc(2000)]);
    expect(identify('x', bytes)).toMatchObject({ family: 'go', tool: 'link' });
  });

  it('recognises gcc\'s driver, its compiler proper, make and git by their strings', () => {
    expect(identify('usr/bin/x86_64-linux-gnu-gcc-14', nativeBinary(['Usage: %s [options] file...', 'COLLECT_GCC']))).toMatchObject({ family: 'c-compiler', tool: 'gcc' });
    expect(identify('usr/libexec/gcc/x86_64-linux-gnu/14/cc1', nativeBinary(['GNU GIMPLE', 'COLLECT_GCC_OPTIONS']))).toMatchObject({ family: 'c-compiler', tool: 'cc1' });
    expect(identify('srv/helper', nativeBinary(['%sGNU Make %s']))).toMatchObject({ family: 'make', tool: 'make' });
    expect(identify('srv/vcs', nativeBinary(['GIT_EXEC_PATH']))).toMatchObject({ family: 'git', tool: 'git' });
  });

  it('says busybox is busybox, not a build tool, whatever name it has', () => {
    expect(identify('bin/make', nativeBinary(['BusyBox v1.37.0']))).toEqual({ kind: 'busybox' });
  });

  it('falls back to the name only when the bytes say nothing', () => {
    expect(identify('usr/bin/gcc', nativeBinary(['nothing to see']))).toMatchObject({ family: 'c-compiler', evidence: 'an executable named gcc' });
    expect(identify('usr/bin/c99-gcc', Buffer.from('#!/bin/sh\nexec gcc -std=c99 "$@"\n'))).toMatchObject({ family: 'c-compiler' });
    expect(identify('usr/bin/gcc-ar', nativeBinary(['nothing']))).toEqual({ kind: 'elf', linking: { kind: 'static' } });
  });

  it('ignores files that are neither ELF nor executable, even with a tool\'s name', () => {
    expect(identify('usr/share/doc/make', Buffer.from('GNU Make manual'), 0o644)).toBeUndefined();
    expect(identify('usr/lib/libfoo.so', nativeBinary(['GNU Make']).fill(0, 16, 18), 0o644)).toBeUndefined();
  });

  it('reads the program interpreter of a dynamically linked executable', () => {
    expect(identify('server', nativeBinary([], { interpreter: '/lib64/ld-linux-x86-64.so.2' }))).toEqual({ kind: 'elf', interpreter: '/lib64/ld-linux-x86-64.so.2', linking: { kind: 'static' } });
    expect(readElfHeader(elfHead({ type: 3, interpreter: '/lib/ld-musl-x86_64.so.1' }))).toMatchObject({ isExecutable: true, interpreter: '/lib/ld-musl-x86_64.so.1' });
    expect(readElfHeader(Buffer.from('not an elf at all, just text that is long enough to look at'))).toBeUndefined();
  });

  it('identifies a file shorter than the head it would like to read', () => {
    expect(identify('bin/tiny', Buffer.from('#!/bin/sh\necho hi\n'))).toEqual({ kind: 'script', interpreter: '/bin/sh' });
  });
});

describe('parseGoBuildInfo', () => {
  it('reads the version and the main package path', () => {
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', 'go1.24.4'))).toEqual({ version: 'go1.24.4', mainPath: 'cmd/go' });
  });

  it('rejects bytes that only start with the magic', () => {
    expect(parseGoBuildInfo(Buffer.concat([Buffer.from('\xff Go buildinf:runtime.egcbssmain..inittask', 'latin1'), Buffer.alloc(64)]))).toBeUndefined();
  });
});

describe('buildToolByName', () => {
  it('knows the tools by their usual names and the Go tool directory', () => {
    expect(buildToolByName('usr/bin/x86_64-linux-gnu-gcc-14')?.family).toBe('c-compiler');
    expect(buildToolByName('usr/lib/go-1.24/pkg/tool/linux_amd64/vet')).toEqual({ family: 'go', tool: 'vet' });
    expect(buildToolByName('usr/bin/gmake')?.family).toBe('make');
    expect(buildToolByName('bin/sh')).toBeUndefined();
    expect(buildToolByName('usr/bin/gcc-nm-14')).toBeUndefined();
  });
});
