import { describe, expect, it } from 'vitest';
import { readAsContainer, unreadableThroughLinks } from '../../../runner/src/grader/container-file.js';
import { layersExcept, linkTargetsToKeep } from '../../../runner/src/grader/facts/gather.js';
import type { ImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import type { LayerContents, LayerEntry } from '../../../runner/src/grader/facts/layer-tar.js';
import { followLinks, mergeLayers } from '../../../runner/src/grader/facts/merged-view.js';
import { fileContains } from '../../../runner/src/grader/kinds/file-contains.js';
import type { FileFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// A path a check reads, followed through symlinks as a container's kernel follows them.

const file = (path: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 6, mode: 0o644, layer: 0, ...overrides });
const link = (path: string, target: string, layerIndex = 0): FileFacts => ({ path, type: 'symlink', sizeBytes: 0, mode: 0o777, layer: layerIndex, linkTarget: target });
const view = (files: FileFacts[]) => new Map(files.map((each) => [each.path, each]));
const entry = (path: string, overrides: Partial<LayerEntry> = {}): LayerEntry => ({ path, type: 'file', sizeBytes: 6, mode: 0o644, ...overrides });
const contents = (entries: LayerEntry[]): LayerContents => ({ entries, whiteouts: [], opaqueDirectories: [], sizeBytes: 0, entryCount: entries.length, anomalies: [] });

describe('followLinks', () => {
  const files = view([
    file('data/motd'),
    link('etc/motd', '/data/motd'),
    link('etc/relative', '../data/motd'),
    link('recovered', 'data'),
    link('a', 'b'),
    link('b', '/c'),
    link('c', 'etc/relative'),
    link('loop1', 'loop2'),
    link('loop2', '/loop1'),
    link('gone', '/nowhere'),
    link('escape', '../../../../data/motd'),
  ]);

  it('follows absolute, relative and chained links, and a linked folder on the way, naming each', () => {
    expect(followLinks(files, '/etc/motd')).toEqual({ state: 'found', path: 'data/motd', links: [{ path: '/etc/motd', target: '/data/motd' }] });
    expect(followLinks(files, '/etc/relative')).toMatchObject({ state: 'found', path: 'data/motd' });
    expect(followLinks(files, '/recovered/motd')).toEqual({ state: 'found', path: 'data/motd', links: [{ path: '/recovered', target: 'data' }] });
    expect(followLinks(files, '/a')).toEqual({
      state: 'found',
      path: 'data/motd',
      links: [
        { path: '/a', target: 'b' },
        { path: '/b', target: '/c' },
        { path: '/c', target: 'etc/relative' },
        { path: '/etc/relative', target: '../data/motd' },
      ],
    });
    // ".." stops at the root, as the kernel's lookup does: the link still reads /data/motd.
    expect(followLinks(files, '/escape')).toMatchObject({ state: 'found', path: 'data/motd' });
  });

  it('tells a path that is not there, a link to nothing and a loop apart', () => {
    expect(followLinks(files, '/etc/other')).toEqual({ state: 'missing', path: 'etc/other', links: [] });
    expect(followLinks(files, '/gone')).toEqual({ state: 'missing', path: 'nowhere', links: [{ path: '/gone', target: '/nowhere' }] });
    const loop = followLinks(files, '/loop1');
    expect(loop.state).toBe('loop');
    expect(loop.links).toHaveLength(40);
  });
});

describe('mergeLayers: a hard link to a symlink', () => {
  it('is that symlink under a second name, its target read from where the new name is', () => {
    const merged = mergeLayers([contents([entry('data/motd'), entry('etc/motd', { type: 'symlink', linkTarget: '../data/motd', sizeBytes: 0 }), entry('etc/also', { type: 'hardlink', linkTarget: 'etc/motd', sizeBytes: 0 })])]);
    expect(merged.files.get('etc/also')).toMatchObject({ type: 'symlink', linkTarget: '../data/motd', hardLinkTo: 'etc/motd' });
    expect(followLinks(merged.files, '/etc/also')).toMatchObject({ state: 'found', path: 'data/motd' });
  });
});

describe('linkTargetsToKeep and layersExcept', () => {
  it('asks for the bytes a link leads to, with the layer that holds them, and nothing already wanted or read', () => {
    const files = view([
      file('data/motd', { layer: 1 }),
      link('etc/motd', '/data/motd', 2),
      file('data/read', { content: Buffer.from('bytes\n') }),
      link('etc/read', '/data/read'),
      file('data/big', { sizeBytes: 70_000 }),
      link('etc/big', '/data/big'),
      link('etc/folder', '/data'),
      file('data/hard', { layer: 3, hardLinkTo: 'data/original' }),
      file('data/original', { layer: 3 }),
      link('etc/hard', '/data/hard'),
      file('etc/plain'),
    ]);
    const wanted = new Set(['etc/motd', 'etc/read', 'etc/big', 'etc/folder', 'etc/hard', 'etc/plain', 'etc/none']);
    expect(linkTargetsToKeep(files, wanted)).toEqual(
      new Map([
        ['data/motd', 1],
        ['data/hard', 3],
        ['data/original', 3],
      ]),
    );
    expect(linkTargetsToKeep(files, new Set([...wanted, 'data/motd', 'data/hard', 'data/original']))).toEqual(new Map());
  });

  it('keeps every layer read but those read again, by diffID', () => {
    const layers = [contents([entry('a')]), contents([entry('b')]), contents([entry('c')])];
    const archive = {
      layout: 'oci',
      config: { rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b', 'sha256:a'] } },
      configJson: '{}',
      layers: layers.map((contents) => ({ archivePath: '', compression: 'none', contents, isFromCache: false })),
    } as unknown as ImageArchive;
    expect([...layersExcept(archive, new Set([1])).keys()]).toEqual(['sha256:a']);
    // A layer listed twice is read again under both places.
    expect([...layersExcept(archive, new Set([2])).keys()]).toEqual(['sha256:b']);
  });
});

describe('file-contains through links', () => {
  const params = { path: '/etc/motd', text: 'hello' };
  const image = (files: FileFacts[]) => facts({ layers: [layer(0), layer(1), layer(2)] }, files);

  it('judges a link by its target’s bytes and says which links it followed', () => {
    const outcome = fileContains.evaluate(image([file('data/motd', { layer: 1, content: Buffer.from('hello\n') }), link('etc/motd', '../data/motd', 2)]), params);
    expect(outcome).toMatchObject({ status: 'pass', actual: expect.stringMatching(/^"hello", from layer 2.*, through \/etc\/motd -> \.\.\/data\/motd$/) });
    const wrong = fileContains.evaluate(image([file('data/motd', { layer: 1, content: Buffer.from('bye\n') }), link('etc', '/data', 2)]), params);
    expect(wrong).toMatchObject({ status: 'fail', actual: '"bye"', message: expect.stringContaining('through /etc -> /data) holds "bye", not "hello"') });
  });

  it('does not pass a link to nothing, out of the image, into a loop, or to bytes that were not read', () => {
    expect(fileContains.evaluate(image([link('etc/motd', '/proc/version')]), params)).toMatchObject({
      status: 'fail',
      actual: 'a symlink to /proc/version',
      message: '/etc/motd follows /etc/motd -> /proc/version, and it leads out of the image, to /proc/version, which the kernel makes when a container starts; the check reads the file the image ships.',
    });
    expect(fileContains.evaluate(image([link('etc', '/nowhere')]), params)).toMatchObject({ status: 'fail', actual: 'under the symlink /etc -> /nowhere', message: expect.stringContaining('the image has no /nowhere/motd') });
    expect(fileContains.evaluate(image([link('etc/motd', 'motd')]), params)).toMatchObject({ status: 'fail', actual: 'a symlink to motd, in a loop', message: expect.stringContaining('Too many levels of symbolic links') });
    expect(fileContains.evaluate(image([file('data/motd'), link('etc/motd', '/data/motd')]), params)).toMatchObject({ status: 'skip', message: 'Could not decide: the bytes of /etc/motd (through /etc/motd -> /data/motd) were not read.' });
    expect(fileContains.evaluate(image([link('etc/motd', '/')]), params)).toMatchObject({ status: 'fail', actual: 'a directory' });
  });

  it('shows a hostile link target escaped', () => {
    const read = readAsContainer(image([link('etc/motd', '/x\u001b]0;pwned\u0007')]), '/etc/motd');
    expect(read.state).toBe('dangling');
    const outcome = fileContains.evaluate(image([link('etc/motd', '/x\u001b]0;pwned\u0007')]), params);
    expect(JSON.stringify(outcome)).not.toMatch(/\u001b|\u0007/);
    expect(unreadableThroughLinks('/etc/motd', { state: 'loop', links: [{ path: '/etc/motd', target: 'motd' }] }).actual).toBe('a symlink to motd, in a loop');
  });
});
