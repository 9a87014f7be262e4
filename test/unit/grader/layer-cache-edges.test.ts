import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLayerFactsCache } from '../../../runner/src/grader/facts/layer-cache.js';
import type { LayerContents } from '../../../runner/src/grader/facts/layer-tar.js';

// The layer facts cache at its edges: which stored entries it trusts, when a kept file is
// missing, which older versions it clears, and what it evicts first.

const diffId = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const layer = (overrides: Partial<LayerContents> = {}): LayerContents => ({
  entries: [
    { path: 'etc/motd', type: 'file', sizeBytes: 3, mode: 0o644, content: Buffer.from('hi\n') },
    { path: 'etc/big', type: 'file', sizeBytes: 70_000, mode: 0o644 },
    { path: 'etc/small', type: 'file', sizeBytes: 5, mode: 0o644 },
    { path: 'etc', type: 'directory', sizeBytes: 0, mode: 0o755 },
  ],
  whiteouts: ['tmp/x'],
  opaqueDirectories: ['var'],
  sizeBytes: 70_008,
  entryCount: 5,
  anomalies: ['odd'],
  ...overrides,
});

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'll-layer-cache-edges-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function stored(): Promise<{ file: string; value: Record<string, unknown> & { contents: Record<string, unknown> } }> {
  const [version] = (await readdir(folder)).filter((name) => name.startsWith('v'));
  const [name] = await readdir(path.join(folder, version!));
  const file = path.join(folder, version!, name!);
  return { file, value: JSON.parse(gunzipSync(await readFile(file)).toString('utf8')) };
}

describe('the layer facts cache at its edges', () => {
  it('misses only when a wanted small file was stored without its bytes', async () => {
    const cache = openLayerFactsCache(folder);
    await cache.put(diffId('a'), layer());
    expect(await cache.get(diffId('a'), new Set(['etc/motd']))).toEqual(layer());
    expect(await cache.get(diffId('a'), new Set(['etc/big']))).toEqual(layer());
    expect(await cache.get(diffId('a'), new Set(['etc']))).toEqual(layer());
    expect(await cache.get(diffId('a'), new Set(['etc/other']))).toEqual(layer());
    expect(await cache.get(diffId('a'), new Set())).toEqual(layer());
    expect(await cache.get(diffId('a'), new Set(['etc/small']))).toBeUndefined();
    const exactly = layer({ entries: [{ path: 'x', type: 'file', sizeBytes: 65_536, mode: 0o644 }] });
    await cache.put(diffId('b'), exactly);
    expect(await cache.get(diffId('b'), new Set(['x']))).toBeUndefined();
  });

  it('refuses stored entries with any field of the wrong kind, and removes them', async () => {
    const cache = openLayerFactsCache(folder);
    await cache.put(diffId('c'), layer());
    const { file, value } = await stored();
    const entry = (value.contents.entries as Array<Record<string, unknown>>)[0]!;
    const variants: Array<Record<string, unknown>> = [
      { ...value, reader: 'other' },
      { ...value, contents: undefined },
      { ...value, contents: { ...value.contents, entries: 'x' } },
      { ...value, contents: { ...value.contents, whiteouts: 'x' } },
      { ...value, contents: { ...value.contents, opaqueDirectories: null } },
      { ...value, contents: { ...value.contents, sizeBytes: '1' } },
      { ...value, contents: { ...value.contents, entryCount: null } },
      { ...value, contents: { ...value.contents, anomalies: {} } },
      { ...value, contents: { ...value.contents, entries: [{ ...entry, type: 'socket' }] } },
      { ...value, contents: { ...value.contents, entries: [{ ...entry, sizeBytes: '3' }] } },
      { ...value, contents: { ...value.contents, entries: [{ ...entry, mode: null }] } },
      { ...value, contents: { ...value.contents, entries: [{ ...entry, content: 5 }] } },
      { ...value, contents: { ...value.contents, entries: [null] } },
    ];
    for (const variant of variants) {
      await writeFile(file, gzipSync(JSON.stringify(variant)));
      expect(await cache.get(diffId('c')), JSON.stringify(variant).slice(0, 120)).toBeUndefined();
      await expect(stat(file)).rejects.toThrow();
    }
    await writeFile(file, gzipSync(JSON.stringify(value)));
    expect(await cache.get(diffId('c'))).toEqual(layer());
    const { content: _content, ...noContent } = entry;
    await writeFile(file, gzipSync(JSON.stringify({ ...value, contents: { ...value.contents, entries: [{ ...noContent, type: 'other' }] } })));
    expect(await cache.get(diffId('c'))).toMatchObject({ entries: [{ path: 'etc/motd', type: 'other' }] });
  });

  it('reads nothing for a name that is not a sha256 digest', async () => {
    const cache = openLayerFactsCache(folder);
    expect(await cache.get('sha256:abc')).toBeUndefined();
    expect(await cache.get(`SHA256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(await cache.get(`sha256:${'a'.repeat(64)}x`)).toBeUndefined();
    expect(await cache.getImage('sha256:abc')).toBeUndefined();
    await cache.putImage('sha256:abc', { layout: 'oci', configJson: '{}', compressions: [] });
    expect(await readdir(folder)).toEqual([]);
  });

  it('trusts a stored image only when every field is what it wrote', async () => {
    const cache = openLayerFactsCache(folder);
    const configJson = '{"a":1}';
    const imageId = `sha256:${createHash('sha256').update(configJson).digest('hex')}`;
    await cache.putImage(imageId, { layout: 'docker-legacy', configJson, compressions: ['gzip'] });
    expect(await cache.getImage(imageId)).toEqual({ layout: 'docker-legacy', configJson, compressions: ['gzip'] });
    const { file, value } = await stored();
    for (const variant of [{ ...value, format: 0 }, { ...value, reader: 'x' }, { ...value, configJson: 5 }, { ...value, compressions: 'gzip' }, { ...value, layout: 'zip' }]) {
      await writeFile(file, gzipSync(JSON.stringify(variant)));
      expect(await cache.getImage(imageId), JSON.stringify(variant)).toBeUndefined();
      await expect(stat(file)).rejects.toThrow();
    }
    await writeFile(file, 'not gzip');
    expect(await cache.getImage(imageId)).toBeUndefined();
    await expect(stat(file)).rejects.toThrow();
    expect(await cache.getImage(imageId)).toBeUndefined();
  });

  it('clears the folders of older versions when it writes, and nothing else', async () => {
    await mkdir(path.join(folder, 'v0-0123456789abcdef'), { recursive: true });
    await mkdir(path.join(folder, 'keep-me'), { recursive: true });
    await mkdir(path.join(folder, 'version-notes'), { recursive: true });
    const cache = openLayerFactsCache(folder);
    expect(await cache.get(diffId('d'))).toBeUndefined();
    expect((await readdir(folder)).sort()).toEqual(['keep-me', 'v0-0123456789abcdef', 'version-notes']);
    await cache.put(diffId('d'), layer());
    const names = (await readdir(folder)).sort();
    expect(names).toHaveLength(3);
    expect(names.filter((name) => name !== 'keep-me' && name !== 'version-notes')).toEqual([expect.stringMatching(/^v\d+-[0-9a-f]{16}$/)]);
    expect(names).not.toContain('v0-0123456789abcdef');
  });

  it('evicts the least recently used entries down to 80% of its bound, and a read counts as a use', async () => {
    const probe = openLayerFactsCache(folder);
    await probe.put(diffId('size'), layer());
    const size = (await stat((await stored()).file)).size;
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder);
    // Room for four entries: a fifth write evicts down to 80% (three entries), oldest first.
    const cache = openLayerFactsCache(folder, { maxBytes: size * 4 + size / 2 });
    const order = ['one', 'two', 'three', 'four'];
    for (const [index, name] of order.entries()) {
      await cache.put(diffId(name), layer());
      const [version] = await readdir(folder);
      const past = new Date(Date.now() - (10 - index) * 60_000);
      await utimes(path.join(folder, version!, `${diffId(name).slice(7)}.json.gz`), past, past);
    }
    expect(await cache.get(diffId('one'))).toBeDefined();
    await cache.put(diffId('five'), layer());
    const kept = await Promise.all(['one', 'two', 'three', 'four', 'five'].map(async (name) => [name, (await cache.get(diffId(name))) !== undefined]));
    expect(kept).toEqual([
      ['one', true],
      ['two', false],
      ['three', false],
      ['four', true],
      ['five', true],
    ]);
  });
});
