import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArchiveReadError, compressionOf, readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { readLayerTar } from '../../../runner/src/grader/facts/layer-tar.js';
import { gzipSync, inPieces, makeTar, type TarEntry } from './builders.js';

// A `docker save` archive at the edges: how entries are told apart, how the manifest is found,
// and what each way of failing says.

const digest = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
const config = JSON.stringify({ rootfs: { diff_ids: ['sha256:x'] }, history: [{ created_by: 'ADD x /' }] });
const read = async (entries: TarEntry[], pieceSize = 700) => readImageArchive(inPieces(await makeTar(entries), pieceSize));
const failure = async (entries: TarEntry[]) => {
  try {
    await read(entries);
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveReadError);
    return (error as Error).message;
  }
  throw new Error('the archive was read');
};

describe('compressionOf', () => {
  it('tells gzip, zstd, tar and an empty tar from anything else', async () => {
    expect(compressionOf(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(compressionOf(Buffer.from([0x1f, 0x8c]))).toBeUndefined();
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f]))).toBeUndefined();
    expect(compressionOf((await makeTar([{ name: 'a', content: 'x' }])).subarray(0, 512))).toBe('none');
    expect(compressionOf(Buffer.alloc(1024))).toBe('none');
    expect(compressionOf(Buffer.alloc(0))).toBeUndefined();
    const almost = Buffer.alloc(512);
    almost.write('ustax', 257, 'latin1');
    expect(compressionOf(almost)).toBeUndefined();
    expect(compressionOf(Buffer.alloc(261))).toBe('none');
    const short = Buffer.alloc(261);
    short[0] = 1;
    expect(compressionOf(short)).toBeUndefined();
  });
});

describe('finding the manifest', () => {
  const layer = async () => makeTar([{ name: 'etc/hostname', content: 'box\n' }]);

  it('follows an index that points at another index, and calls the layout OCI', async () => {
    const layerTar = await layer();
    const configBlob = Buffer.from(config);
    const manifest = Buffer.from(JSON.stringify({ config: { digest: `sha256:${digest(configBlob)}` }, layers: [{ digest: `sha256:${digest(layerTar)}` }] }));
    const inner = Buffer.from(JSON.stringify({ manifests: [{ digest: `sha256:${digest(manifest)}` }] }));
    const archive = await read([
      { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: `sha256:${digest(inner)}` }] }) },
      { name: `blobs/sha256/${digest(inner)}`, content: inner },
      { name: `blobs/sha256/${digest(manifest)}`, content: manifest },
      { name: `blobs/sha256/${digest(configBlob)}`, content: configBlob },
      { name: `blobs/sha256/${digest(layerTar)}`, content: layerTar },
    ]);
    expect(archive.layout).toBe('oci');
    expect(archive.configJson).toBe(config);
    expect(archive.layers).toEqual([{ archivePath: `blobs/sha256/${digest(layerTar)}`, compression: 'none', contents: expect.objectContaining({ entryCount: 1 }) }]);
  });

  it('reads a legacy archive with the manifest first, a layer missing, and JSON-looking text that is not JSON kept apart', async () => {
    const layerTar = await layer();
    const archive = await read([
      { name: 'manifest.json', content: JSON.stringify([{ Config: './c.json', Layers: ['a/layer.tar', 'gone/layer.tar'] }, { Config: 'ignored' }]) },
      { name: 'c.json', content: `  ${config}` },
      { name: 'a/layer.tar', content: layerTar },
      { name: 'repositories', content: 'not json' },
    ]);
    expect(archive.layout).toBe('docker-legacy');
    expect(archive.config).toEqual(JSON.parse(config));
    expect(archive.layers[1]).toEqual({ archivePath: 'gone/layer.tar', compression: 'none', unreadable: 'the archive has no layer at gone/layer.tar' });
  });

  it('says what is missing or broken', async () => {
    const layerTar = await layer();
    expect(await failure([{ name: 'a/layer.tar', content: layerTar }])).toBe('the image archive has neither a usable manifest.json nor an OCI index.json');
    expect(await failure([{ name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json' }]) }])).toBe('the image archive has neither a usable manifest.json nor an OCI index.json');
    expect(await failure([{ name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: [] }]) }])).toBe('the image archive lacks the image config c.json');
    expect(await failure([{ name: 'manifest.json', content: '[{"Config": ' }])).toBe('manifest.json in the image archive is not valid JSON');
    expect(await failure([{ name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: [] }]) }, { name: 'c.json', content: '{ nope' }])).toBe(
      'c.json in the image archive is not valid JSON',
    );
    expect(await failure([{ name: 'index.json', content: '{"manifests": [{"digest": "sha256:00"}]}' }, { name: 'blobs/sha256/00', content: '{ broken' }])).toBe(
      'the OCI manifest in the image archive is not valid JSON',
    );
    expect(await failure([{ name: 'index.json', content: '{ broken' }])).toBe('index.json in the image archive is not valid JSON');
    expect(await failure([{ name: 'index.json', content: '{"manifests": []}' }])).toBe('the image archive has neither a usable manifest.json nor an OCI index.json');
  });

  it('says an archive cut short is truncated, and one with a corrupt header is not a tar', async () => {
    const whole = await makeTar([{ name: 'manifest.json', content: 'x'.repeat(3000) }]);
    await expect(readImageArchive(inPieces(whole.subarray(0, 1024)))).rejects.toThrow(new ArchiveReadError('the image archive ended in the middle of an entry (truncated)'));
    const corrupt = Buffer.from(whole);
    corrupt.write('garbage!', 148, 'latin1');
    await expect(readImageArchive(inPieces(corrupt))).rejects.toThrow(new ArchiveReadError('the image archive is not a valid tar'));
  });

  it('skips a known layer named by its diffID without reading it, and reads an unknown or compressed one', async () => {
    const layerTar = await layer();
    const known = await readLayerTar(inPieces(await makeTar([{ name: 'from/cache', content: 'c' }])));
    const gz = gzipSync(layerTar);
    const archive = await readImageArchive(
      inPieces(
        await makeTar([
          { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: [`blobs/sha256/${digest(layerTar)}`, `blobs/sha256/${digest(gz)}`] }]) },
          { name: 'c.json', content: config },
          { name: `blobs/sha256/${digest(layerTar)}`, content: layerTar },
          { name: `blobs/sha256/${digest(gz)}`, content: gz },
        ]),
      ),
      { knownLayers: new Map([[`sha256:${digest(layerTar)}`, known], [`sha256:${digest(gz)}`, known]]) },
    );
    expect(archive.layers[0]).toEqual({ archivePath: `blobs/sha256/${digest(layerTar)}`, compression: 'none', contents: known, isFromCache: true });
    expect(archive.layers[1]).toMatchObject({ compression: 'gzip', contents: { entries: [expect.objectContaining({ path: 'etc/hostname' })] } });
    expect(archive.layers[1]!.isFromCache).toBeUndefined();
  });
});
