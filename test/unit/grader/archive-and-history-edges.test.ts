import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { instructionOf, normaliseInstruction } from '../../../runner/src/grader/facts/history.js';
import { ArchiveReadError, readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { inPieces, makeTar, type TarEntry } from './builders.js';

// What a learner reads about an image whose archive or history is at an edge: an OCI index
// that leads nowhere, layer links that go round in a circle, history rows written with
// long build-argument lists, no spaces around a line continuation, or runs of spaces.

const digest = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
const config = JSON.stringify({ rootfs: { diff_ids: ['sha256:x'] }, history: [{ created_by: 'ADD x /' }] });
const failure = async (entries: TarEntry[]) => {
  try {
    await readImageArchive(inPieces(await makeTar(entries), 700));
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveReadError);
    return (error as Error).message;
  }
  throw new Error('the archive was read');
};
const noManifest = 'the image archive has neither a usable manifest.json nor an OCI index.json';

describe('an OCI index that leads to no image manifest', () => {
  it('is said to have no usable manifest: an index without a manifest list, an inner index with none, a manifest without a config', async () => {
    expect(await failure([{ name: 'index.json', content: '{}' }])).toBe(noManifest);
    const emptyInner = Buffer.from(JSON.stringify({ manifests: [] }));
    expect(await failure([{ name: 'index.json', content: JSON.stringify({ manifests: [{ digest: `sha256:${digest(emptyInner)}` }] }) }, { name: `blobs/sha256/${digest(emptyInner)}`, content: emptyInner }])).toBe(noManifest);
    const noConfig = Buffer.from(JSON.stringify({ layers: [] }));
    expect(await failure([{ name: 'index.json', content: JSON.stringify({ manifests: [{ digest: `sha256:${digest(noConfig)}` }] }) }, { name: `blobs/sha256/${digest(noConfig)}`, content: noConfig }])).toBe(noManifest);
  });
});

describe('layer links in a legacy archive', () => {
  it('that go round in a circle leave the layer unread, named as the manifest names it', async () => {
    const archive = await readImageArchive(
      inPieces(
        await makeTar([
          { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: ['a/layer.tar'] }]) },
          { name: 'c.json', content: config },
          { name: 'a/layer.tar', type: 'symlink', linkname: '../b/layer.tar' },
          { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
        ]),
      ),
    );
    expect(archive.layers).toEqual([{ archivePath: 'a/layer.tar', compression: 'none', unreadable: 'the archive has no layer at a/layer.tar' }]);
  });
});

describe('history rows as the learner reads them', () => {
  it('drop a build-argument list of any length written before the command', () => {
    const args = Array.from({ length: 12 }, (_, index) => `A${index}=${index}`).join(' ');
    expect(instructionOf(`|12 ${args} /bin/sh -c make`)).toBe('RUN make');
  });

  it('are not read as shell rows when the shell comes after other text', () => {
    expect(instructionOf('x /bin/sh -c #(nop) ENV A=1')).toBe('x /bin/sh -c #(nop) ENV A=1');
    expect(instructionOf('x RUN /bin/sh -c make')).toBe('x RUN /bin/sh -c make');
  });

  it('join continuation lines with or without spaces around them, and collapse runs of spaces', () => {
    expect(instructionOf('/bin/sh -c a\\\nb')).toBe('RUN a b');
    expect(instructionOf('/bin/sh -c a \\\n b')).toBe('RUN a b');
    expect(instructionOf('COPY a    b')).toBe('COPY a b');
    expect(normaliseInstruction('RUN a\\\nb')).toBe('RUN a b');
  });
});
