import { describe, expect, it } from 'vitest';
import { readLayerTar } from '../../../runner/src/grader/facts/layer-tar.js';
import { inPieces, makeTar } from './builders.js';

// A hard link's bytes ship once, under the first name; the reader remembers small files so a
// later link a check asks for can still hand them over: 4 MiB of them per layer, no more, and
// only to the links asked for.

describe("a hard link's bytes", () => {
  it('go only to the links a check asked for', async () => {
    const archive = await makeTar([
      { name: 'etc/original', content: 'words\n' },
      { name: 'etc/asked', type: 'link', linkname: 'etc/original' },
      { name: 'etc/not-asked', type: 'link', linkname: 'etc/original' },
    ]);
    const layer = await readLayerTar(inPieces(archive), { keepContentOf: new Set(['etc/asked']) });
    const byPath = new Map(layer.entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('etc/asked')?.content).toEqual(Buffer.from('words\n'));
    expect(byPath.get('etc/not-asked')?.content).toBeUndefined();
    expect(byPath.get('etc/original')?.content).toBeUndefined();
  });

  it('are remembered for 4 MiB of small files per layer, then no more', async () => {
    // 64 files of 64 KiB fill the 4 MiB; the 65th is not remembered.
    const files = Array.from({ length: 65 }, (_, index) => ({ name: `data/${String(index).padStart(2, '0')}`, content: Buffer.alloc(64 * 1024, index) }));
    const archive = await makeTar([...files, { name: 'links/first', type: 'link', linkname: 'data/00' }, { name: 'links/last-remembered', type: 'link', linkname: 'data/63' }, { name: 'links/past-budget', type: 'link', linkname: 'data/64' }]);
    const layer = await readLayerTar(inPieces(archive, 64 * 1024), { keepContentOf: new Set(['links/first', 'links/last-remembered', 'links/past-budget']) });
    const byPath = new Map(layer.entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('links/first')?.content).toEqual(Buffer.alloc(64 * 1024, 0));
    expect(byPath.get('links/last-remembered')?.content).toEqual(Buffer.alloc(64 * 1024, 63));
    expect(byPath.get('links/past-budget')?.content).toBeUndefined();
  });
});
