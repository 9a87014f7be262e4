import { describe, expect, it } from 'vitest';
import { buildToolByName, ExecutableIdentifier, parseGoBuildInfo } from '../../../runner/src/grader/facts/file-identity.js';
import { elfHead, goBinary, goBuildInfo, nativeBinary } from './builders.js';

// The identities a build-tool finding quotes as evidence, and the edges of each rule.

function identify(path: string, bytes: Buffer, mode = 0o755, pieceSize = 4093) {
  const identifier = new ExecutableIdentifier(path, mode);
  for (let offset = 0; offset < bytes.length; offset += pieceSize) identifier.push(bytes.subarray(offset, offset + pieceSize));
  return identifier.finish();
}

describe('identities and their evidence', () => {
  it('quotes the Go build info of a toolchain binary', () => {
    expect(identify('x/fmt', goBinary('cmd/gofmt'))).toEqual({ kind: 'build-tool', family: 'go', tool: 'gofmt', evidence: 'Go build info names cmd/gofmt (go1.24.4)' });
  });

  it("names gcc's parts by what they contain", () => {
    expect(identify('usr/bin/cc', nativeBinary(['Usage: %s [options] file...', 'COLLECT_GCC']))).toEqual({
      kind: 'build-tool',
      family: 'c-compiler',
      tool: 'gcc',
      evidence: "contains the gcc driver's usage text",
    });
    const proper = nativeBinary(['GNU GIMPLE', 'COLLECT_GCC']);
    for (const name of ['cc1', 'cc1plus', 'lto1']) {
      expect(identify(`usr/libexec/gcc/14/${name}`, proper)).toEqual({ kind: 'build-tool', family: 'c-compiler', tool: name, evidence: "contains gcc's compiler proper (GIMPLE)" });
    }
    expect(identify('usr/libexec/gcc/14/renamed', proper)).toMatchObject({ tool: 'cc1' });
    expect(identify('usr/libexec/gcc/14/xcc1', proper)).toMatchObject({ tool: 'cc1' });
    expect(identify('x/collect', nativeBinary(['collect2 version %s']))).toEqual({ kind: 'build-tool', family: 'c-compiler', tool: 'collect2', evidence: "is gcc's collect2" });
    expect(identify('x/m', nativeBinary(['GNU Make']))).toEqual({ kind: 'build-tool', family: 'make', tool: 'make', evidence: 'contains "GNU Make"' });
    expect(identify('x/g', nativeBinary(['GIT_EXEC_PATH']))).toEqual({ kind: 'build-tool', family: 'git', tool: 'git', evidence: "contains git's GIT_EXEC_PATH" });
  });

  it('needs both of the strings that make gcc, not one', () => {
    expect(identify('x/a', nativeBinary(['Usage: %s [options] file...']))).toEqual({ kind: 'elf', linking: { kind: 'static' } });
    expect(identify('x/b', nativeBinary(['COLLECT_GCC']))).toEqual({ kind: 'elf', linking: { kind: 'static' } });
    expect(identify('x/c', nativeBinary(['GNU GIMPLE']))).toEqual({ kind: 'elf', linking: { kind: 'static' } });
  });

  it('finds strings split across chunks', () => {
    for (const pieceSize of [1, 5, 4096, 100_000]) {
      expect(identify('x/m', nativeBinary(['GNU Make']), 0o755, pieceSize), String(pieceSize)).toMatchObject({ family: 'make' });
    }
  });

  it('names an executable by its name only when its bytes say nothing', () => {
    expect(identify('usr/bin/make', nativeBinary(['nothing']))).toEqual({ kind: 'build-tool', family: 'make', tool: 'make', evidence: 'an executable named make' });
    expect(identify('usr/bin/git', Buffer.from('plain text, executable'), 0o100)).toEqual({ kind: 'build-tool', family: 'git', tool: 'git', evidence: 'an executable named git' });
    expect(identify('usr/bin/git', Buffer.from('plain text, executable'), 0o010)).toMatchObject({ family: 'git' });
    expect(identify('usr/bin/git', Buffer.from('plain text, executable'), 0o001)).toMatchObject({ family: 'git' });
    expect(identify('usr/bin/git', Buffer.from('plain text, not executable'), 0o644)).toBeUndefined();
    expect(identify('usr/bin/tool', Buffer.from('plain text'), 0o755)).toBeUndefined();
  });

  it('reads the interpreter of a script, up to 120 characters of its first line', () => {
    expect(identify('x/run', Buffer.from('#!  /usr/bin/env python3  \nprint(1)\n'))).toEqual({ kind: 'script', interpreter: '/usr/bin/env python3' });
    const long = `/opt/${'p'.repeat(200)}`;
    expect(identify('x/run', Buffer.from(`#!${long}\n`))).toEqual({ kind: 'script', interpreter: long.slice(0, 120) });
    expect(identify('x/run', Buffer.from('#!/bin/sh'), 0o644)).toEqual({ kind: 'script', interpreter: '/bin/sh' });
    expect(identify('x/run', Buffer.from('#/bin/sh\n'), 0o644)).toBeUndefined();
    expect(identify('x/run', Buffer.from('!#/bin/sh\n'), 0o644)).toBeUndefined();
  });

  it('reads an ELF file that is not executable by mode but is an executable ELF type', () => {
    expect(identify('x/prog', nativeBinary(['GNU Make']), 0o644)).toMatchObject({ family: 'make' });
    expect(identify('x/lib.so', Buffer.concat([elfHead({ type: 3 }), Buffer.from('GNU Make')]), 0o644)).toBeUndefined();
  });

  it('does not look for native strings in a Go program', () => {
    const go = Buffer.concat([elfHead({ goNote: true }), Buffer.from('\0GNU Make\0'), Buffer.alloc(3000), goBuildInfo('example.com/app'), Buffer.alloc(2000)]);
    expect(identify('x/app', go)).toEqual({ kind: 'go-program', mainPath: 'example.com/app', linking: { kind: 'static' } });
  });
});

describe('parseGoBuildInfo at its edges', () => {
  const info = goBuildInfo('example.com/app', 'go1.22.1');

  it('reads both pointer sizes, and needs the inline-format flag', () => {
    expect(parseGoBuildInfo(info)).toEqual({ version: 'go1.22.1', mainPath: 'example.com/app' });
    const four = Buffer.from(info);
    four[14] = 4;
    expect(parseGoBuildInfo(four)).toEqual({ version: 'go1.22.1', mainPath: 'example.com/app' });
    for (const [at, value] of [[14, 2], [14, 16], [15, 0], [15, 1]] as const) {
      const changed = Buffer.from(info);
      changed[at] = value;
      expect(parseGoBuildInfo(changed), `${at}=${value}`).toBeUndefined();
    }
  });

  it('takes a devel version, refuses other versions and very long ones', () => {
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', 'devel +abc'))).toEqual({ version: 'devel +abc', mainPath: 'cmd/go' });
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', 'v1.0'))).toBeUndefined();
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', 'gox'))).toBeUndefined();
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', `go1${'0'.repeat(61)}`))).toEqual({ version: `go1${'0'.repeat(61)}`, mainPath: 'cmd/go' });
    expect(parseGoBuildInfo(goBuildInfo('cmd/go', `go1${'0'.repeat(62)}`))).toBeUndefined();
  });

  it('keeps the version without a main path when the module info is missing or odd', () => {
    const header = info.subarray(0, 32 + 1 + 'go1.22.1'.length);
    expect(parseGoBuildInfo(Buffer.concat([header, Buffer.alloc(2)]))).toEqual({ version: 'go1.22.1' });
    const noSentinel = Buffer.concat([header, Buffer.from([20]), Buffer.from('path\texample.com/app\n')]);
    expect(parseGoBuildInfo(noSentinel)).toEqual({ version: 'go1.22.1' });
    expect(parseGoBuildInfo(Buffer.concat([header, Buffer.from([0x80, 0x80])]))).toEqual({ version: 'go1.22.1' });
    expect(parseGoBuildInfo(info.subarray(0, 33))).toBeUndefined();
    expect(parseGoBuildInfo(Buffer.concat([info.subarray(0, 32), Buffer.from([0x80, 0x80])]))).toBeUndefined();
  });
});

describe('buildToolByName, name by name', () => {
  it('knows the compilers and their target-prefixed and versioned names', () => {
    for (const name of ['gcc', 'cc', 'g++', 'c++', 'gcc-14', 'gcc-14.2', 'x86_64-linux-gnu-gcc-14', 'aarch64-linux-gnu-g++', 'cc1', 'cc1plus', 'lto1', 'collect2']) {
      expect(buildToolByName(`usr/bin/${name}`), name).toEqual({ family: 'c-compiler', tool: name });
    }
    for (const name of ['gcc-ar', 'gcc-nm', 'gccgo', 'xgcc', 'gcc-', 'cc1x', 'clang', 'Gcc']) expect(buildToolByName(`usr/bin/${name}`), name).toBeUndefined();
  });

  it('knows go, make and git by their exact names, and anything in a Go tool folder', () => {
    expect(buildToolByName('usr/local/go/bin/go')).toEqual({ family: 'go', tool: 'go' });
    expect(buildToolByName('usr/bin/gofmt')).toEqual({ family: 'go', tool: 'gofmt' });
    expect(buildToolByName('usr/bin/make')).toEqual({ family: 'make', tool: 'make' });
    expect(buildToolByName('usr/bin/git')).toEqual({ family: 'git', tool: 'git' });
    expect(buildToolByName('pkg/tool/linux_amd64/asm')).toEqual({ family: 'go', tool: 'asm' });
    for (const name of ['usr/bin/goo', 'usr/bin/xgo', 'usr/bin/makes', 'usr/bin/cmake', 'usr/bin/gitk', 'x/pkg/tool/linux_amd64', 'x/pkg/tool/a/b/c', 'x/mypkg/tool/a/b']) {
      expect(buildToolByName(name), name).toBeUndefined();
    }
  });
});
