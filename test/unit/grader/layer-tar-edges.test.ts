import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { LayerReadError, normaliseEntryName, readLayerTar } from '../../../runner/src/grader/facts/layer-tar.js';
import { inPieces, makeTar } from './builders.js';

// One layer's tar, read entry by entry: what is recorded, what is a deletion, what is odd.

/** A tar with entry types makeTar does not write (devices, fifos, contiguous files). */
async function rawTar(entries: Array<Partial<tar.Header> & Pick<tar.Header, 'name'> & { content?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      if (content !== undefined) pack.entry({ ...header, size: Buffer.byteLength(content) }, content, (error) => (error ? reject(error) : resolve()));
      else pack.entry(header, (error) => (error ? reject(error) : resolve()));
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe('normaliseEntryName', () => {
  it('makes names relative, resolves . and .., reads backslashes as slashes, and says when a name escapes', () => {
    expect(normaliseEntryName('./usr//bin/./x')).toEqual({ path: 'usr/bin/x', didEscape: false });
    expect(normaliseEntryName('/etc/passwd')).toEqual({ path: 'etc/passwd', didEscape: true });
    expect(normaliseEntryName('a/../../b')).toEqual({ path: 'b', didEscape: true });
    expect(normaliseEntryName('a/b/../c')).toEqual({ path: 'a/c', didEscape: false });
    expect(normaliseEntryName('a\\b')).toEqual({ path: 'a/b', didEscape: false });
    expect(normaliseEntryName('./')).toEqual({ path: '', didEscape: false });
  });
});

describe('readLayerTar', () => {
  it('records each entry with its type, size and mode, counting only file bytes', async () => {
    const layer = await readLayerTar(
      inPieces(
        await rawTar([
          { name: './', type: 'directory', mode: 0o755 },
          { name: 'bin/', type: 'directory', mode: 0o750 },
          { name: 'bin/a', type: 'file', mode: 0o640, content: 'hello' },
          { name: 'bin/c', type: 'contiguous-file', mode: 0o600, content: 'xyz' },
          { name: 'bin/l', type: 'symlink', linkname: 'a', mode: 0o777 },
          { name: 'bin/h', type: 'link', linkname: './bin/a', mode: 0o640 },
          { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
          { name: 'run/fifo', type: 'fifo', mode: 0o600 },
        ]),
        100,
      ),
    );
    expect(layer).toEqual({
      entries: [
        { path: 'bin', type: 'directory', sizeBytes: 0, mode: 0o750 },
        { path: 'bin/a', type: 'file', sizeBytes: 5, mode: 0o640 },
        { path: 'bin/c', type: 'file', sizeBytes: 3, mode: 0o600 },
        { path: 'bin/l', type: 'symlink', sizeBytes: 0, mode: 0o777, linkTarget: 'a' },
        { path: 'bin/h', type: 'hardlink', sizeBytes: 0, mode: 0o640, linkTarget: 'bin/a' },
        { path: 'dev/null', type: 'other', sizeBytes: 0, mode: 0o666 },
        { path: 'run/fifo', type: 'other', sizeBytes: 0, mode: 0o600 },
      ],
      whiteouts: [],
      opaqueDirectories: [],
      sizeBytes: 8,
      entryCount: 7, // every entry but the root folder "./", which only some writers list
      anomalies: [],
    });
  });

  it('reads whiteouts anywhere, the root included, opaque markers, and ignores aufs bookkeeping', async () => {
    const layer = await readLayerTar(
      inPieces(await makeTar([{ name: '.wh.top' }, { name: 'a/b/.wh.c' }, { name: 'd/.wh..wh..opq' }, { name: '.wh..wh..opq' }, { name: '.wh..wh.plnk' }, { name: 'a/.wh..wh.aufs' }])),
    );
    expect(layer).toMatchObject({ entries: [], whiteouts: ['top', 'a/b/c'], opaqueDirectories: ['d', ''], sizeBytes: 0, entryCount: 6 });
  });

  it('keeps the bytes asked for, and small files for later hard links, within bounds', async () => {
    const big = 'b'.repeat(70_000);
    const archive = await makeTar([
      { name: 'etc/motd', content: 'hi\n' },
      { name: 'etc/other', content: 'other' },
      { name: 'etc/big', content: big },
      { name: 'etc/link', type: 'link', linkname: 'etc/other' },
      { name: 'etc/biglink', type: 'link', linkname: 'etc/big' },
    ]);
    const layer = await readLayerTar(inPieces(archive, 777), { keepContentOf: new Set(['etc/motd', 'etc/big', 'etc/link', 'etc/biglink']) });
    const byPath = new Map(layer.entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('etc/motd')?.content).toEqual(Buffer.from('hi\n'));
    expect(byPath.get('etc/other')?.content).toBeUndefined();
    expect(byPath.get('etc/big')?.content).toBeUndefined();
    expect(byPath.get('etc/link')?.content).toEqual(Buffer.from('other'));
    expect(byPath.get('etc/biglink')?.content).toBeUndefined();
    const nothingAsked = await readLayerTar(inPieces(archive), {});
    expect(nothingAsked.entries.every((entry) => entry.content === undefined)).toBe(true);
    const exactly = await readLayerTar(inPieces(await makeTar([{ name: 'x', content: 'x'.repeat(65_536) }])), { keepContentOf: new Set(['x']) });
    expect(exactly.entries[0]?.content?.length).toBe(65_536);
  });

  it('notes names that escape the root, twenty at most, shortened to 200 characters', async () => {
    const names = Array.from({ length: 22 }, (_, index) => ({ name: `../escape${index}` }));
    const layer = await readLayerTar(inPieces(await makeTar(names)));
    expect(layer.anomalies).toHaveLength(20);
    expect(layer.anomalies[0]).toBe('the name "../escape0" points outside the root; read as /escape0');
    const long = await readLayerTar(inPieces(await makeTar([{ name: `/${'n'.repeat(90)}/${'m'.repeat(90)}/${'o'.repeat(90)}` }])));
    expect(long.anomalies[0]).toBe(`the name "${`/${'n'.repeat(90)}/${'m'.repeat(90)}/${'o'.repeat(90)}`.slice(0, 200)}" points outside the root; read as /${'n'.repeat(90)}/${'m'.repeat(90)}/${'o'.repeat(90)}`);
  });

  it('says why a tar could not be read', async () => {
    const archive = await makeTar([{ name: 'a', content: 'x'.repeat(5000) }]);
    await expect(readLayerTar(inPieces(archive.subarray(0, 2048)))).rejects.toThrow(new LayerReadError('its tar ends in the middle of an entry (truncated)'));
    const corrupt = Buffer.from(archive);
    corrupt.write('garbage!', 148, 'latin1');
    await expect(readLayerTar(inPieces(corrupt))).rejects.toThrow(new LayerReadError('it is not a valid tar (a header is corrupt)'));
    const failing = (async function* () {
      yield archive.subarray(0, 512);
      throw new Error('the engine hung up');
    })();
    await expect(readLayerTar(failing)).rejects.toThrow(/^its tar could not be read: the engine hung up$|truncated/);
  });
});
