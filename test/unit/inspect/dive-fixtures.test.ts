import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseImage } from '../../../runner/src/inspect/analyse-image.js';
import { readImageFromArchive } from '../../../runner/src/inspect/image-source.js';
import { projectRoot } from '../../../runner/src/project-root.js';

// dive's own test archives (the `.data/` folder of the wagoodman/dive repository, MIT) are
// not committed here: third-party archives belong in the workplace's shared/ folder, which CI
// lays beside the clone. Point LAYERLAB_DIVE_DATA at a copy of dive's .data/ to run these
// where shared/ does not hold them. The same definitions are also tested on archives we
// make ourselves (dive-efficiency.test.ts, analyse-image.test.ts, test/integration/inspect.test.ts).
const diveDataDir = process.env.LAYERLAB_DIVE_DATA ?? path.join(projectRoot, '..', 'shared', 'fixtures', 'dive');
const hasDiveData = existsSync(path.join(diveDataDir, 'test-docker-image.tar'));
const fixture = (name: string) => path.join(diveDataDir, name);
const inspectArchive = async (name: string) => analyseImage(await readImageFromArchive(fixture(name)));

// Expected values are dive's own: image/docker/image_archive_analysis_test.go and
// cmd/dive/cli/internal/command/export/testdata/snapshots/export_test.snap in dive's repository.
describe.skipIf(!hasDiveData)(`course inspect agrees with dive on its own test archives (from ${diveDataDir})`, () => {
  it('gives dive\'s efficiency, sizes and wasted bytes for test-docker-image.tar (image_archive_analysis_test.go)', async () => {
    const report = await inspectArchive('test-docker-image.tar');
    expect(report.efficiency).toBe(0.9844212134184309);
    expect(report.sizeBytes).toBe(1220598);
    expect(report.userSizeBytes).toBe(66237);
    expect(report.wastedBytes).toBe(32025);
    expect(report.userWastedPercent).toBe(0.4834911001404049);
    expect(report.ledger).toMatchObject({ baseBytes: 1154361, ownBytes: 66237, wastedBytes: 32025, efficiency: 0.9844212134184309 });
  });

  it('gives dive\'s per-layer sizes and its inefficient files (export_test.snap)', async () => {
    const report = await inspectArchive('test-docker-image.tar');
    expect(report.layers.map((layer) => layer.sizeBytes)).toEqual([1154361, 6405, 0, 6405, 6405, 6405, 6405, 6405, 6405, 0, 2187, 6405, 6405, 6405]);
    expect(report.inefficientFiles).toEqual([
      { path: '/root/saved.txt', count: 2, sizeBytes: 12810 },
      { path: '/root/example/somefile1.txt', count: 2, sizeBytes: 12810 },
      { path: '/root/example/somefile3.txt', count: 2, sizeBytes: 6405 },
    ]);
    expect(report.layers.map((layer) => layer.instruction)).toEqual([
      'ADD file:ce026b62356e… in /',
      'ADD file:139c3708fb62… in /somefile.txt',
      'RUN mkdir -p /root/example/really/nested',
      'RUN cp /somefile.txt /root/example/somefile1.txt',
      'RUN chmod 444 /root/example/somefile1.txt',
      'RUN cp /somefile.txt /root/example/somefile2.txt',
      'RUN cp /somefile.txt /root/example/somefile3.txt',
      'RUN mv /root/example/somefile3.txt /root/saved.txt',
      'RUN cp /root/saved.txt /root/.saved.txt',
      'RUN rm -rf /root/example/',
      'ADD dir:7ec14b81316b… in /root/.data/',
      'RUN cp /root/saved.txt /tmp/saved.again1.txt',
      'RUN cp /root/saved.txt /root/.data/saved.again2.txt',
      'RUN chmod +x /root/saved.txt',
    ]);
  });

  it('names each layer\'s added, changed and removed files', async () => {
    const { layers } = await inspectArchive('test-docker-image.tar');
    expect(layers[4]!.changed).toEqual([{ path: '/root/example/somefile1.txt', type: 'file', sizeBytes: 6405, previousSizeBytes: 6405, previousLayer: 3 }]);
    expect(layers[7]!.added.map((file) => file.path)).toEqual(['/root/saved.txt']);
    expect(layers[7]!.removed).toEqual([{ path: '/root/example/somefile3.txt', how: 'whiteout', type: 'file', sizeBytes: 6405, pathCount: 1 }]);
    // rm -rf /root/example/ deletes the folder with somefile1 (chmod-ed copy), somefile2 and two nested folders.
    expect(layers[9]!.removed).toEqual([{ path: '/root/example', how: 'whiteout', type: 'directory', sizeBytes: 12810, pathCount: 5 }]);
    expect(layers[9]!.added).toEqual([]);
    expect(layers[0]!.added).toHaveLength(415);
    // The busybox applets are hard links to /bin/[, which alone carries the bytes.
    expect(layers[0]!.added[0]).toEqual({ path: '/bin/[', type: 'file', sizeBytes: 1075464 });
    expect(layers[0]!.added.filter((file) => file.type === 'hardlink').length).toBeGreaterThan(300);
    // Bytes that ship but no container sees: the copies replaced (chmod) or deleted (mv, rm -rf).
    expect(layers.map((layer) => layer.hiddenBytes)).toEqual([0, 0, 0, 6405, 6405, 6405, 6405, 6405, 0, 0, 0, 0, 0, 0]);
  });

  it('reads kaniko\'s .tar.gz layers of the same Dockerfile to the same structure of waste', async () => {
    const report = await inspectArchive('test-kaniko-image.tar');
    const copy = report.layers[1]!.sizeBytes; // ADD README.md /somefile.txt: every later copy is this size
    expect(report.layers).toHaveLength(14);
    expect(report.layers.map((layer) => layer.sizeBytes).slice(1)).toEqual([copy, 0, copy, copy, copy, copy, copy, copy, 0, 2187, copy, copy, copy]);
    expect(report.inefficientFiles).toEqual([
      { path: '/root/saved.txt', count: 2, sizeBytes: 2 * copy },
      { path: '/root/example/somefile1.txt', count: 2, sizeBytes: 2 * copy },
      { path: '/root/example/somefile3.txt', count: 2, sizeBytes: copy },
    ]);
    expect(report.wastedBytes).toBe(5 * copy);
  });

  it.each(['test-oci-uncompressed-image.tar', 'test-oci-gzip-image.tar'])('reads the OCI layout of %s: one COPY layer, nothing wasted', async (name) => {
    const report = await inspectArchive(name);
    expect(report).toMatchObject({ sizeBytes: 11189, efficiency: 1, wastedBytes: 0, userSizeBytes: 0, userWastedPercent: 0 });
    expect(report.layers).toHaveLength(1);
    expect(report.layers[0]).toMatchObject({ instruction: 'COPY README.md /README.md', added: [{ path: '/README.md', type: 'file', sizeBytes: 11189 }] });
  });

  it('stops at the end-of-archive marker of an estargz layer, as dive does: its index after the marker is not a file', async () => {
    // Go's archive/tar (dive's reader) returns io.EOF at the two zero blocks; eStargz writes
    // stargz.index.json after them.
    const report = await inspectArchive('test-oci-estargz-image.tar');
    expect(report.layers[0]!.added.map((file) => file.path).sort()).toEqual(['/README.md']);
    expect(report.sizeBytes).toBe(report.layers[0]!.added.reduce((sum, file) => sum + file.sizeBytes, 0));
  });
});
