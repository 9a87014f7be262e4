import { describe, expect, it } from 'vitest';
import type { LayerContents, LayerEntry } from '../../../runner/src/grader/facts/layer-tar.js';
import { mergeLayers, resolvePath } from '../../../runner/src/grader/facts/merged-view.js';

const gofmt = { kind: 'build-tool', family: 'go', tool: 'gofmt', evidence: 'Go build info names cmd/gofmt' } as const;
const make = { kind: 'build-tool', family: 'make', tool: 'make', evidence: 'contains "GNU Make"' } as const;

function layerOf(entries: Array<Partial<LayerEntry> & { path: string }>, deletions: { whiteouts?: string[]; opaqueDirectories?: string[] } = {}): LayerContents {
  return {
    entries: entries.map((entry) => ({ type: 'file', sizeBytes: 1, mode: 0o755, ...entry })),
    whiteouts: deletions.whiteouts ?? [],
    opaqueDirectories: deletions.opaqueDirectories ?? [],
    sizeBytes: entries.length,
    entryCount: entries.length,
    anomalies: [],
  };
}

describe('merging layers into the view a container sees', () => {
  it('keeps reporting a tool a later layer deletes, naming both layers', () => {
    const view = mergeLayers([
      layerOf([{ path: 'opt' }, { path: 'opt/gofmt', identity: gofmt }]),
      layerOf([], { whiteouts: ['opt/gofmt'] }),
    ]);
    expect(view.files.has('opt/gofmt')).toBe(false);
    expect(view.buildTools).toEqual([expect.objectContaining({ path: '/opt/gofmt', addedInLayer: 0, hiddenInLayer: 1, hiddenBy: 'whiteout' })]);
  });

  it('treats an opaque directory as deleting what lower layers put in it', () => {
    const view = mergeLayers([
      layerOf([{ path: 'opt', type: 'directory' }, { path: 'opt/tools', type: 'directory' }, { path: 'opt/tools/make', identity: make }, { path: 'opt/keep' }]),
      layerOf([{ path: 'opt/tools', type: 'directory' }, { path: 'opt/tools/new' }], { opaqueDirectories: ['opt/tools'] }),
    ]);
    expect([...view.files.keys()].sort()).toEqual(['opt', 'opt/keep', 'opt/tools', 'opt/tools/new']);
    expect(view.buildTools[0]).toMatchObject({ hiddenInLayer: 1, hiddenBy: 'opaque-directory' });
  });

  it('treats a whiteout of a directory as deleting everything below it', () => {
    const view = mergeLayers([
      layerOf([{ path: 'usr', type: 'directory' }, { path: 'usr/lib', type: 'directory' }, { path: 'usr/lib/go/bin/gofmt', identity: gofmt }]),
      layerOf([], { whiteouts: ['usr/lib'] }),
    ]);
    expect([...view.files.keys()]).toEqual(['usr']);
    expect(view.buildTools[0]).toMatchObject({ hiddenBy: 'whiteout', hiddenInLayer: 1 });
  });

  it('says a tool replaced by another file in a later layer still ships', () => {
    const view = mergeLayers([layerOf([{ path: 'usr/bin/make', identity: make }]), layerOf([{ path: 'usr/bin/make' }])]);
    expect(view.files.get('usr/bin/make')).toMatchObject({ layer: 1 });
    expect(view.buildTools[0]).toMatchObject({ hiddenBy: 'replaced', hiddenInLayer: 1 });
  });

  it('lists the symlinks that lead to a tool as its aliases', () => {
    const view = mergeLayers([
      layerOf([
        { path: 'usr/lib/go-1.24/bin/gofmt', identity: gofmt },
        { path: 'usr/lib/go', type: 'symlink', linkTarget: 'go-1.24' },
        { path: 'usr/bin/gofmt', type: 'symlink', linkTarget: '../lib/go/bin/gofmt' },
        { path: 'etc/alternatives/fmt', type: 'symlink', linkTarget: '/usr/bin/gofmt' },
      ]),
    ]);
    expect(view.buildTools[0]!.aliases).toEqual(['/etc/alternatives/fmt', '/usr/bin/gofmt']);
  });

  it('gives up on a symlink loop instead of hanging', () => {
    const view = mergeLayers([
      layerOf([
        { path: 'a', type: 'symlink', linkTarget: 'b' },
        { path: 'b', type: 'symlink', linkTarget: '/a' },
        { path: 'self', type: 'symlink', linkTarget: 'self/x' },
      ]),
    ]);
    expect(resolvePath(view.files, 'a')).toBeUndefined();
    expect(resolvePath(view.files, 'self')).toBeUndefined();
  });

  it('skips a layer that could not be read', () => {
    const view = mergeLayers([layerOf([{ path: 'a' }]), undefined, layerOf([{ path: 'b' }])]);
    expect([...view.files.values()].map((file) => [file.path, file.layer])).toEqual([['a', 0], ['b', 2]]);
  });
});
