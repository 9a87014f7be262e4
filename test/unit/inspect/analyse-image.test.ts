import { describe, expect, it } from 'vitest';
import { analyseImage, type SourceLayer } from '../../../runner/src/inspect/analyse-image.js';
import { renderInspectText } from '../../../runner/src/inspect/render-text.js';

type Entry = SourceLayer['entries'][number];
const file = (path: string, sizeBytes: number): Entry => ({ path, type: 'file', sizeBytes });
const folder = (path: string): Entry => ({ path, type: 'directory', sizeBytes: 0 });
const layer = (instruction: string, entries: Entry[], whiteouts: string[] = [], opaqueDirectories: string[] = []): SourceLayer => ({
  diffId: `sha256:${instruction.length}`,
  instruction,
  createdBy: instruction,
  sizeBytes: entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.sizeBytes : 0), 0),
  entries,
  whiteouts,
  opaqueDirectories,
});
const analyse = (layers: SourceLayer[], base?: { layerCount: number; image: string }) =>
  analyseImage({ ref: 'test', source: 'archive', layers, ...(base ? { base: { ...base, how: 'image' as const } } : {}) });

describe('analyseImage', () => {
  it('names an opaque folder as such, with what it hides, and counts its re-added files as added', () => {
    const report = analyse([
      layer('FROM base', [folder('app'), file('app/old.js', 300), file('app/keep.txt', 20)]),
      layer('RUN rm -rf /app && mkdir /app && echo > /app/new.js', [folder('app'), file('app/new.js', 5)], [], ['app']),
    ]);
    expect(report.layers[1]!.removed).toEqual([{ path: '/app', how: 'opaque-folder', type: 'directory', sizeBytes: 320, pathCount: 2 }]);
    expect(report.layers[1]!.added).toEqual([{ path: '/app/new.js', type: 'file', sizeBytes: 5 }]);
    expect(report.layers[1]!.changed).toEqual([]);
    expect(report.layers[0]!.hiddenBytes).toBe(320);
    expect(report.ledger.hiddenBytes).toBe(320);
  });

  it('treats a file written over a folder as a change that hides the folder\'s files', () => {
    const report = analyse([layer('one', [folder('data'), file('data/a', 10), file('data/b', 20)]), layer('two', [file('data', 7)])]);
    expect(report.layers[1]!.changed).toEqual([{ path: '/data', type: 'file', sizeBytes: 7, previousSizeBytes: 0, previousLayer: 0 }]);
    expect(report.layers[0]!.hiddenBytes).toBe(30);
  });

  it('marks a whiteout of something no layer had', () => {
    const report = analyse([layer('one', [file('a', 1)]), layer('two', [], ['ghost'])]);
    expect(report.layers[1]!.removed).toEqual([{ path: '/ghost', how: 'whiteout', sizeBytes: 0, pathCount: 0 }]);
  });

  it('counts a path re-added after its deletion as added, not changed', () => {
    const report = analyse([layer('one', [file('x', 4)]), layer('two', [], ['x']), layer('three', [file('x', 9)])]);
    expect(report.layers[2]!.added).toEqual([{ path: '/x', type: 'file', sizeBytes: 9 }]);
    expect(report.layers[2]!.changed).toEqual([]);
  });

  it('does not list a folder again when a layer only writes inside it', () => {
    const report = analyse([layer('one', [folder('etc'), file('etc/a', 1)]), layer('two', [folder('etc'), file('etc/b', 2)])]);
    expect(report.layers[1]!.added).toEqual([{ path: '/etc/b', type: 'file', sizeBytes: 2 }]);
    expect(report.layers[1]!.changed).toEqual([]);
  });

  it('splits the ledger at the base image when it is known, at the first layer otherwise', () => {
    const layers = [layer('b1', [file('a', 100)]), layer('b2', [file('b', 50)]), layer('own', [file('c', 7)])];
    expect(analyse(layers, { layerCount: 2, image: 'debian:12' }).ledger).toMatchObject({ baseBytes: 150, ownBytes: 7, base: { how: 'image', image: 'debian:12', layerCount: 2 } });
    const fallback = analyse(layers);
    expect(fallback.ledger).toMatchObject({ baseBytes: 100, ownBytes: 57, base: { how: 'first-layer', layerCount: 1 } });
    // dive's own figure stays dive's whatever the base: every layer but the first.
    expect(fallback.userSizeBytes).toBe(57);
    expect(analyse(layers, { layerCount: 2, image: 'debian:12' }).userSizeBytes).toBe(57);
  });

  it('lists each kind biggest first', () => {
    const report = analyse([layer('one', [file('s', 1), file('l', 300), file('m', 20)])]);
    expect(report.layers[0]!.added.map((entry) => entry.path)).toEqual(['/l', '/m', '/s']);
  });
});

describe('inspect text', () => {
  it('escapes control characters and bidirectional overrides in names and instructions', () => {
    const report = analyse([layer('RUN touch "\x1b]0;pwned\x07"', [file('evil\x1b[2Jname\n#1 forged', 3)])]);
    const text = renderInspectText(report);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text).toContain('evil\\e[2Jname\\n#1 forged');
    expect(text).toContain('RUN touch "\\e]0;pwned\\a"');
  });

  it('says an image without layers has none, rather than an empty list', () => {
    const text = renderInspectText(analyse([]));
    expect(text).toMatch(/Layers \(bottom to top\)\n  None: the image is its config alone/);
    expect(renderInspectText(analyse([layer('RUN true', [file('a', 1)])]))).not.toContain('None:');
  });
});
