import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { readLayerTar, type LayerContents } from '../../../runner/src/grader/facts/layer-tar.js';
import { mergeLayers } from '../../../runner/src/grader/facts/merged-view.js';
import { projectRoot } from '../../../runner/src/project-root.js';
import { goBinary, gzipSync, inPieces, makeTar, nativeBinary } from './builders.js';

/** The reader's fixes: hard links, magic-byte sniffing, the end-of-archive marker, zstd. */

const digest = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
const blobPath = (buffer: Buffer) => `blobs/sha256/${digest(buffer)}`;

/** An OCI layout without manifest.json, whose index points at an index, then the manifest. */
async function ociArchive(layers: Buffer[], extra: Array<{ name: string; content: Buffer | string }> = []): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ rootfs: { diff_ids: layers.map(() => 'sha256:x') }, history: layers.map(() => ({ created_by: 'RUN x' })) }));
  const manifest = Buffer.from(JSON.stringify({ config: { digest: `sha256:${digest(config)}` }, layers: layers.map((layer) => ({ digest: `sha256:${digest(layer)}` })) }));
  const attestation = Buffer.from(JSON.stringify({ config: { digest: `sha256:${digest(config)}` }, layers: [] }));
  const platforms = Buffer.from(
    JSON.stringify({ manifests: [{ digest: `sha256:${digest(manifest)}`, platform: { os: 'linux', architecture: 'amd64' } }, { digest: `sha256:${digest(attestation)}`, platform: { os: 'unknown', architecture: 'unknown' } }] }),
  );
  return await makeTar([
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    ...layers.map((layer) => ({ name: blobPath(layer), content: layer })),
    { name: blobPath(config), content: config },
    { name: blobPath(manifest), content: manifest },
    { name: blobPath(attestation), content: attestation },
    { name: blobPath(platforms), content: platforms },
    { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: `sha256:${digest(platforms)}` }] }) },
    ...extra,
  ]);
}

describe('hard links', () => {
  it('are regular files with their target\'s facts in the merged view, and counted once in the layer, as dive does', async () => {
    const layer = await makeTar([
      { name: 'usr/bin/make', content: nativeBinary(['GNU Make']), mode: 0o755 },
      { name: 'usr/bin/gmake', type: 'link', linkname: 'usr/bin/make' },
    ]);
    const contents = await readLayerTar(inPieces(layer, 8192));
    const [original, link] = contents.entries;
    expect(link).toMatchObject({ path: 'usr/bin/gmake', type: 'hardlink', sizeBytes: 0, linkTarget: 'usr/bin/make', identity: { family: 'make' } });
    expect(contents.sizeBytes).toBe(original!.sizeBytes);
    const { files, buildTools } = mergeLayers([contents]);
    expect(files.get('usr/bin/gmake')).toMatchObject({ type: 'file', sizeBytes: original!.sizeBytes, mode: 0o755, hardLinkTo: 'usr/bin/make', identity: { family: 'make' } });
    expect(buildTools).toEqual([expect.objectContaining({ path: '/usr/bin/make', aliases: ['/usr/bin/gmake'] })]);
  });

  it('hand over the bytes a check asked for, also when tar wrote them under the other name', async () => {
    // `ln summary.txt report.txt`: tar writes report.txt first, summary.txt as the link.
    const layer = await makeTar([
      { name: 'srv/report.txt', content: 'words: 42\n' },
      { name: 'srv/summary.txt', type: 'link', linkname: 'srv/report.txt' },
    ]);
    const contents = await readLayerTar(inPieces(layer), { keepContentOf: new Set(['srv/summary.txt']) });
    expect(contents.entries[1]).toMatchObject({ type: 'hardlink', content: Buffer.from('words: 42\n') });
    expect(contents.entries[0]!.content).toBeUndefined();
    expect(mergeLayers([contents]).files.get('srv/summary.txt')).toMatchObject({ type: 'file', sizeBytes: 10, content: Buffer.from('words: 42\n') });
  });

  it('keep their content when the original is deleted in a later layer (a container still sees the file)', async () => {
    const layers = [
      await makeTar([{ name: 'srv/', type: 'directory' }]),
      await makeTar([
        { name: 'srv/report.txt', content: 'words: 42\n' },
        { name: 'srv/summary.txt', type: 'link', linkname: 'srv/report.txt' },
      ]),
      await makeTar([{ name: 'srv/.wh.report.txt', content: '' }]),
    ];
    const read = await Promise.all(layers.map((layer) => readLayerTar(inPieces(layer), { keepContentOf: new Set(['srv/summary.txt']) })));
    const { files } = mergeLayers(read);
    expect(files.has('srv/report.txt')).toBe(false);
    expect(files.get('srv/summary.txt')).toMatchObject({ type: 'file', sizeBytes: 10, layer: 1, content: Buffer.from('words: 42\n') });
  });

  it('into a lower layer resolve to that file as it was when the link was made', async () => {
    const bottom = await readLayerTar(inPieces(await makeTar([{ name: 'usr/local/go/bin/go', content: goBinary('cmd/go'), mode: 0o755 }])));
    const linking = await readLayerTar(inPieces(await makeTar([{ name: 'usr/bin/go', type: 'link', linkname: '/usr/local/go/bin/go' }])));
    expect(linking.entries[0]).toMatchObject({ type: 'hardlink', linkTarget: 'usr/local/go/bin/go' });
    const deleting = await readLayerTar(inPieces(await makeTar([{ name: 'usr/local/.wh.go', content: '' }])));
    const { files, buildTools } = mergeLayers([bottom, linking, deleting]);
    expect(files.has('usr/local/go/bin/go')).toBe(false);
    expect(files.get('usr/bin/go')).toMatchObject({ type: 'file', hardLinkTo: 'usr/local/go/bin/go', layer: 1, identity: { kind: 'build-tool', tool: 'go' } });
    expect(buildTools).toHaveLength(1);
    expect(buildTools[0]).toMatchObject({ path: '/usr/local/go/bin/go', addedInLayer: 0, aliases: ['/usr/bin/go'] });
  });

  it('that lead nowhere stay hard links, not files', async () => {
    const contents = await readLayerTar(inPieces(await makeTar([{ name: 'a', type: 'link', linkname: 'missing' }])));
    const { files } = mergeLayers([contents]);
    expect(files.get('a')).toMatchObject({ type: 'hardlink', linkTarget: 'missing' });
  });
});

describe('telling layers from metadata by their first bytes', () => {
  it('reads a layer whose first entry\'s name starts with "[" or "{" as a layer, not as JSON', async () => {
    const square = await makeTar([{ name: '[', content: 'test' }, { name: 'bin/sh', content: '#!' }]);
    const curly = await makeTar([{ name: '{"a":1}', content: '' }]);
    const result = await readImageArchive(inPieces(await ociArchive([square, gzipSync(curly)])));
    expect(result.layers.map((layer) => layer.unreadable)).toEqual([undefined, undefined]);
    expect(result.layers.map((layer) => layer.compression)).toEqual(['none', 'gzip']);
    expect(result.layers.map((layer) => layer.contents?.entries.map((entry) => entry.path))).toEqual([['[', 'bin/sh'], ['{"a":1}']]);
  });
});

describe('the end-of-archive marker', () => {
  it('ends a layer: entries after two zero blocks are not files', async () => {
    const layer = Buffer.concat([await makeTar([{ name: 'kept', content: 'a' }]), await makeTar([{ name: 'after-the-end', content: 'b' }])]);
    const contents = await readLayerTar(inPieces(layer, 700));
    expect(contents.entries.map((entry) => entry.path)).toEqual(['kept']);
    expect(contents.entryCount).toBe(1);
  });

  it('ends an eStargz layer before its index', async () => {
    // eStargz appends stargz.index.json after the tar's end (github.com/containerd/stargz-snapshotter, docs/estargz.md).
    const layer = Buffer.concat([await makeTar([{ name: 'README.md', content: 'readme' }]), await makeTar([{ name: 'stargz.index.json', content: '{"version":1}' }])]);
    const result = await readImageArchive(inPieces(await ociArchive([gzipSync(layer)])));
    expect(result.layers[0]!.contents!.entries.map((entry) => entry.path)).toEqual(['README.md']);
  });

  it('ends the image archive too: nothing after it can replace the manifest', async () => {
    const layer = await makeTar([{ name: 'real', content: 'a' }]);
    const archive = Buffer.concat([await ociArchive([layer]), await makeTar([{ name: 'index.json', content: '{"manifests":[]}' }])]);
    const result = await readImageArchive(inPieces(archive, 4096));
    expect(result.layers[0]!.contents!.entries.map((entry) => entry.path)).toEqual(['real']);
  });

  it('does not end at a single zero block', async () => {
    const first = await makeTar([{ name: 'a', content: 'a' }]);
    const second = await makeTar([{ name: 'b', content: 'b' }]);
    // The first tar without its end marker, one zero block, then the second tar.
    const layer = Buffer.concat([first.subarray(0, first.length - 1024), Buffer.alloc(512), second]);
    const contents = await readLayerTar(inPieces(layer));
    expect(contents.entries.map((entry) => entry.path)).toEqual(['a', 'b']);
  });
});

describe('zstd layers', () => {
  const fixture = path.join(projectRoot, 'test', 'fixtures', 'layers', 'zstd-multi-frame.tar.zst');

  it('are read across frames and skippable frames, hard links and all', async () => {
    const zstd = await readFile(fixture);
    const result = await readImageArchive(inPieces(await ociArchive([zstd]), 3000), { keepContentOf: new Set(['app/hello.txt']) });
    const layer = result.layers[0]!;
    expect(layer.unreadable).toBeUndefined();
    expect(layer.compression).toBe('zstd');
    const contents = layer.contents as LayerContents;
    expect(contents.entries.map((entry) => [entry.path, entry.type, entry.sizeBytes])).toEqual([
      ['[first].txt', 'file', 6],
      ['app', 'directory', 0],
      ['app/data.txt', 'file', 228894],
      ['app/hello-link.txt', 'file', 16],
      ['app/hello.txt', 'hardlink', 0],
    ]);
    expect(contents.entries[4]).toMatchObject({ linkTarget: 'app/hello-link.txt', content: Buffer.from('hello from zstd\n') });
    expect(contents.sizeBytes).toBe(6 + 228894 + 16);
  });

  it('that are corrupt are reported unreadable, and the layers after them are still read', async () => {
    const zstd = await readFile(fixture);
    const corrupt = Buffer.from(zstd);
    corrupt.fill(0xff, 200, 4000);
    const after = await makeTar([{ name: 'after', content: 'x' }]);
    const result = await readImageArchive(inPieces(await ociArchive([corrupt, after])));
    expect(result.layers[0]).toMatchObject({ compression: 'zstd', unreadable: expect.stringMatching(/zstd|tar/) });
    expect(result.layers[1]!.contents!.entries.map((entry) => entry.path)).toEqual(['after']);
  });
});
