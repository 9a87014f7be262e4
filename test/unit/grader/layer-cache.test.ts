import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLayerFactsCache } from '../../../runner/src/grader/facts/layer-cache.js';
import { readLayerTar, type LayerContents } from '../../../runner/src/grader/facts/layer-tar.js';
import { goBinary, inPieces, makeTar } from './builders.js';

const diffId = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

let folder: string;
let contents: LayerContents;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'll-layer-cache-'));
  const layer = await makeTar([
    { name: 'srv/summary.txt', content: 'words: 42\n' },
    { name: 'usr/local/go/bin/go', content: goBinary('cmd/go'), mode: 0o755 },
    { name: 'etc/.wh.old', content: '' },
  ]);
  contents = await readLayerTar(inPieces(layer, 8192), { keepContentOf: new Set(['srv/summary.txt']) });
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function entryFiles(): Promise<string[]> {
  const [version] = await readdir(folder);
  return version ? (await readdir(path.join(folder, version))).map((name) => path.join(folder, version, name)) : [];
}

describe('the layer facts cache', () => {
  it('gives back exactly what was put, bytes and identities included', async () => {
    const cache = openLayerFactsCache(folder);
    expect(await cache.get(diffId('a'))).toBeUndefined();
    await cache.put(diffId('a'), contents);
    const again = await openLayerFactsCache(folder).get(diffId('a'), new Set(['srv/summary.txt']));
    expect(again).toEqual(contents);
    expect(again!.entries[0]!.content).toEqual(Buffer.from('words: 42\n'));
    expect(again!.entries[1]!.identity).toEqual({ kind: 'build-tool', family: 'go', tool: 'go', evidence: expect.stringContaining('cmd/go') });
  });

  it('misses when a check wants bytes the entry was stored without', async () => {
    const cache = openLayerFactsCache(folder);
    const withoutBytes = await readLayerTar(inPieces(await makeTar([{ name: 'srv/summary.txt', content: 'x' }])));
    await cache.put(diffId('b'), withoutBytes);
    expect(await cache.get(diffId('b'))).toBeDefined();
    expect(await cache.get(diffId('b'), new Set(['srv/summary.txt']))).toBeUndefined();
    expect(await cache.get(diffId('b'), new Set(['elsewhere.txt']))).toBeDefined();
  });

  it('ignores and removes an entry that is damaged, from elsewhere or of another format', async () => {
    const cache = openLayerFactsCache(folder);
    await cache.put(diffId('c'), contents);
    const [file] = await entryFiles();
    const good = await readFile(file!);

    await writeFile(file!, good.subarray(0, good.length - 9)); // cut short: gzip notices
    expect(await cache.get(diffId('c'))).toBeUndefined();
    await expect(stat(file!)).rejects.toThrow();

    const stored = JSON.parse(gunzipSync(good).toString('utf8'));
    for (const broken of [{ ...stored, format: 99 }, { ...stored, diffId: diffId('other') }, { ...stored, contents: { ...stored.contents, entries: [{ path: 7 }] } }, 'not json']) {
      await writeFile(file!, gzipSync(typeof broken === 'string' ? broken : JSON.stringify(broken)));
      expect(await cache.get(diffId('c'))).toBeUndefined();
    }
  });

  it('never names a file after anything but a sha256 digest', async () => {
    const cache = openLayerFactsCache(folder);
    await cache.put('sha256:../../etc/passwd', contents);
    await cache.put('md5:abc', contents);
    expect(await entryFiles()).toEqual([]);
  });

  it('keeps the image config only when its digest is the image id, and checks it when read back', async () => {
    const cache = openLayerFactsCache(folder);
    const configJson = '{"rootfs":{"diff_ids":[]}}';
    const imageId = `sha256:${createHash('sha256').update(configJson).digest('hex')}`;
    await cache.putImage(diffId('not-the-config'), { layout: 'oci', configJson, compressions: [] });
    expect(await entryFiles()).toEqual([]);
    await cache.putImage(imageId, { layout: 'oci', configJson, compressions: ['none'] });
    expect(await cache.getImage(imageId)).toEqual({ layout: 'oci', configJson, compressions: ['none'] });
    const [file] = await entryFiles();
    const stored = JSON.parse(gunzipSync(await readFile(file!)).toString('utf8'));
    await writeFile(file!, gzipSync(JSON.stringify({ ...stored, configJson: '{"rootfs":{"diff_ids":["sha256:evil"]}}' })));
    expect(await cache.getImage(imageId)).toBeUndefined();
  });

  it('stays within its bound', async () => {
    const cache = openLayerFactsCache(folder, { maxBytes: 1 });
    await cache.put(diffId('old'), contents);
    await cache.put(diffId('new'), contents);
    // Over the bound at once: each write leaves at most what fits (here nothing but what was just used).
    expect((await entryFiles()).length).toBeLessThanOrEqual(1);
    const roomy = openLayerFactsCache(folder, { maxBytes: 10_000_000 });
    await roomy.put(diffId('x'), contents);
    await roomy.put(diffId('y'), contents);
    expect((await entryFiles()).length).toBe(2);
  });

  it('writes atomically: no temporary file is left, and a read-only folder costs nothing but the cache', async () => {
    const cache = openLayerFactsCache(folder);
    await cache.put(diffId('d'), contents);
    expect((await entryFiles()).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    const blocked = openLayerFactsCache(path.join(folder, 'a-file'));
    await writeFile(path.join(folder, 'a-file'), 'not a folder');
    await expect(blocked.put(diffId('e'), contents)).resolves.toBeUndefined();
    expect(await blocked.get(diffId('e'))).toBeUndefined();
  });
});
