import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { headOnlySizeRecord, readLayerTar, type LayerContents } from '../../../runner/src/grader/facts/layer-tar.js';
import { inPieces } from './builders.js';

// The records a layer folder's tar carries beside an entry (runner/src/sandbox/layer-tar.pl):
// a file's real size when only its head was sent, and the xattr that marks an opaque folder,
// in either of overlayfs' namespaces. Read as facts only in a folder's tar, and only when
// they make sense.

async function tarWith(entries: Array<{ header: Parameters<tar.Pack["entry"]>[0]; content?: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content) pack.entry({ ...header, size: content.length }, content, callback);
      else pack.entry(header, callback);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const head = Buffer.alloc(4096, 'h');
const headOnly = (name: string, record: string | undefined) => ({ header: { name, type: 'file' as const, mode: 0o644, ...(record === undefined ? {} : { pax: { [headOnlySizeRecord]: record } }) }, content: head });
const sizeOf = (contents: LayerContents, name: string) => contents.entries.find((entry) => entry.path === name)?.sizeBytes;

describe("a layer folder's size record", () => {
  it('gives a file sent as its head its real size, and is ignored when it is no size or no bigger than what was sent', async () => {
    const archive = await tarWith([
      headOnly('real', '70000'),
      headOnly('letters', 'abc'),
      headOnly('sixteen-digits', '1234567890123456'),
      headOnly('smaller', '100'),
      headOnly('same', '4096'),
      headOnly('none', undefined),
    ]);
    const folder = await readLayerTar(inPieces(archive, 1000), { form: 'overlay-folder' });
    expect(Object.fromEntries(folder.entries.map((entry) => [entry.path, entry.sizeBytes]))).toEqual({ real: 70_000, letters: 4096, 'sixteen-digits': 4096, smaller: 4096, same: 4096, none: 4096 });
    expect(folder.sizeBytes).toBe(70_000 + 5 * 4096);
    // In a layer tar it means nothing: the file is the bytes that follow.
    expect(sizeOf(await readLayerTar(inPieces(archive, 1000)), 'real')).toBe(4096);
  });

  it('hands over the bytes a check asked for only when they are the whole file', async () => {
    const archive = await tarWith([headOnly('head-only', '9000'), headOnly('whole', '100'), headOnly('exactly', '4096')]);
    const folder = await readLayerTar(inPieces(archive), { form: 'overlay-folder', keepContentOf: new Set(['head-only', 'whole', 'exactly']) });
    const byPath = new Map(folder.entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('head-only')).toEqual({ path: 'head-only', type: 'file', sizeBytes: 9000, mode: 0o644 });
    expect(byPath.get('whole')?.content).toEqual(head);
    expect(byPath.get('exactly')?.content).toEqual(head);
  });
});

describe("a layer folder's opaque mark", () => {
  it('is read in the trusted and the user namespace, only as "y", and only on a folder', async () => {
    const archive = await tarWith([
      { header: { name: 'trusted/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } } },
      { header: { name: 'user/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.user.overlay.opaque': 'y' } } },
      { header: { name: 'not-y/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'n' } } },
      { header: { name: 'other-xattr/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.origin': 'y' } } },
      { header: { name: 'a-file', type: 'file', mode: 0o644, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }, content: Buffer.from('x') },
    ]);
    const folder = await readLayerTar(inPieces(archive), { form: 'overlay-folder' });
    expect(folder.opaqueDirectories).toEqual(['trusted', 'user']);
    expect(folder.entries.map((entry) => entry.path)).toEqual(['trusted', 'user', 'not-y', 'other-xattr', 'a-file']);
    // Each opaque folder counts twice, as its layer tar has the folder and its .wh..wh..opq.
    expect(folder.entryCount).toBe(7);
    const asLayer = await readLayerTar(inPieces(archive));
    expect(asLayer.opaqueDirectories).toEqual([]);
    expect(asLayer.entryCount).toBe(5);
  });
});
