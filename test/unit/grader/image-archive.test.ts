import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArchiveReadError, readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { normaliseEntryName, readLayerTar } from '../../../runner/src/grader/facts/layer-tar.js';
import { goBinary, gzipSync, inPieces, makeTar, nativeBinary, type TarEntry } from './builders.js';

const config = {
  config: { Entrypoint: ['/hello'], User: '65532' },
  rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b'] },
  history: [
    { created_by: 'ADD rootfs.tar / # buildkit' },
    { created_by: 'ENV A=1', empty_layer: true },
    { created_by: 'COPY /out/hello /hello # buildkit' },
  ],
};

const digest = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');

async function twoLayers() {
  const bottom = await makeTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/sh', content: '#!/bin/busybox\n', mode: 0o755 }]);
  const top = await makeTar([{ name: 'hello', content: goBinary('example.com/hello', 1000), mode: 0o755 }]);
  return { bottom, top };
}

describe('reading a docker save archive', () => {
  it('reads the legacy layout, with manifest.json after the layers', async () => {
    const { bottom, top } = await twoLayers();
    const archive = await makeTar([
      { name: 'bbb/', type: 'directory' },
      { name: 'bbb/layer.tar', content: top },
      { name: 'bbb/VERSION', content: '1.0' },
      { name: 'bbb/json', content: '{"id":"bbb"}' },
      { name: 'aaa/layer.tar', content: bottom },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['x:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }]) },
    ]);
    const result = await readImageArchive(inPieces(archive, 333));
    expect(result.layout).toBe('docker-legacy');
    expect(result.config.history).toHaveLength(3);
    expect(result.layers.map((layer) => layer.contents?.entries.map((entry) => entry.path))).toEqual([['bin', 'bin/sh'], ['hello']]);
    expect(result.layers[1]!.contents!.entries[0]!.identity).toEqual({ kind: 'go-program', mainPath: 'example.com/hello', linking: { kind: 'static' } });
  });

  it('reads the OCI layout, with gzip and empty layers, whatever order the blobs come in', async () => {
    const { bottom, top } = await twoLayers();
    const gzipped = gzipSync(top);
    const empty = Buffer.alloc(1024);
    const configBlob = Buffer.from(JSON.stringify(config));
    const blob = (buffer: Buffer) => `blobs/sha256/${digest(buffer)}`;
    const archive = await makeTar([
      { name: 'manifest.json', content: JSON.stringify([{ Config: blob(configBlob), Layers: [blob(bottom), blob(empty), blob(gzipped)] }]) },
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', content: '{"schemaVersion":2,"manifests":[]}' },
      { name: blob(gzipped), content: gzipped },
      { name: blob(configBlob), content: configBlob },
      { name: blob(empty), content: empty },
      { name: blob(bottom), content: bottom },
    ]);
    const result = await readImageArchive(inPieces(archive, 4096));
    expect(result.layout).toBe('oci');
    expect(result.layers.map((layer) => layer.compression)).toEqual(['none', 'none', 'gzip']);
    expect(result.layers.map((layer) => layer.contents?.entryCount)).toEqual([2, 0, 1]);
  });

  it('follows index.json to the image manifest when there is no manifest.json', async () => {
    const { bottom } = await twoLayers();
    const configBlob = Buffer.from(JSON.stringify({ ...config, rootfs: { diff_ids: ['sha256:a'] } }));
    const manifest = Buffer.from(JSON.stringify({ config: { digest: `sha256:${digest(configBlob)}` }, layers: [{ digest: `sha256:${digest(bottom)}` }] }));
    const archive = await makeTar([
      { name: `blobs/sha256/${digest(bottom)}`, content: bottom },
      { name: `blobs/sha256/${digest(manifest)}`, content: manifest },
      { name: `blobs/sha256/${digest(configBlob)}`, content: configBlob },
      { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: `sha256:${digest(manifest)}` }] }) },
    ]);
    const result = await readImageArchive(inPieces(archive));
    expect(result.layers).toHaveLength(1);
    expect(result.layers[0]!.contents?.entries.map((entry) => entry.path)).toEqual(['bin', 'bin/sh']);
  });

  it('follows a legacy layer.tar that is a symlink to an identical layer', async () => {
    const { bottom } = await twoLayers();
    const archive = await makeTar([
      { name: 'aaa/layer.tar', content: bottom },
      { name: 'ccc/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['aaa/layer.tar', 'ccc/layer.tar'] }]) },
    ]);
    const result = await readImageArchive(inPieces(archive));
    expect(result.layers.map((layer) => layer.contents?.entryCount)).toEqual([2, 2]);
  });

  it('reports a layer with corrupt zstd data as unreadable and still reads the others', async () => {
    const { bottom } = await twoLayers();
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600, 1)]);
    const archive = await makeTar([
      { name: 'a', content: bottom },
      { name: 'z', content: zstd },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['a', 'z'] }]) },
    ]);
    const result = await readImageArchive(inPieces(archive));
    expect(result.layers[0]!.contents?.entryCount).toBe(2);
    expect(result.layers[1]).toMatchObject({ compression: 'zstd', unreadable: expect.stringContaining('zstd') });
  });

  it('reports a truncated layer as unreadable, naming the problem', async () => {
    const { bottom } = await twoLayers();
    const big = await makeTar([{ name: 'big', content: Buffer.alloc(20_000, 7) }]);
    const cut = big.subarray(0, 5000);
    const archive = await makeTar([
      { name: 'cut', content: cut },
      { name: 'a', content: bottom },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['a', 'cut'] }]) },
    ]);
    const result = await readImageArchive(inPieces(archive));
    expect(result.layers[0]!.contents?.entryCount).toBe(2);
    expect(result.layers[1]!.unreadable).toMatch(/truncated/);
  });

  it('fails clearly on a truncated archive', async () => {
    const { bottom } = await twoLayers();
    const archive = await makeTar([{ name: 'a', content: bottom }, { name: 'manifest.json', content: '[]' }]);
    await expect(readImageArchive(inPieces(archive.subarray(0, 1700)))).rejects.toThrow(ArchiveReadError);
    await expect(readImageArchive(inPieces(archive.subarray(0, 1700)))).rejects.toThrow(/truncated/);
  });

  it('fails clearly on an archive without a manifest', async () => {
    const archive = await makeTar([{ name: 'hello.txt', content: 'hi' }]);
    await expect(readImageArchive(inPieces(archive))).rejects.toThrow(/neither a usable manifest.json nor an OCI index.json/);
  });

  it('does not buffer a huge JSON-looking blob', async () => {
    const huge = Buffer.alloc(9 * 1024 * 1024, 0x20);
    huge[0] = 0x7b;
    const { bottom } = await twoLayers();
    const archive = await makeTar([
      { name: 'huge', content: huge },
      { name: 'a', content: bottom },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['a'] }]) },
    ]);
    const result = await readImageArchive(inPieces(archive, 65536));
    expect(result.layers[0]!.contents?.entryCount).toBe(2);
  });
});

describe('reading a layer tar', () => {
  it('normalises absolute and ".." names and says they tried to escape', async () => {
    const layer = await makeTar([
      { name: '/etc/passwd', content: 'root:x:0:0' },
      { name: '../../../../tmp/evil', content: 'x' },
      { name: './usr/../usr/bin/tool', content: 'y' },
    ] as TarEntry[]);
    const contents = await readLayerTar(inPieces(layer));
    expect(contents.entries.map((entry) => entry.path)).toEqual(['etc/passwd', 'tmp/evil', 'usr/bin/tool']);
    expect(contents.anomalies).toHaveLength(2);
    expect(normaliseEntryName('a/b/../../../c')).toEqual({ path: 'c', didEscape: true });
  });

  it('records whiteouts and opaque directories as deletions, not files', async () => {
    const layer = await makeTar([
      { name: 'opt/tools/.wh..wh..opq', content: '' },
      { name: 'usr/bin/.wh.make', content: '' },
      { name: '.wh.root-file', content: '' },
      { name: 'usr/bin/.wh..wh.plnk', type: 'directory' },
    ]);
    const contents = await readLayerTar(inPieces(layer));
    expect(contents.whiteouts).toEqual(['usr/bin/make', 'root-file']);
    expect(contents.opaqueDirectories).toEqual(['opt/tools']);
    expect(contents.entries).toEqual([]);
  });

  it('gives a hard link its target\'s identity', async () => {
    const layer = await makeTar([
      { name: 'usr/bin/make', content: nativeBinary(['GNU Make']), mode: 0o755 },
      { name: 'usr/bin/gmake', type: 'link', linkname: 'usr/bin/make' },
    ]);
    const contents = await readLayerTar(inPieces(layer, 8192));
    expect(contents.entries[1]).toMatchObject({ type: 'hardlink', linkTarget: 'usr/bin/make', identity: { family: 'make' } });
  });

  it('reads past an entry type it does not know (a GNU sparse file) without trouble', async () => {
    const layer = await makeTar([{ name: 'sparse', content: 'abc' }, { name: 'after', content: 'x' }]);
    layer[156] = 'S'.charCodeAt(0);
    let sum = 0;
    for (let index = 0; index < 512; index++) sum += index >= 148 && index < 156 ? 32 : layer[index]!;
    layer.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const contents = await readLayerTar(inPieces(layer));
    expect(contents.entries.map((entry) => [entry.path, entry.type])).toEqual([['sparse', 'other'], ['after', 'file']]);
  });

  it('rejects a corrupt header with a reason', async () => {
    const layer = await makeTar([{ name: 'a', content: 'abc' }]);
    layer[0] = 0x01;
    await expect(readLayerTar(inPieces(layer))).rejects.toThrow(/not a valid tar/);
  });
});
