import { describe, expect, it } from 'vitest';
import { compareUtf8, diveEfficiency, type EfficiencyLayer } from '../../../runner/src/inspect/dive-efficiency.js';

type Entry = EfficiencyLayer['entries'][number];
const file = (path: string, sizeBytes: number): Entry => ({ path, type: 'file', sizeBytes });
const folder = (path: string): Entry => ({ path, type: 'directory', sizeBytes: 0 });
const layer = (entries: Entry[], whiteouts: string[] = [], opaqueDirectories: string[] = []): EfficiencyLayer => ({ entries, whiteouts, opaqueDirectories });

describe('dive efficiency', () => {
  // dive/filetree/efficiency_test.go TestEfficiency, the same three trees.
  it('scores 0.75 for a file overwritten, then its folder deleted (dive\'s TestEfficiency)', () => {
    const result = diveEfficiency([
      layer([file('etc/nginx/nginx.conf', 2000), file('etc/nginx/public', 3000)]),
      layer([file('etc/nginx/nginx.conf', 5000), file('etc/athing', 10000)]),
      layer([], ['etc/nginx']),
    ]);
    expect(result.efficiency).toBe(0.75);
    expect(result.inefficientPaths).toEqual([{ path: '/etc/nginx/nginx.conf', count: 2, cumulativeBytes: 7000 }]);
    expect(result.wastedBytes).toBe(7000);
  });

  it('scores 1 for an image with no bytes (dive\'s TestEfficiency_ScratchImage)', () => {
    expect(diveEfficiency([layer([file('nothing', 0)]), layer([]), layer([])])).toEqual({ efficiency: 1, wastedBytes: 0, inefficientPaths: [] });
    expect(diveEfficiency([])).toEqual({ efficiency: 1, wastedBytes: 0, inefficientPaths: [] });
  });

  it('counts a deleted folder\'s bytes only when the layers below still know it as a folder', () => {
    const listed = diveEfficiency([layer([folder('app'), file('app/a', 100)]), layer([], ['app'])]);
    // /app/a: 100 once; /app (the whiteout): 100 once. Nothing repeats, so nothing is wasted.
    expect(listed).toEqual({ efficiency: 1, wastedBytes: 0, inefficientPaths: [] });
    // Layer 1 writes app/a without listing app/: stacking it leaves /app without its folder
    // payload (dive's AddPath), so the whiteout in layer 2 counts 0 bytes.
    const unlisted = diveEfficiency([layer([folder('app'), file('app/a', 100)]), layer([file('app/a', 100)]), layer([], ['app'])]);
    expect(unlisted.inefficientPaths).toEqual([{ path: '/app/a', count: 2, cumulativeBytes: 200 }]);
    expect(unlisted.efficiency).toBe(0.5);
    const relisted = diveEfficiency([layer([folder('app'), file('app/a', 100)]), layer([folder('app'), file('app/a', 100)]), layer([], ['app'])]);
    expect(relisted.efficiency).toBe((100 + 100) / (200 + 100));
  });

  it('counts a whiteout of a file as 0 bytes, so the file\'s path is wasted only by its own bytes', () => {
    const result = diveEfficiency([layer([file('big', 1000)]), layer([], ['big'])]);
    expect(result.inefficientPaths).toEqual([{ path: '/big', count: 2, cumulativeBytes: 1000 }]);
    expect(result.efficiency).toBe(0);
  });

  it('ignores opaque folders, as dive does', () => {
    const result = diveEfficiency([layer([folder('app'), file('app/a', 100)]), layer([folder('app'), file('app/b', 5)], [], ['app'])]);
    expect(result).toEqual({ efficiency: 1, wastedBytes: 0, inefficientPaths: [] });
  });

  it('stops reading a layer at a whiteout of a path nothing below had, leaving dive\'s -1', () => {
    // Layer 1 in name order: ".wh.a" (a whiteout of nothing) comes first and stops the walk, so "b" is never counted.
    const result = diveEfficiency([layer([file('b', 10)]), layer([file('b', 10)], ['a'])]);
    expect(result.inefficientPaths).toEqual([]);
    expect(result.efficiency).toBe((10 - 1) / 10);
  });

  it('sizes an entry by its tar header: links and folders are 0 bytes', () => {
    const result = diveEfficiency([layer([file('x', 50), { path: 'y', type: 'hardlink', sizeBytes: 50 }]), layer([file('y', 50)])]);
    expect(result.inefficientPaths).toEqual([{ path: '/y', count: 2, cumulativeBytes: 50 }]);
  });

  it('walks names in byte order, as Go sorts strings', () => {
    // By UTF-8 bytes "\uff21" (ef bc a1) < "\ufffd" (ef bf bd) < "\u{1f600}" (f0 9f 98 80); by UTF-16
    // units the emoji (d83d...) comes first. A whiteout of nothing inside a folder "\ufffd" stops
    // the walk there, so only what sorts before the folder is counted.
    const names = ['\uff21', '\u{1f600}'];
    const result = diveEfficiency([layer(names.map((name) => file(name, 1))), layer(names.map((name) => file(name, 1)), ['\ufffd/x'])]);
    expect(result.inefficientPaths.map((found) => found.path)).toEqual(['/\uff21']);
  });
});

describe('compareUtf8', () => {
  it('orders strings as their UTF-8 bytes do', () => {
    const names = ['b', 'a', 'ab', '', 'é', '\uff21', '\u{1f600}', '\ufffd', 'Z', '\ud7ff', '\ue000', '\u{10000}'];
    const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...names].sort(compareUtf8)).toEqual(byBytes);
  });
});
