import { describe, expect, it } from 'vitest';
import { sharedLibrariesResolve } from '../../../runner/src/grader/kinds/shared-libraries-resolve.js';
import type { FileFacts, ImageFacts, LayerFacts, LoaderCacheFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// The loader's search, as the learner reads it: where each library was found and by which
// rule, or every place the loader would have looked.

const loader = '/lib64/ld-linux-x86-64.so.2';
const executable = '/app/bin/greet';
const expected = `the loader and every library ${executable} needs, found as the loader searches`;
const file = (path: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 10, mode: 0o755, layer: 0, ...overrides });
const dynamic = (options: { needed?: string[]; rpath?: string[]; runpath?: string[]; interpreter?: string | null } = {}): FileFacts =>
  file('app/bin/greet', {
    identity: {
      kind: 'elf',
      ...(options.interpreter === null ? {} : { interpreter: options.interpreter ?? loader }),
      linking: { kind: 'dynamic', needed: options.needed ?? [], rpath: options.rpath ?? [], runpath: options.runpath ?? [] },
    },
  });
const base = [file('lib64/ld-linux-x86-64.so.2')];
const image = (files: FileFacts[], options: { env?: string[]; cache?: LoaderCacheFacts; layers?: LayerFacts[] } = {}): ImageFacts =>
  facts(
    { config: { ...facts().config, env: options.env ?? [] }, loaderCache: options.cache ?? { state: 'absent' }, ...(options.layers ? { layers: options.layers } : {}) },
    files,
  );
const judge = (files: FileFacts[], options: Parameters<typeof image>[1] = {}) => sharedLibrariesResolve.evaluate(image(files, options), { executable });
const system = '/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib';

describe('shared-libraries-resolve: where a library is found', () => {
  it('names the loader and each library with the rule that found it', () => {
    const program = dynamic({ needed: ['liba.so', 'libb.so', 'libc.so.6', 'libd.so'], rpath: ['/opt/rpath'] });
    const cache: LoaderCacheFacts = { state: 'read', libraries: new Map([['libc.so.6', ['/gone/libc.so.6', '/cached/libc.so.6']]]) };
    const files = [...base, program, file('opt/rpath/liba.so'), file('env/libb.so'), file('cached/libc.so.6'), file('usr/lib/libd.so')];
    expect(judge(files, { env: ['LD_LIBRARY_PATH=/nowhere;/env', 'PATH=/bin'], cache })).toEqual({
      status: 'pass',
      expected,
      actual: `loader ${loader}, liba.so → /opt/rpath/liba.so (DT_RPATH), libb.so → /env/libb.so (LD_LIBRARY_PATH), libc.so.6 → /cached/libc.so.6 (/etc/ld.so.cache), libd.so → /usr/lib/libd.so (built-in search path)`,
    });
  });

  it('searches DT_RPATH before LD_LIBRARY_PATH before DT_RUNPATH before the cache before the built-in folders', () => {
    const everywhere = ['opt/rpath', 'env', 'opt/runpath', 'cached', 'usr/lib'].map((folder) => file(`${folder}/libx.so`));
    const cache: LoaderCacheFacts = { state: 'read', libraries: new Map([['libx.so', ['/cached/libx.so']]]) };
    const env = ['LD_LIBRARY_PATH=/env'];
    const via = (program: FileFacts, files = everywhere, options: Parameters<typeof image>[1] = { env, cache }) => judge([...base, program, ...files], options).actual;
    expect(via(dynamic({ needed: ['libx.so'], rpath: ['/opt/rpath'] }))).toBe(`loader ${loader}, libx.so → /opt/rpath/libx.so (DT_RPATH)`);
    // DT_RPATH is ignored when there is a DT_RUNPATH.
    expect(via(dynamic({ needed: ['libx.so'], rpath: ['/opt/rpath'], runpath: ['/opt/runpath'] }))).toBe(`loader ${loader}, libx.so → /env/libx.so (LD_LIBRARY_PATH)`);
    expect(via(dynamic({ needed: ['libx.so'], runpath: ['/opt/runpath'] }), everywhere, { cache })).toBe(`loader ${loader}, libx.so → /opt/runpath/libx.so (DT_RUNPATH)`);
    expect(via(dynamic({ needed: ['libx.so'] }), everywhere, { cache })).toBe(`loader ${loader}, libx.so → /cached/libx.so (/etc/ld.so.cache)`);
    expect(via(dynamic({ needed: ['libx.so'] }), everywhere, {})).toBe(`loader ${loader}, libx.so → /lib/x86_64-linux-gnu/libx.so (built-in search path)`.replace('/lib/x86_64-linux-gnu', '/usr/lib'));
  });

  it('expands $ORIGIN and ${ORIGIN} to the folder of the program, and takes a name with a slash as a path', () => {
    const program = dynamic({ needed: ['liba.so', 'libb.so', '/opt/libc.so'], runpath: ['$ORIGIN/../lib', '${ORIGIN}/more'] });
    expect(judge([...base, program, file('app/lib/liba.so'), file('app/bin/more/libb.so'), file('opt/libc.so')]).actual).toBe(
      `loader ${loader}, liba.so → /app/lib/liba.so (DT_RUNPATH), libb.so → /app/bin/more/libb.so (DT_RUNPATH), /opt/libc.so → /opt/libc.so (named by path)`,
    );
    expect(judge([...base, dynamic({ needed: ['/opt/libc.so'] }), file('lib/libc.so')]).actual).toBe('/opt/libc.so not found');
  });

  it('takes a hard link for a file, and a folder of the library name for nothing', () => {
    expect(judge([...base, dynamic({ needed: ['liba.so'] }), file('lib/liba.so', { type: 'hardlink' })]).status).toBe('pass');
    expect(judge([...base, dynamic({ needed: ['liba.so'] }), file('lib/liba.so', { type: 'directory' }), file('usr/lib/liba.so')]).actual).toBe(
      `loader ${loader}, liba.so → /usr/lib/liba.so (built-in search path)`,
    );
  });

  it('passes a program with no loader and no library as statically linked, and one with only a loader by naming it', () => {
    expect(judge([file('app/bin/greet', { identity: { kind: 'elf', linking: { kind: 'static' } } })])).toEqual({
      status: 'pass',
      expected,
      actual: 'linked statically: needs no loader or library',
    });
    expect(judge([...base, dynamic()])).toEqual({ status: 'pass', expected, actual: `loader ${loader}` });
    expect(judge([dynamic({ interpreter: null, needed: ['liba.so'] }), file('lib/liba.so')]).actual).toBe('liba.so → /lib/liba.so (built-in search path)');
  });
});

describe('shared-libraries-resolve: what is missing', () => {
  it('names every place it looked, the environment and cache included, and where copies are', () => {
    const program = dynamic({ needed: ['liba.so'], rpath: ['/r1', '/r2'] });
    expect(judge([program, file('x/liba.so'), file('y/liba.so')], { env: ['LD_LIBRARY_PATH=/e1:/e2'], cache: { state: 'read', libraries: new Map() } })).toEqual({
      status: 'fail',
      expected,
      actual: `no loader ${loader}, liba.so not found`,
      message: [
        `${executable} is linked dynamically, and its loader ${loader} is not in the image, so the kernel cannot start it: \`docker run\` says "exec ${executable}: no such file or directory" although the program is there.`,
        `${executable} needs liba.so, and the loader would not find it: it looks in its DT_RPATH (/r1:/r2), then LD_LIBRARY_PATH (/e1:/e2), then /etc/ld.so.cache, then ${system}. The image does have /x/liba.so, /y/liba.so, but not where the loader looks.`,
      ].join('\n'),
    });
  });

  it('names DT_RUNPATH rather than DT_RPATH when both are set, an absent cache, and no copy at all', () => {
    const program = dynamic({ needed: ['liba.so'], rpath: ['/r'], runpath: ['/u'] });
    expect(judge([...base, program]).message).toBe(
      `${executable} needs liba.so, and the loader would not find it: it looks in its DT_RUNPATH (/u), then LD_LIBRARY_PATH (not set), then /etc/ld.so.cache (there is none), then ${system}. No file named liba.so is anywhere in the image.`,
    );
  });

  it('names at most four copies, and no folders', () => {
    const copies = ['a', 'b', 'c', 'd', 'e'].map((folder) => file(`${folder}/liba.so`));
    const message = judge([...base, dynamic({ needed: ['liba.so'] }), file('z/liba.so', { type: 'directory' }), ...copies]).message;
    expect(message).toContain('The image does have /a/liba.so, /b/liba.so, /c/liba.so, /d/liba.so, but not where the loader looks.');
  });

  it('cannot decide when a layer or the loader cache could not be read', () => {
    const layers = [layer(0, { instruction: 'COPY . /', unreadable: 'truncated tar' })];
    expect(judge([...base, dynamic({ needed: ['liba.so'] })], { layers, cache: { state: 'unreadable', why: 'it is bigger than 65.5 kB' } })).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: `${executable} needs liba.so, and the loader would not find it: it looks in LD_LIBRARY_PATH (not set), then /etc/ld.so.cache, then ${system}. No file named liba.so is anywhere in the image.\nThis may be wrong, because layer 1 (\`COPY . /\`) could not be read: truncated tar; /etc/ld.so.cache could not be read: it is bigger than 65.5 kB.`,
    });
    const noCache = sharedLibrariesResolve.evaluate({ ...image([...base, dynamic({ needed: ['liba.so'] })]), loaderCache: undefined } as unknown as ImageFacts, { executable });
    expect(noCache.message).toContain('This may be wrong, because /etc/ld.so.cache could not be read: it was not read.');
    // An unreadable cache does not matter when only the loader is missing.
    expect(judge([dynamic()], { cache: { state: 'unreadable', why: 'x' } }).status).toBe('fail');
  });

  it('fails a missing program or a folder, naming files of that name', () => {
    expect(judge([file('src/greet'), file('bin/greet', { type: 'symlink', linkTarget: '/src/greet' }), file('greet', { type: 'directory' })])).toEqual({
      status: 'fail',
      expected,
      actual: `no ${executable}`,
      message: `${executable} is not in the image. The image has /src/greet.`,
    });
    expect(judge([file('app/bin/greet', { type: 'directory' })])).toEqual({ status: 'fail', expected, actual: `no ${executable}`, message: `${executable} is a folder, not a program.` });
    expect(judge([file('app/bin/greet', { type: 'symlink', linkTarget: '/nowhere' })]).message).toBe(`${executable} is not in the image.`);
  });

  it('fails what is not a compiled program, saying what it is', () => {
    const as = (identity: FileFacts['identity']) => judge([file('app/bin/greet', identity ? { identity } : {})]);
    expect(as({ kind: 'script', interpreter: '/usr/bin/env python3' })).toEqual({
      status: 'fail',
      expected,
      actual: 'not a compiled program',
      message: `${executable} is a script for /usr/bin/env python3, so it names no loader or libraries of its own.`,
    });
    expect(as({ kind: 'busybox' } as FileFacts['identity']).message).toBe(`${executable} is busybox, so it names no loader or libraries of its own.`);
    expect(as(undefined).message).toBe(`${executable} is not a compiled (ELF) program, so it names no loader or libraries of its own.`);
    expect(as({ kind: 'elf' }).message).toBe(`${executable} is not a compiled (ELF) program, so it names no loader or libraries of its own.`);
  });

  it('reads a Go program as any ELF program, and skips one it could not read', () => {
    const go = file('app/bin/greet', { identity: { kind: 'go-program', mainPath: 'x', interpreter: loader, linking: { kind: 'dynamic', needed: ['libc.so.6'], rpath: [], runpath: [] } } });
    expect(judge([...base, go, file('lib/libc.so.6')]).actual).toBe(`loader ${loader}, libc.so.6 → /lib/libc.so.6 (built-in search path)`);
    expect(judge([file('app/bin/greet', { identity: { kind: 'elf', linking: { kind: 'unknown', why: 'the file ends early' } } })])).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: `Could not tell which libraries ${executable} needs: the file ends early.`,
    });
  });
});
