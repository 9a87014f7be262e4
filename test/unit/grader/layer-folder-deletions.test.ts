import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readLayerTar, type LayerContents, type ReadLayerTarOptions } from '../../../runner/src/grader/facts/layer-tar.js';
import { mergeLayers } from '../../../runner/src/grader/facts/merged-view.js';
import { inPieces } from './builders.js';

// Deletions as a layer FOLDER holds them, read the way the grader reads a sandbox's layers:
// a real image's two top layers, each as overlay2 keeps it on disk, tarred by
// runner/src/sandbox/layer-tar.pl, and as `docker save` wrote it (test/fixtures/layers/README.md).
// In the folder a deleted path is a character device 0/0 and an emptied folder carries
// trusted.overlay.opaque=y; in the saved tar they are `.wh.` files. The grader must read both
// as the same deletions, and devices that are not 0/0 as what they are.

const layerFixture = (name: string) => gunzipSync(readFileSync(new URL(`../../fixtures/layers/${name}.tar.gz`, import.meta.url)));
const folderTar = layerFixture('overlay-folder');
const savedTar = layerFixture('overlay-folder-saved');
const lowerFolderTar = layerFixture('overlay-folder-lower');
const lowerSavedTar = layerFixture('overlay-folder-lower-saved');

const read = (bytes: Buffer, options: ReadLayerTarOptions = {}) => readLayerTar(inPieces(bytes, 700), options);
const fromFolder = (bytes: Buffer, options: ReadLayerTarOptions = {}) => read(bytes, { ...options, form: 'overlay-folder' });
const typeOf = (contents: LayerContents, entryPath: string) => contents.entries.find((entry) => entry.path === entryPath)?.type;

describe("a layer folder's deletions", () => {
  it('are the whiteouts and emptied folders docker save writes for the same layer', async () => {
    const keepContentOf = new Set(['app/app.conf', 'data/small.txt']);
    const folder = await fromFolder(folderTar, { keepContentOf });
    expect(folder).toEqual(await read(savedTar, { keepContentOf }));
    expect(folder.whiteouts).toEqual(['srv/old.txt', 'srv/olddir']);
    expect(folder.opaqueDirectories).toEqual(['opt/tools']);
    // The deleted paths are no entries; the folder's opaque mark counts as the saved tar's .wh..wh..opq.
    expect(folder.entries.map((entry) => entry.path)).not.toContain('srv/old.txt');
    expect(folder.entryCount).toBe(21);
    expect(folder.anomalies).toEqual([]);
  });

  it('are only the character devices 0/0: 1/3, 0/5 and 5/0 are devices the layer ships', async () => {
    const folder = await fromFolder(folderTar);
    for (const device of ['devs/null', 'devs/zero-five', 'devs/five-zero']) expect(typeOf(folder, device), device).toBe('other');
    expect(folder.whiteouts).not.toContain('devs/zero-five');
    expect(folder.whiteouts).not.toContain('devs/five-zero');
  });

  it('mark only the folder that was emptied as opaque, not the folders beside or above it', async () => {
    const folder = await fromFolder(folderTar);
    for (const directory of ['opt', 'srv', 'srv/keep', 'app', 'data']) {
      expect(typeOf(folder, directory), directory).toBe('directory');
      expect(folder.opaqueDirectories, directory).not.toContain(directory);
    }
  });

  it('are deletions only in a folder tar: in a layer tar a device is a device and a folder mark means nothing', async () => {
    const asLayer = await read(folderTar);
    expect(asLayer.whiteouts).toEqual([]);
    expect(asLayer.opaqueDirectories).toEqual([]);
    expect(typeOf(asLayer, 'srv/old.txt')).toBe('other');
    expect(asLayer.entryCount).toBe(20);
  });

  it('hide what the layer below put there, as a container sees the image', async () => {
    const fromFolders = mergeLayers([await fromFolder(lowerFolderTar), await fromFolder(folderTar)]);
    const fromSave = mergeLayers([await read(lowerSavedTar), await read(savedTar)]);
    expect([...fromFolders.files.keys()].sort()).toEqual([...fromSave.files.keys()].sort());
    const paths = [...fromFolders.files.keys()];
    expect(paths).not.toContain('srv/old.txt');
    expect(paths.filter((file) => file.startsWith('srv/olddir'))).toEqual([]);
    expect(paths.filter((file) => file.startsWith('opt/tools/'))).toEqual(['opt/tools/new']);
    expect(paths).toContain('srv/keep/k');
    expect(paths).toContain('srv/keep/k2');
  });
});

describe("a layer folder's file sizes", () => {
  it('are the real sizes when the folder tar carries only a head', async () => {
    const folder = await fromFolder(folderTar, { keepContentOf: new Set(['data/big.txt']) });
    const big = folder.entries.find((entry) => entry.path === 'data/big.txt');
    // layer-tar.pl sent 4,096 of its 70,000 bytes; the size is the file's, its head is no content.
    expect(big).toEqual({ path: 'data/big.txt', type: 'file', sizeBytes: 70_000, mode: 0o644 });
    expect(folder.sizeBytes).toBe(70_047);
    // Read as a layer tar, the same bytes are a 4 KiB file.
    expect((await read(folderTar)).entries.find((entry) => entry.path === 'data/big.txt')?.sizeBytes).toBe(4096);
  });
});
