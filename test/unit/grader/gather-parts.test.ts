import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../runner/src/errors.js';
import {
  archiveOfKnown,
  archiveStartTimeoutMs,
  archiveWithoutSaving,
  contentPaths,
  engineAnswer,
  readSavedArchive,
  referenceImageFacts,
  rememberSavedArchive,
  uniqueRuns,
  type ArchiveSources,
} from '../../../runner/src/grader/facts/gather.js';
import { readImageArchive, type ImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { openLayerFactsCache, type LayerFactsCache } from '../../../runner/src/grader/facts/layer-cache.js';
import type { LayerContents } from '../../../runner/src/grader/facts/layer-tar.js';
import type { LayerFolders } from '../../../runner/src/grader/types.js';

// gatherImageFacts without the engine: where an image's layers come from (the layer cache,
// the engine's layer folders, `docker save`), and how a save stream is read. The data is one
// real image recorded once (test/fixtures/probes/README.md): its `docker save` archive, its
// config as the image store holds it, and each layer's overlay2 folder tarred as
// runner/src/sandbox/layer-folders.ts tars it.

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/probes/${name}`, import.meta.url));
const fixturePath = (name: string) => new URL(`../../fixtures/probes/${name}`, import.meta.url);
const configJson = fixture('two-layers-config.json').toString();
const imageId = `sha256:${createHash('sha256').update(configJson).digest('hex')}`;
const diffIds = (JSON.parse(configJson) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
const folderTars = [fixture('two-layers-folder-1.tar'), fixture('two-layers-folder-2.tar')];

async function* chunked(bytes: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

interface FoldersOptions {
  config?: string | undefined;
  /** Per layer, bottom first: its tar, or undefined when the folder is not there. */
  layers?: Array<Buffer | undefined>;
  /** Layers (by index) whose tar fails after the bytes were sent. */
  failing?: number[];
}

/** The engine's layer folders, answering with the recorded bytes; `reads` lists the layers asked for. */
function recordedFolders(options: FoldersOptions = {}): LayerFolders & { reads: number[] } {
  const layers = options.layers ?? folderTars;
  const reads: number[] = [];
  return {
    reads,
    layout: 'docker-legacy',
    readConfig: async (id) => (id === imageId ? ('config' in options ? options.config : configJson) : undefined),
    readLayer: async (chain) => {
      expect(chain).toEqual(diffIds.slice(0, chain.length));
      const index = chain.length - 1;
      reads.push(index);
      const bytes = layers[index];
      if (!bytes) return undefined;
      return { chunks: chunked(bytes), finished: async () => (options.failing?.includes(index) ? Promise.reject(new Error('tar exited 2')) : undefined) };
    },
  };
}

const sources = (overrides: Partial<ArchiveSources> = {}): ArchiveSources => ({ signal: undefined, keepContentOf: new Set(), layerCache: undefined, layerFolders: undefined, ...overrides });
const entryFacts = (contents: LayerContents | undefined) => contents?.entries.map((entry) => ({ path: entry.path, type: entry.type, sizeBytes: entry.sizeBytes, mode: entry.mode }));
const savedArchive = () => readImageArchive(chunked(fixture('two-layers-image.tar')), {});

let cacheFolder: string;
let cache: LayerFactsCache;
beforeEach(async () => {
  cacheFolder = await mkdtemp(path.join(tmpdir(), 'layerlab-gather-parts-'));
  cache = openLayerFactsCache(cacheFolder);
});
afterEach(async () => {
  await rm(cacheFolder, { recursive: true, force: true });
});

describe("an image's layers from the engine's layer folders", () => {
  it('gives the same layers as docker save, in its config, without saving', async () => {
    const folders = recordedFolders();
    const read = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: folders }));
    expect('archive' in read).toBe(true);
    const { archive } = read as { archive: ImageArchive };
    const saved = await savedArchive();
    expect(archive.layout).toBe('docker-legacy');
    expect(archive.configJson).toBe(configJson);
    expect(archive.config).toEqual(saved.config);
    expect(archive.layers.map((layer) => entryFacts(layer.contents))).toEqual(saved.layers.map((layer) => entryFacts(layer.contents)));
    expect(entryFacts(archive.layers[0]!.contents)).toEqual([
      { path: 'app', type: 'directory', sizeBytes: 0, mode: 0o755 },
      { path: 'app/hello.txt', type: 'file', sizeBytes: 21, mode: 0o644 },
      { path: 'app/run.sh', type: 'file', sizeBytes: 18, mode: 0o755 },
    ]);
    expect(archive.layers.map((layer) => ({ archivePath: layer.archivePath, compression: layer.compression, isFromCache: layer.isFromCache }))).toEqual(
      diffIds.map((diffId) => ({ archivePath: `blobs/sha256/${diffId.slice(7)}`, compression: 'none', isFromCache: true })),
    );
    expect(folders.reads).toEqual([0, 1]);
  });

  it('keeps the bytes of the files a check asked for, and only those', async () => {
    const read = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: recordedFolders(), keepContentOf: contentPaths({ fileContents: ['/etc/two.conf'] }) }));
    const { archive } = read as { archive: ImageArchive };
    const kept = archive.layers.flatMap((layer) => layer.contents!.entries.filter((entry) => entry.content).map((entry) => [entry.path, entry.content!.toString()]));
    expect(kept).toEqual([['etc/two.conf', 'name=two\n']]);
  });

  it('keeps what the folders gave in the cache, so the next read needs neither folders nor save', async () => {
    await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: recordedFolders(), layerCache: cache }));
    const untouched = recordedFolders({ layers: [] });
    const again = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: untouched, layerCache: cache }));
    expect(untouched.reads).toEqual([]);
    expect('archive' in again && again.archive.layers.map((layer) => entryFacts(layer.contents))).toEqual((await savedArchive()).layers.map((layer) => entryFacts(layer.contents)));
    // Without the folders too.
    expect('archive' in (await archiveWithoutSaving(imageId, diffIds, sources({ layerCache: cache })))).toBe(true);
  });

  it('reads from the folders only the layers the cache lacks', async () => {
    const saved = await savedArchive();
    await cache.put(diffIds[0]!, saved.layers[0]!.contents!);
    const folders = recordedFolders();
    const read = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: folders, layerCache: cache }));
    expect(folders.reads).toEqual([1]);
    expect('archive' in read).toBe(true);
  });

  it('trusts no config but the one the image id names', async () => {
    for (const config of [`${configJson} `, configJson.replace('/app/run.sh', '/app/other'), undefined]) {
      const folders = recordedFolders({ config });
      const read = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: folders }));
      expect(read).toEqual({ knownLayers: new Map() });
      expect(folders.reads).toEqual([]);
    }
    // Configs that are their ids' digests but no JSON, or name no layers.
    const noLayers = '{}';
    const noLayersId = `sha256:${createHash('sha256').update(noLayers).digest('hex')}`;
    const withoutRootfs: LayerFolders = { ...recordedFolders(), readConfig: async (id) => (id === noLayersId ? noLayers : undefined) };
    expect(await archiveWithoutSaving(noLayersId, diffIds, sources({ layerFolders: withoutRootfs }))).toEqual({ knownLayers: new Map() });
    const notJson = 'not json';
    const notJsonId = `sha256:${createHash('sha256').update(notJson).digest('hex')}`;
    const folders: LayerFolders = { ...recordedFolders(), readConfig: async (id) => (id === notJsonId ? notJson : undefined) };
    expect(await archiveWithoutSaving(notJsonId, diffIds, sources({ layerFolders: folders }))).toEqual({ knownLayers: new Map() });
  });

  it('reads nothing when the layers the engine reports are not those of the config', async () => {
    for (const reported of [diffIds.slice(0, 1), [...diffIds].reverse(), [diffIds[0]!, 'sha256:another'], [...diffIds, diffIds[0]!], []]) {
      const folders = recordedFolders();
      expect(await archiveWithoutSaving(imageId, reported, sources({ layerFolders: folders }))).toEqual({ knownLayers: new Map() });
      expect(folders.reads).toEqual([]);
    }
  });

  it('leaves to docker save a layer whose folder is missing, whose tar failed, or that is no tar', async () => {
    const cases: Array<[FoldersOptions, number[]]> = [
      [{ layers: [folderTars[0], undefined] }, [0]],
      [{ failing: [0] }, [1]],
      [{ layers: [Buffer.alloc(10_240, 'x'), folderTars[1]] }, [1]],
    ];
    for (const [options, readable] of cases) {
      const read = await archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: recordedFolders(options), layerCache: cache }));
      expect('knownLayers' in read).toBe(true);
      const { knownLayers } = read as { knownLayers: Map<string, LayerContents> };
      expect([...knownLayers.keys()]).toEqual(readable.map((index) => diffIds[index]));
      // What was read is cached; nothing else is, nor the image.
      for (const [index, diffId] of diffIds.entries()) expect(await cache.get(diffId) !== undefined, `layer ${index}`).toBe(readable.includes(index));
      expect(await cache.getImage(imageId)).toBeUndefined();
      await rm(cacheFolder, { recursive: true, force: true });
      cache = openLayerFactsCache(cacheFolder);
    }
  });

  it('stops when the check is stopped', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(archiveWithoutSaving(imageId, diffIds, sources({ layerFolders: recordedFolders(), signal: controller.signal }))).rejects.toThrow('stopped');
  });

  it('has nothing to give with neither cache nor folders', async () => {
    expect(await archiveWithoutSaving(imageId, diffIds, sources())).toEqual({ knownLayers: new Map() });
  });
});

describe('an archive docker save gave, kept for next time', () => {
  it('keeps each layer and the config, so the next read needs no save', async () => {
    const saved = await savedArchive();
    await rememberSavedArchive(cache, imageId, diffIds, saved, new Map());
    const again = await archiveWithoutSaving(imageId, diffIds, sources({ layerCache: cache }));
    expect('archive' in again).toBe(true);
    const { archive } = again as { archive: ImageArchive };
    expect(archive.layout).toBe(saved.layout);
    expect(archive.configJson).toBe(saved.configJson);
    expect(archive.layers.map((layer) => layer.compression)).toEqual(saved.layers.map((layer) => layer.compression));
    expect(archive.layers.map((layer) => entryFacts(layer.contents))).toEqual(saved.layers.map((layer) => entryFacts(layer.contents)));
  });

  it('keeps nothing without a cache', async () => {
    await expect(rememberSavedArchive(undefined, imageId, diffIds, await savedArchive(), new Map())).resolves.toBeUndefined();
  });

  it('does not write again the layers that came from the cache', async () => {
    const saved = await savedArchive();
    await rememberSavedArchive(cache, imageId, diffIds, saved, new Map([[diffIds[0]!, saved.layers[0]!.contents!]]));
    expect(await cache.get(diffIds[0]!)).toBeUndefined();
    expect(await cache.get(diffIds[1]!)).toBeDefined();
    const fromCache = { ...saved, layers: saved.layers.map((layer, index) => (index === 1 ? { ...layer, isFromCache: true } : layer)) };
    await rm(cacheFolder, { recursive: true, force: true });
    cache = openLayerFactsCache(cacheFolder);
    await rememberSavedArchive(cache, imageId, diffIds, fromCache, new Map());
    expect(await cache.get(diffIds[0]!)).toBeDefined();
    expect(await cache.get(diffIds[1]!)).toBeUndefined();
  });

  it('names layers by the config, and keeps no config while a layer was unreadable', async () => {
    const saved = await savedArchive();
    const unreadable = { ...saved, layers: [saved.layers[0]!, { ...saved.layers[1]!, contents: undefined, unreadable: 'cut short' }] };
    await rememberSavedArchive(cache, imageId, ['sha256:wrong', 'sha256:names'], unreadable, new Map());
    expect(await cache.get(diffIds[0]!)).toBeDefined();
    expect(await cache.get(diffIds[1]!)).toBeUndefined();
    expect(await cache.getImage(imageId)).toBeUndefined();
    // Without diff_ids in the config, the engine's list names them.
    const noIds = { ...saved, config: { ...saved.config, rootfs: undefined } } as unknown as ImageArchive;
    await rememberSavedArchive(cache, imageId, diffIds, noIds, new Map());
    expect(await cache.get(diffIds[1]!)).toBeDefined();
  });
});

describe('the docker save stream', () => {
  const options = { imageId, address: 'unix:///var/run/docker.sock', signal: undefined, keepContentOf: new Set<string>(), knownLayers: new Map<string, LayerContents>() };

  it('is read to the archive', async () => {
    const archive = await readSavedArchive(createReadStream(fixturePath('two-layers-image.tar')), options);
    expect(archive.layers.map((layer) => entryFacts(layer.contents))).toEqual((await savedArchive()).layers.map((layer) => entryFacts(layer.contents)));
  });

  it('keeps the bytes asked for', async () => {
    const archive = await readSavedArchive(createReadStream(fixturePath('two-layers-image.tar')), { ...options, keepContentOf: new Set(['app/hello.txt']) });
    expect(archive.layers[0]!.contents!.entries.find((entry) => entry.path === 'app/hello.txt')?.content?.toString()).toBe('hello from layer one\n');
  });

  it('that is no archive is said to the learner, with what to do', async () => {
    const reading = readSavedArchive(Readable.from([Buffer.from('{"message":"this is no tar"}')]), options);
    await expect(reading).rejects.toBeInstanceOf(UserError);
    const error = (await reading.catch((caught: unknown) => caught)) as UserError;
    expect(error.exitCode).toBe(ExitCode.environment);
    expect(error.message).toMatch(new RegExp(`^Could not read the image ${imageId.slice(7, 19)} from the engine at unix:///var/run/docker.sock: .+\\.$`));
    expect(error.nextStep).toBe('Check again; if it keeps failing, rebuild the image.');
  });

  it('is given up when the engine stops sending, and when the check is stopped', async () => {
    const stalled = new PassThrough();
    stalled.write(fixture('two-layers-image.tar').subarray(0, 3000));
    const started = performance.now();
    await expect(readSavedArchive(stalled, { ...options, idleTimeoutMs: 150 })).rejects.toThrow(/sent nothing for 0.15 s/);
    expect(performance.now() - started).toBeLessThan(5000);

    // Data keeps the read alive: a stream sending every 50 ms outlives a 150 ms idle limit.
    const trickle = new PassThrough();
    const bytes = fixture('two-layers-image.tar');
    const reading = readSavedArchive(trickle, { ...options, idleTimeoutMs: 150 });
    for (let offset = 0; offset < bytes.length; offset += 2048) {
      trickle.write(bytes.subarray(offset, offset + 2048));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    trickle.end();
    expect((await reading).layers).toHaveLength(2);

    const controller = new AbortController();
    const stopped = new PassThrough();
    stopped.write(bytes.subarray(0, 3000));
    const stopping = readSavedArchive(stopped, { ...options, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('the learner pressed Ctrl-C')), 30);
    await expect(stopping).rejects.toThrow('the learner pressed Ctrl-C');
  });
});

describe('the small decisions of gathering', () => {
  it("passes the engine's answer through, and says plainly when it did not come in time", async () => {
    expect(await engineAnswer('tcp://10.0.0.5:2376', Promise.resolve(42), 1000, 'answer')).toBe(42);
    const failure = new Error('No such image');
    await expect(engineAnswer('tcp://10.0.0.5:2376', Promise.reject(failure), 1000, 'answer')).rejects.toBe(failure);
    const late = await engineAnswer('tcp://10.0.0.5:2376', new Promise(() => {}), 600, 'say whether it has the image lesson-7').catch((error: unknown) => error);
    expect(late).toBeInstanceOf(UserError);
    expect((late as UserError).exitCode).toBe(ExitCode.environment);
    expect((late as UserError).message).toBe('The Docker engine at tcp://10.0.0.5:2376 did not say whether it has the image lesson-7 within 1 s; it may be busy (a build, other containers, little free memory).');
    expect((late as UserError).nextStep).toBe('Wait until it settles, then check again.');
  });

  it('waits longer for a bigger image to start streaming: 30 s and 60 s per GB', () => {
    expect(archiveStartTimeoutMs(0)).toBe(30_000);
    expect(archiveStartTimeoutMs(1)).toBe(30_001);
    expect(archiveStartTimeoutMs(1e9)).toBe(90_000);
    expect(archiveStartTimeoutMs(2.5e9)).toBe(180_000);
  });

  it('runs once for checks asking the same, for the longest time any allows', () => {
    expect(
      uniqueRuns([
        { withinMs: 1000 },
        { args: ['--version'], withinMs: 5000 },
        { withinMs: 3000 },
        { args: [], withinMs: 200 },
        { args: ['--version'], withinMs: 2000 },
      ]),
    ).toEqual([{ withinMs: 3000 }, { args: ['--version'], withinMs: 5000 }, { args: [], withinMs: 200 }]);
    expect(uniqueRuns([])).toEqual([]);
  });

  it('names the files checks want read as the archive does', () => {
    expect(contentPaths(undefined)).toEqual(new Set());
    expect(contentPaths({})).toEqual(new Set());
    expect(contentPaths({ fileContents: ['/srv/summary.txt', 'etc/os-release', '/srv/./summary.txt'] })).toEqual(new Set(['srv/summary.txt', 'etc/os-release']));
  });

  it('gives an archive from known parts only when every layer is known and the config names them', async () => {
    const saved = await savedArchive();
    const known = new Map(diffIds.map((diffId, index) => [diffId, saved.layers[index]!.contents!]));
    const image = { layout: 'oci' as const, configJson, compressions: ['gzip' as const] };
    const archive = archiveOfKnown(image, diffIds, known);
    expect(archive?.layout).toBe('oci');
    expect(archive?.layers.map((layer) => layer.compression)).toEqual(['gzip', 'none']);
    expect(archive?.layers.map((layer) => layer.contents)).toEqual([known.get(diffIds[0]!), known.get(diffIds[1]!)]);
    expect(archiveOfKnown(image, diffIds, new Map([[diffIds[0]!, saved.layers[0]!.contents!]]))).toBeUndefined();
    expect(archiveOfKnown(image, diffIds.slice(0, 1), known)).toBeUndefined();
    expect(archiveOfKnown({ ...image, configJson: '{}' }, diffIds, known)).toBeUndefined();
  });


  it('describes a reference image by its inspect data, or as missing', () => {
    const inspected = JSON.parse(fixture('image-inspect-busybox.json').toString()) as Parameters<typeof referenceImageFacts>[1];
    expect(referenceImageFacts('busybox:latest', inspected)).toEqual({
      ref: 'busybox:latest',
      isPresent: true,
      id: 'sha256:e1b2ff9dfaad3b205063736264731bf4af3d0a4172f88e19f1116f50804cf696',
      diffIds: ['sha256:c42666af5a3defb350a27661bd5b7c3043571e7863101c7861b8b228436d40b5'],
    });
    expect(referenceImageFacts('x', { Id: 'sha256:1' } as Parameters<typeof referenceImageFacts>[1])).toEqual({ ref: 'x', isPresent: true, id: 'sha256:1', diffIds: [] });
    expect(referenceImageFacts('golang:1.24', undefined)).toEqual({ ref: 'golang:1.24', isPresent: false });
  });
});
