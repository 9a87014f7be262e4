import { describe, expect, it } from 'vitest';
import type { ImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import type { LayerContents, LayerEntry } from '../../../runner/src/grader/facts/layer-tar.js';
import { referenceFileFacts } from '../../../runner/src/grader/facts/reference-files.js';
import { parseLdSoCache, readLoaderCache } from '../../../runner/src/grader/facts/shared-libraries.js';
import type { FileFacts } from '../../../runner/src/grader/types.js';

// The loader cache as the grader reads it, and one path looked up in another image's layers.

/** A cache in glibc's new format: 48-byte header (magic, count at 20), 24-byte entries, then strings. */
function ldSoCache(entries: Array<[string, string]>, options: { count?: number } = {}): Buffer {
  const header = Buffer.alloc(48);
  header.write('glibc-ld.so.cache1.1', 0, 'latin1');
  header.writeUInt32LE(options.count ?? entries.length, 20);
  const table = Buffer.alloc(entries.length * 24);
  let strings = '';
  const stringsStart = 48 + table.length;
  entries.forEach(([soname, libraryPath], index) => {
    table.writeUInt32LE(1, index * 24);
    table.writeUInt32LE(stringsStart + strings.length, index * 24 + 4);
    strings += `${soname}\0`;
    table.writeUInt32LE(stringsStart + strings.length, index * 24 + 8);
    strings += `${libraryPath}\0`;
  });
  return Buffer.concat([header, table, Buffer.from(strings, 'latin1')]);
}

describe('parseLdSoCache', () => {
  it('keeps every path of a soname, in the cache’s order', () => {
    const cache = parseLdSoCache(ldSoCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], ['libz.so.1', '/lib/libz.so.1'], ['libc.so.6', '/usr/lib/libc.so.6']]));
    expect(cache).toEqual(new Map([['libc.so.6', ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/libc.so.6']], ['libz.so.1', ['/lib/libz.so.1']]]));
    expect(parseLdSoCache(ldSoCache([]))).toEqual(new Map());
  });

  it('refuses a cut-short header, a count past the end, and strings outside the file or unterminated', () => {
    const good = ldSoCache([['liba.so', '/lib/liba.so']]);
    expect(parseLdSoCache(good.subarray(0, 47))).toBeUndefined();
    expect(parseLdSoCache(ldSoCache([['liba.so', '/lib/liba.so']], { count: 2 }))).toBeUndefined();
    const exactly = ldSoCache([]);
    expect(parseLdSoCache(exactly.subarray(0, 48))).toEqual(new Map());
    const outside = Buffer.from(good);
    outside.writeUInt32LE(good.length, 48 + 8);
    expect(parseLdSoCache(outside)).toBeUndefined();
    const outsideName = Buffer.from(good);
    outsideName.writeUInt32LE(good.length + 5, 48 + 4);
    expect(parseLdSoCache(outsideName)).toBeUndefined();
    expect(parseLdSoCache(good.subarray(0, good.length - 1))).toBeUndefined();
    const wrongMagic = Buffer.from(good);
    wrongMagic.write('X', 19, 'latin1');
    expect(parseLdSoCache(wrongMagic)).toBeUndefined();
  });
});

describe('readLoaderCache', () => {
  const cacheFile = (overrides: Partial<FileFacts>): FileFacts => ({ path: 'etc/ld.so.cache', type: 'file', sizeBytes: 100, mode: 0o644, layer: 0, ...overrides });
  const read = (...files: FileFacts[]) => readLoaderCache(new Map(files.map((file) => [file.path, file])));

  it('reads the cache, through a link too', () => {
    const content = ldSoCache([['liba.so', '/lib/liba.so']]);
    expect(read(cacheFile({ content }))).toEqual({ state: 'read', libraries: new Map([['liba.so', ['/lib/liba.so']]]) });
    expect(read(cacheFile({ type: 'symlink', linkTarget: '/var/ld.so.cache' }), cacheFile({ path: 'var/ld.so.cache', content }))).toMatchObject({ state: 'read' });
  });

  it('says why it could not read one, and that there is none', () => {
    expect(read()).toEqual({ state: 'absent' });
    expect(read(cacheFile({ type: 'directory' }))).toEqual({ state: 'absent' });
    expect(read(cacheFile({ sizeBytes: 65_537 }))).toEqual({ state: 'unreadable', why: 'it is bigger than 65.5 kB' });
    expect(read(cacheFile({ sizeBytes: 65_536 }))).toEqual({ state: 'unreadable', why: 'its bytes were not read' });
    expect(read(cacheFile({ content: Buffer.from('ld.so-1.7.0') }))).toEqual({ state: 'unreadable', why: 'it is not in the format glibc 2.32 and later write' });
  });
});

describe('referenceFileFacts', () => {
  const contents = (entries: Array<Partial<LayerEntry> & Pick<LayerEntry, 'path'>>, whiteouts: string[] = []): LayerContents => ({
    entries: entries.map((entry) => ({ type: 'file' as const, sizeBytes: 4, mode: 0o644, ...entry })),
    whiteouts,
    opaqueDirectories: [],
    sizeBytes: 0,
    entryCount: entries.length,
    anomalies: [],
  });
  const archive = (layers: Array<LayerContents | undefined>, history: Array<{ created_by?: string; empty_layer?: boolean }>): ImageArchive => ({
    layout: 'oci',
    config: { history },
    configJson: '{}',
    layers: layers.map((layerContents, index) => ({ archivePath: `l${index}`, compression: 'none', ...(layerContents ? { contents: layerContents } : { unreadable: 'x' }) })),
  });

  it('lists every layer that writes the path, with its instruction and kept bytes, and whether a container sees it', () => {
    const layers = [
      contents([{ path: 'vault', type: 'directory', sizeBytes: 0 }, { path: 'vault/code.txt', content: Buffer.from('abcd') }]),
      undefined,
      contents([{ path: 'vault/code.txt', sizeBytes: 9 }, { path: 'vault/other' }]),
      contents([], ['vault/code.txt']),
    ];
    const history = [{ created_by: 'ADD rootfs.tar / # buildkit' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN /bin/sh -c true # buildkit' }, {}, { created_by: 'RUN /bin/sh -c rm /vault/code.txt # buildkit' }];
    // The config names only the first two layers: a layer it does not name has no DiffID to compare.
    const named = { ...archive(layers, history), config: { history, rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`] } } };
    expect(referenceFileFacts({ image: 'vault', path: '/vault/code.txt' }, named)).toEqual({
      image: 'vault',
      path: '/vault/code.txt',
      isImagePresent: true,
      layerCount: 4,
      layerInstructions: ['ADD rootfs.tar /', 'RUN true', undefined, 'RUN rm /vault/code.txt'],
      versions: [
        {
          layer: 0,
          instruction: 'ADD rootfs.tar /',
          type: 'file',
          sizeBytes: 4,
          content: Buffer.from('abcd'),
          diffId: `sha256:${'a'.repeat(64)}`,
          layerFiles: [{ path: 'vault/code.txt', type: 'file', sizeBytes: 4 }],
        },
        {
          layer: 2,
          type: 'file',
          sizeBytes: 9,
          diffId: '',
          layerFiles: [
            { path: 'vault/code.txt', type: 'file', sizeBytes: 9 },
            { path: 'vault/other', type: 'file', sizeBytes: 4 },
          ],
        },
      ],
      isVisible: false,
    });
    const visible = referenceFileFacts({ image: 'vault', path: 'vault/other' }, archive(layers, history));
    // A config that names no layers gives none a DiffID.
    expect(visible).toMatchObject({ isVisible: true, versions: [{ layer: 2, sizeBytes: 4, diffId: '' }] });
  });
});
