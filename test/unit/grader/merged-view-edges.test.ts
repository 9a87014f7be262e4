import { describe, expect, it } from 'vitest';
import type { LayerContents, LayerEntry } from '../../../runner/src/grader/facts/layer-tar.js';
import { addToParents, mergeLayers, parentOf, resolvePath } from '../../../runner/src/grader/facts/merged-view.js';
import type { FileFacts, FileIdentity } from '../../../runner/src/grader/types.js';

// What a container sees, layer over layer, at the edges of overlayfs's rules.

const goTool: FileIdentity = { kind: 'build-tool', family: 'go', tool: 'go', evidence: 'Go build info names cmd/go' };
const entry = (path: string, overrides: Partial<LayerEntry> = {}): LayerEntry => ({ path, type: 'file', sizeBytes: 10, mode: 0o644, ...overrides });
const contents = (entries: LayerEntry[], overrides: Partial<LayerContents> = {}): LayerContents => ({ entries, whiteouts: [], opaqueDirectories: [], sizeBytes: 0, entryCount: entries.length, anomalies: [], ...overrides });
const paths = (view: ReturnType<typeof mergeLayers>) => [...view.files.keys()].sort();

describe('mergeLayers', () => {
  it('merges a folder over a folder, and lets anything else replace what was there, with what was under it', () => {
    const view = mergeLayers([
      contents([entry('a', { type: 'directory' }), entry('a/x'), entry('b', { type: 'directory' }), entry('b/y'), entry('c')]),
      contents([entry('a', { type: 'directory', mode: 0o700 }), entry('b'), entry('c', { type: 'directory' }), entry('c/z')]),
    ]);
    expect(paths(view)).toEqual(['a', 'a/x', 'b', 'c', 'c/z']);
    expect(view.files.get('a')).toEqual({ path: 'a', type: 'directory', sizeBytes: 10, mode: 0o700, layer: 1 });
    expect(view.files.get('b')).toEqual({ path: 'b', type: 'file', sizeBytes: 10, mode: 0o644, layer: 1 });
  });

  it('applies an opaque folder before the layer’s own entries, keeping the folder', () => {
    const view = mergeLayers([contents([entry('d', { type: 'directory' }), entry('d/old'), entry('d/sub/deep')]), contents([entry('d/new')], { opaqueDirectories: ['d'] })]);
    expect(paths(view)).toEqual(['d', 'd/new']);
  });

  it('applies whiteouts before the layer’s own entries, so a path can be deleted and written again', () => {
    const view = mergeLayers([contents([entry('e/f', { sizeBytes: 1 })]), contents([entry('e/f', { sizeBytes: 2 })], { whiteouts: ['e/f'] })]);
    expect(view.files.get('e/f')).toMatchObject({ sizeBytes: 2, layer: 1 });
    const deleted = mergeLayers([contents([entry('g', { type: 'directory' }), entry('g/h'), entry('g/i/j')]), contents([], { whiteouts: ['g'] }), contents([entry('k')])]);
    expect(paths(deleted)).toEqual(['k']);
  });

  it('keeps link targets, identities and kept bytes of the entries', () => {
    const view = mergeLayers([
      contents([entry('l', { type: 'symlink', linkTarget: '/m', sizeBytes: 0 }), entry('m', { identity: { kind: 'busybox' }, content: Buffer.from('abc') }), entry('n')]),
    ]);
    expect(view.files.get('l')).toEqual({ path: 'l', type: 'symlink', sizeBytes: 0, mode: 0o644, layer: 0, linkTarget: '/m' });
    expect(view.files.get('m')).toEqual({ path: 'm', type: 'file', sizeBytes: 10, mode: 0o644, layer: 0, identity: { kind: 'busybox' }, content: Buffer.from('abc') });
    expect(view.files.get('n')).toEqual({ path: 'n', type: 'file', sizeBytes: 10, mode: 0o644, layer: 0 });
  });

  it('turns a hard link into the file it shares, and keeps it when the original goes', () => {
    const view = mergeLayers([
      contents([entry('usr/bin/go', { identity: goTool, sizeBytes: 500, mode: 0o755 }), entry('usr/local/bin/go2', { type: 'hardlink', linkTarget: 'usr/bin/go', sizeBytes: 0 })]),
      contents([], { whiteouts: ['usr/bin/go'] }),
    ]);
    expect(view.files.get('usr/local/bin/go2')).toEqual({ path: 'usr/local/bin/go2', type: 'file', sizeBytes: 500, mode: 0o755, layer: 0, identity: goTool, hardLinkTo: 'usr/bin/go' });
    expect(view.buildTools).toEqual([{ family: 'go', tool: 'go', path: '/usr/bin/go', evidence: 'Go build info names cmd/go', addedInLayer: 0, aliases: ['/usr/local/bin/go2'], hiddenInLayer: 1, hiddenBy: 'whiteout' }]);
    const dangling = mergeLayers([contents([entry('x', { type: 'hardlink', linkTarget: 'nowhere', sizeBytes: 0 })])]);
    expect(dangling.files.get('x')).toEqual({ path: 'x', type: 'hardlink', sizeBytes: 0, mode: 0o644, layer: 0, linkTarget: 'nowhere' });
    const toFolder = mergeLayers([contents([entry('dir', { type: 'directory' }), entry('y', { type: 'hardlink', linkTarget: 'dir', sizeBytes: 0 })])]);
    expect(toFolder.files.get('y')?.type).toBe('hardlink');
  });

  it('says how a tool was hidden, once, by the first layer that hid it', () => {
    const tool = (path: string) => entry(path, { identity: goTool });
    const hidden = mergeLayers([contents([tool('a/go'), tool('b/go'), tool('c/go')]), contents([entry('c/go')], { whiteouts: ['a/go'], opaqueDirectories: ['b'] }), contents([], { whiteouts: ['c/go'] })]);
    expect(hidden.buildTools.map((finding) => [finding.path, finding.hiddenInLayer, finding.hiddenBy])).toEqual([
      ['/a/go', 1, 'whiteout'],
      ['/b/go', 1, 'opaque-directory'],
      ['/c/go', 1, 'replaced'],
    ]);
  });

  it('lists symlinks that lead to a tool as its aliases, sorted, but not the tool itself', () => {
    const view = mergeLayers([
      contents([
        entry('usr/lib/go/bin/go', { identity: goTool }),
        entry('usr/bin/zgo', { type: 'symlink', linkTarget: '../lib/go/bin/go' }),
        entry('usr/bin/go', { type: 'symlink', linkTarget: '/usr/lib/go/bin/go' }),
        entry('usr/bin/other', { type: 'symlink', linkTarget: '/usr/bin/nothing' }),
      ]),
    ]);
    expect(view.buildTools[0]?.aliases).toEqual(['/usr/bin/go', '/usr/bin/zgo']);
  });
});

describe('paths in the merged view', () => {
  const files = (list: Array<Partial<FileFacts> & Pick<FileFacts, 'path'>>) => new Map(list.map((file) => [file.path, { type: 'file' as const, sizeBytes: 1, mode: 0o644, layer: 0, ...file }]));

  it('follows links component by component, relative and absolute, with . and ..', () => {
    const view = files([
      { path: 'lib', type: 'symlink', linkTarget: 'usr/lib' },
      { path: 'usr/lib/libc.so' },
      { path: 'etc/alt', type: 'symlink', linkTarget: '/lib/libc.so' },
      { path: 'bin/up', type: 'symlink', linkTarget: '../usr/./lib/libc.so' },
    ]);
    expect(resolvePath(view, '/lib/libc.so')).toBe('usr/lib/libc.so');
    expect(resolvePath(view, 'etc/alt')).toBe('usr/lib/libc.so');
    expect(resolvePath(view, '/bin/up')).toBe('usr/lib/libc.so');
    expect(resolvePath(view, '/usr/lib/../lib/./libc.so')).toBe('usr/lib/libc.so');
    expect(resolvePath(view, '/../usr/lib/libc.so')).toBe('usr/lib/libc.so');
    expect(resolvePath(view, '/usr/lib/missing')).toBeUndefined();
    expect(resolvePath(view, '/usr')).toBeUndefined();
    expect(resolvePath(view, '/')).toBe('');
  });

  it('allows forty hops and refuses the forty-first', () => {
    const chain = (length: number) =>
      files([...Array.from({ length }, (_, index) => ({ path: `l${index}`, type: 'symlink' as const, linkTarget: `/l${index + 1}` })), { path: `l${length}` }]);
    expect(resolvePath(chain(40), '/l0')).toBe('l40');
    expect(resolvePath(chain(41), '/l0')).toBeUndefined();
  });

  it('treats a symlink without a target as a plain path', () => {
    expect(resolvePath(files([{ path: 'x', type: 'symlink' }]), '/x')).toBe('x');
  });

  it('records a path under each of its parents once', () => {
    const children = new Map<string, Set<string>>();
    addToParents(children, 'a/b/c');
    addToParents(children, 'a/b/d');
    addToParents(children, 'e');
    expect(children).toEqual(new Map([['a/b', new Set(['c', 'd'])], ['a', new Set(['b'])], ['', new Set(['a', 'e'])]]));
    expect(parentOf('a')).toBe('');
    expect(parentOf('a/b')).toBe('a');
  });
});
