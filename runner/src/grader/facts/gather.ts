import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { isNotFound, withTimeout, type Engine } from '../../engine.js';
import { environmentError } from '../../errors.js';
import { maxKeptFileBytes, type ContextChangeFacts, type ContextChangeRequest, type DockerfileFacts, type ExerciseFolder, type FileFacts, type ImageFacts, type LayerFolders, type LayerFacts, type ProbeNeeds, type ProbeResults, type ReferenceFileFacts, type ReferenceFileRequest, type ReferenceImageFacts, type RunProbeRequest } from '../types.js';
import { layerOrigins } from './history.js';
import { probeHttp } from './http-probe.js';
import { removeStaleProbes } from './probe-container.js';
import { ArchiveReadError, readImageArchive, type ImageArchive, type ImageConfigJson } from './image-archive.js';
import type { CachedImage, LayerFactsCache } from './layer-cache.js';
import { normaliseEntryName, readLayerTar, type LayerContents } from './layer-tar.js';
import { followLinks, mergeLayers, type MergedView } from './merged-view.js';
import { probeContextChange } from './context-change.js';
import { readDockerfile } from './dockerfile.js';
import { probeRebuild } from './rebuild-probe.js';
import { referenceFileFacts } from './reference-files.js';
import { probeRun, runProbeKey } from './run-probe.js';
import { readLoaderCache } from './shared-libraries.js';

export interface GatherOptions {
  /** Probes the checks asked for; none by default. */
  probes?: ProbeNeeds;
  /** Where published ports of `engine` can be dialled; needed when a probe runs. */
  publishedPortHost?: string;
  signal?: AbortSignal;
  /** Called as each phase starts, for progress lines. */
  onPhase?(phase: 'reading-layers' | 'running-container' | 'rebuilding' | 'rebuilding-changed-context'): void;
  /** Labels for containers the probes create (tests add theirs). */
  labels?: Record<string, string>;
  /** The exercise's project, for the rebuild probe (e.g. /root/exercises/lesson-5 on the engine's host). */
  exerciseFolder?: ExerciseFolder;
  /** Facts of layers read before, by diffID (see layer-cache.ts); every layer is read when absent. */
  layerCache?: LayerFactsCache;
  /** The engine's layer folders, read instead of `docker save` where they are there (see LayerFolders). */
  layerFolders?: LayerFolders;
}

const inspectTimeoutMs = 30_000;
/**
 * A busy engine (builds running, a small machine) can take long to start sending a big
 * image, so the wait grows with the image: 30 s, plus 60 s per GB.
 */
export const archiveStartTimeoutMs = (imageBytes: number) => 30_000 + Math.ceil((imageBytes / 1e9) * 60_000);
/** Once it streams, the engine may pause between layers; not for this long. */
const archiveIdleTimeoutMs = 120_000;

/** Waits for the engine; a limit that is hit is the machine's state, said plainly, not a bug. */
export async function engineAnswer<T>(address: string, promise: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(promise, ms, 'timed out');
  } catch (error) {
    if (!(error instanceof Error) || error.message !== 'timed out') throw error;
    throw environmentError(
      `The Docker engine at ${address} did not ${what} within ${Math.round(ms / 1000)} s; it may be busy (a build, other containers, little free memory).`,
      'Wait until it settles, then check again.',
    );
  }
}

/**
 * Gathers everything the checks judge, once: the image's inspect data, its archive
 * (`GET /images/{id}/get`, streamed, both layouts) and the probes the checks asked for.
 * Resolves to undefined when the engine has no such image.
 */
export async function gatherImageFacts(engine: Engine, ref: string, options: GatherOptions = {}): Promise<ImageFacts | undefined> {
  const { signal } = options;
  let inspect: Docker.ImageInspectInfo;
  try {
    inspect = await engineAnswer(engine.address, engine.docker.getImage(ref).inspect(), inspectTimeoutMs, `say whether it has the image ${ref}`);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  signal?.throwIfAborted();

  const readingArchive = (async () => {
    options.onPhase?.('reading-layers');
    return await readArchiveWithLinkTargets(engine, inspect.Id, { signal, keepContentOf: contentPaths(options.probes), layerCache: options.layerCache, layerFolders: options.layerFolders });
  })();
  const probing = (async (): Promise<ProbeResults> => {
    const referenceImages = await inspectReferenceImages(engine, options.probes?.referenceImages ?? []);
    const referenceFiles = await readReferenceFiles(engine, options.probes?.referenceFiles ?? [], { signal, layerCache: options.layerCache, layerFolders: options.layerFolders });
    const contextChange = options.probes?.contextChange ? { contextChange: await probeContextChangeOf(engine, inspect.Id, options.probes.contextChange, options) } : {};
    const dockerfile = options.probes?.dockerfile ? { dockerfile: await readDockerfileOf(engine, inspect.Id, options) } : {};
    const rebuildRequest = options.probes?.rebuild;
    let rebuild: Pick<ProbeResults, 'rebuild'> = {};
    if (rebuildRequest && !options.exerciseFolder) {
      rebuild = { rebuild: { ...rebuildRequest, folder: '', outcome: 'not-given' } };
    } else if (rebuildRequest && options.exerciseFolder) {
      options.onPhase?.('rebuilding');
      rebuild = {
        rebuild: await probeRebuild(engine, rebuildRequest, {
          folder: options.exerciseFolder,
          helperImage: inspect.Id,
          ...(signal ? { signal } : {}),
          ...(options.labels ? { labels: options.labels } : {}),
        }),
      };
    }
    const http = options.probes?.http;
    const runs = uniqueRuns(options.probes?.runs ?? []);
    if (!http && !runs.length) return { ...referenceImages, ...referenceFiles, ...rebuild, ...contextChange, ...dockerfile };
    if (http && !options.publishedPortHost) throw new Error('gatherImageFacts: an HTTP probe needs publishedPortHost');
    options.onPhase?.('running-container');
    await removeStaleProbes(engine);
    const probeOptions = { ...(signal ? { signal } : {}), ...(options.labels ? { labels: options.labels } : {}) };
    const results: ProbeResults = { ...referenceImages, ...referenceFiles, ...rebuild, ...contextChange, ...dockerfile };
    if (http) results.http = await probeHttp(engine, inspect.Id, http, { publishedPortHost: options.publishedPortHost!, ...probeOptions });
    // One container at a time: they are short, and the learner's machine is small.
    if (runs.length) {
      results.runs = [];
      for (const run of runs) results.runs.push(await probeRun(engine, inspect.Id, run, probeOptions));
    }
    return results;
  })();
  // Both run at once; wait for both, so a failure in one never leaves the other's container.
  const [archiveResult, probeResult] = await Promise.allSettled([readingArchive, probing]);
  if (archiveResult.status === 'rejected') throw archiveResult.reason;
  if (probeResult.status === 'rejected') throw probeResult.reason;
  return buildFacts(ref, inspect, archiveResult.value.archive, probeResult.value, archiveResult.value.merged);
}

/** The exercise's folder rebuilt with the files that hold a value changed (see context-change.ts). */
async function probeContextChangeOf(engine: Engine, imageId: string, request: ContextChangeRequest, options: GatherOptions): Promise<ContextChangeFacts> {
  if (!options.exerciseFolder) return { ...request, outcome: 'not-given' };
  options.onPhase?.('rebuilding-changed-context');
  return await probeContextChange(engine, request, {
    folder: options.exerciseFolder,
    helperImage: imageId,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
}

/** The exercise folder's Dockerfile (see dockerfile.ts); read through the engine, with the graded image as the never-started helper. */
async function readDockerfileOf(engine: Engine, imageId: string, options: GatherOptions): Promise<DockerfileFacts> {
  if (!options.exerciseFolder) return { outcome: 'not-given' };
  return await readDockerfile(engine, {
    folder: options.exerciseFolder,
    helperImage: imageId,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
}

/** Checks that ask for the same arguments share a run, with the longest time any of them allows. */
export function uniqueRuns(requests: readonly RunProbeRequest[]): RunProbeRequest[] {
  const byKey = new Map<string, RunProbeRequest>();
  for (const request of requests) {
    const key = runProbeKey(request);
    const earlier = byKey.get(key);
    byKey.set(key, earlier ? { ...earlier, withinMs: Math.max(earlier.withinMs, request.withinMs) } : request);
  }
  return [...byKey.values()];
}

/** The paths checks asked to read, as the archive names them: relative, no leading "/". */
export function contentPaths(probes: ProbeNeeds | undefined): ReadonlySet<string> {
  return new Set((probes?.fileContents ?? []).map((filePath) => normaliseEntryName(filePath).path));
}

/** Reference images are read from the same engine: the base an exercise builds on, say. */
async function inspectReferenceImages(engine: Engine, refs: readonly string[]): Promise<Pick<ProbeResults, 'referenceImages'>> {
  if (!refs.length) return {};
  const referenceImages: Record<string, ReferenceImageFacts> = {};
  for (const ref of new Set(refs)) {
    try {
      referenceImages[ref] = referenceImageFacts(ref, await engineAnswer(engine.address, engine.docker.getImage(ref).inspect(), inspectTimeoutMs, `say whether it has the image ${ref}`));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      referenceImages[ref] = referenceImageFacts(ref, undefined);
    }
  }
  return { referenceImages };
}

/** A reference image as the checks see it: there or not, and its id and layers (from its inspect data). */
export function referenceImageFacts(ref: string, found: Pick<Docker.ImageInspectInfo, 'Id' | 'RootFS'> | undefined): ReferenceImageFacts {
  return found ? { ref, isPresent: true, id: found.Id, diffIds: found.RootFS?.Layers ?? [] } : { ref, isPresent: false };
}

/**
 * Other images' layers, read for one path each: the image an exercise recovers a file from,
 * say. Each image's archive is streamed once; only the asked-for paths' bytes are kept.
 */
async function readReferenceFiles(
  engine: Engine,
  requests: readonly ReferenceFileRequest[],
  sources: Omit<ArchiveSources, 'keepContentOf'>,
): Promise<Pick<ProbeResults, 'referenceFiles'>> {
  if (!requests.length) return {};
  const referenceFiles: ReferenceFileFacts[] = [];
  for (const image of new Set(requests.map((request) => request.image))) {
    const wanted = requests.filter((request) => request.image === image);
    let id: string;
    try {
      id = (await engineAnswer(engine.address, engine.docker.getImage(image).inspect(), inspectTimeoutMs, `say whether it has the image ${image}`)).Id;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      referenceFiles.push(...wanted.map((request): ReferenceFileFacts => ({ ...request, isImagePresent: false })));
      continue;
    }
    const archive = await readArchiveOf(engine, id, { ...sources, keepContentOf: new Set(wanted.map((request) => normaliseEntryName(request.path).path)) });
    referenceFiles.push(...wanted.map((request) => referenceFileFacts(request, archive)));
  }
  return { referenceFiles };
}

/** Where an image's parts can come from besides `docker save`, and what a check wants kept. */
export interface ArchiveSources {
  signal: AbortSignal | undefined;
  keepContentOf: ReadonlySet<string>;
  layerCache: LayerFactsCache | undefined;
  layerFolders: LayerFolders | undefined;
  /** Layers read already, by diffID, that hold every wanted byte; used as they are. */
  knownLayers?: ReadonlyMap<string, LayerContents>;
}

/**
 * A chain of links is followed within one read (every symlink is in the merged view); a
 * further read is only needed when a link leads to a hard link whose original is elsewhere.
 */
const maxLinkTargetReads = 3;

/**
 * The image's archive and merged view, with the bytes of every wanted path as a container
 * reads it: a wanted path that is a symlink (or lies under one) is followed to its target,
 * whose name is only known once the layers have been read, so the layers that hold a target
 * without its bytes are read again, keeping them; the others are used as they are.
 */
export async function readArchiveWithLinkTargets(engine: Engine, imageId: string, sources: ArchiveSources): Promise<{ archive: ImageArchive; merged: MergedView }> {
  let keepContentOf = sources.keepContentOf;
  let archive = await readArchiveOf(engine, imageId, sources);
  for (let reads = 0; ; reads++) {
    const merged = mergeLayers(archive.layers.map((layer) => layer.contents));
    const targets = linkTargetsToKeep(merged.files, keepContentOf);
    if (!targets.size || reads === maxLinkTargetReads) return { archive, merged };
    keepContentOf = new Set([...keepContentOf, ...targets.keys()]);
    archive = await readArchiveOf(engine, imageId, { ...sources, keepContentOf, knownLayers: layersExcept(archive, new Set(targets.values())) });
  }
}

/**
 * The paths whose bytes a container reading a wanted path gets, where the merged view lacks
 * them, each with the index of the layer whose tar holds them: a symlink's target (through
 * any chain, a linked folder on the way), and the original of a hard link. Each is a small
 * regular file; paths already wanted are left out, so asking again ends.
 */
export function linkTargetsToKeep(files: ReadonlyMap<string, FileFacts>, wanted: ReadonlySet<string>): Map<string, number> {
  const targets = new Map<string, number>();
  for (const wantedPath of wanted) {
    const lookup = followLinks(files, wantedPath);
    const file = lookup.state === 'found' ? files.get(lookup.path) : undefined;
    if (!file || file.type !== 'file' || file.content || file.sizeBytes > maxKeptFileBytes) continue;
    // A hard link's tar entry takes its bytes from the original's, in the same layer's tar as a rule.
    const holders = [file.path, ...(file.hardLinkTo !== undefined ? [file.hardLinkTo] : [])];
    for (const holder of holders) if (!wanted.has(holder)) targets.set(holder, files.get(holder)?.layer ?? file.layer);
  }
  return targets;
}

/** The archive's layers by diffID, but for those at `indexes` (read again). */
export function layersExcept(archive: ImageArchive, indexes: ReadonlySet<number>): Map<string, LayerContents> {
  const diffIds = archive.config.rootfs?.diff_ids ?? [];
  const rereads = new Set([...indexes].map((index) => diffIds[index]));
  const layers = new Map<string, LayerContents>();
  for (const [index, layer] of archive.layers.entries()) {
    const diffId = diffIds[index];
    if (diffId && layer.contents && !rereads.has(diffId)) layers.set(diffId, layer.contents);
  }
  return layers;
}

/**
 * An image's config and layers, from the cheapest place that has them: the layer cache for
 * layers graded before, the engine's layer folders for the rest, and `docker save` (streamed)
 * for whatever neither has. Layers read now are kept in the cache for next time.
 */
async function readArchiveOf(engine: Engine, imageId: string, sources: ArchiveSources): Promise<ImageArchive> {
  const inspect = await engineAnswer(engine.address, engine.docker.getImage(imageId).inspect(), inspectTimeoutMs, `describe the image ${imageId.slice(7, 19)}`);
  const diffIds = inspect.RootFS?.Layers ?? [];
  const known = await archiveWithoutSaving(imageId, diffIds, sources);
  if ('archive' in known) return known.archive;
  // Engines refuse to save an image without layers ("empty export - not implemented", 20.10
  // and 26.1 alike), so what such an image is, its config and history, comes from the API.
  if (diffIds.length === 0) return await layerlessArchive(engine, inspect);
  const archive = await streamArchive(engine, imageId, inspect.Size ?? 0, sources.signal, sources.keepContentOf, known.knownLayers);
  await rememberSavedArchive(sources.layerCache, imageId, diffIds, archive, known.knownLayers);
  return archive;
}

/**
 * The image's archive from the layer cache and the engine's layer folders, when they hold all
 * of it (its config and every layer); else the layers they did hold, for `docker save` to
 * skip. Layers read from the folders are kept in the cache either way.
 */
export async function archiveWithoutSaving(
  imageId: string,
  diffIds: readonly string[],
  sources: ArchiveSources,
): Promise<{ archive: ImageArchive } | { knownLayers: Map<string, LayerContents> }> {
  const { keepContentOf, layerCache, layerFolders } = sources;
  const knownLayers = new Map<string, LayerContents>(sources.knownLayers);
  if (layerCache) {
    for (const diffId of new Set(diffIds)) {
      if (knownLayers.has(diffId)) continue;
      const known = await layerCache.get(diffId, keepContentOf);
      if (known) knownLayers.set(diffId, known);
    }
  }
  // Graded before, every layer and the config known: nothing to stream at all.
  const cachedImage = layerCache && diffIds.every((diffId) => knownLayers.has(diffId)) ? await layerCache.getImage(imageId) : undefined;
  const fromCache = cachedImage && archiveOfKnown(cachedImage, diffIds, knownLayers);
  if (fromCache) return { archive: fromCache };

  if (layerFolders) {
    const image = await readLayerFolders(layerFolders, imageId, diffIds, knownLayers, sources);
    const fromFolders = image && archiveOfKnown(image, diffIds, knownLayers);
    if (fromFolders) {
      await layerCache?.putImage(imageId, image);
      return { archive: fromFolders };
    }
  }
  return { knownLayers };
}

/** Layers `docker save` gave now are kept for next time, and the config once every layer was read. */
export async function rememberSavedArchive(
  layerCache: LayerFactsCache | undefined,
  imageId: string,
  diffIds: readonly string[],
  archive: ImageArchive,
  knownLayers: ReadonlyMap<string, LayerContents>,
): Promise<void> {
  if (!layerCache) return;
  // The config's diff_ids name the layers in manifest order.
  const archiveDiffIds = archive.config.rootfs?.diff_ids ?? diffIds;
  for (const [index, layer] of archive.layers.entries()) {
    const diffId = archiveDiffIds[index];
    if (diffId && layer.contents && !layer.isFromCache && !knownLayers.has(diffId)) await layerCache.put(diffId, layer.contents);
  }
  if (archive.layout && archive.layers.every((layer) => layer.contents)) {
    await layerCache.putImage(imageId, { layout: archive.layout, configJson: archive.configJson, compressions: archive.layers.map((layer) => layer.compression) });
  }
}

/** The archive `docker save` would have given, from a config and layers all known already; undefined when one is missing. */
export function archiveOfKnown(image: CachedImage, diffIds: readonly string[], knownLayers: ReadonlyMap<string, LayerContents>): ImageArchive | undefined {
  const config = JSON.parse(image.configJson) as ImageConfigJson;
  if (!sameLayers(config.rootfs?.diff_ids, diffIds) || !diffIds.every((diffId) => knownLayers.has(diffId))) return undefined;
  return {
    layout: image.layout,
    config,
    configJson: image.configJson,
    layers: diffIds.map((diffId, index) => ({
      archivePath: `blobs/${diffId.replace(':', '/')}`,
      compression: image.compressions[index] ?? 'none',
      contents: knownLayers.get(diffId)!,
      isFromCache: true,
    })),
  };
}

/**
 * Reads the layers not known yet from the engine's layer folders into `knownLayers` (and the
 * cache). Returns the image's config when the folders had it; a layer they lack, or whose
 * read fails part way, is left for `docker save`. The config must be the one the image id
 * names (its digest, in the classic store), so nothing else can stand in for it.
 */
export async function readLayerFolders(
  folders: LayerFolders,
  imageId: string,
  diffIds: readonly string[],
  knownLayers: Map<string, LayerContents>,
  sources: ArchiveSources,
): Promise<CachedImage | undefined> {
  const configJson = await folders.readConfig(imageId);
  if (configJson === undefined || `sha256:${createHash('sha256').update(configJson).digest('hex')}` !== imageId) return undefined;
  let config: ImageConfigJson;
  try {
    config = JSON.parse(configJson) as ImageConfigJson;
  } catch {
    return undefined;
  }
  if (!sameLayers(config.rootfs?.diff_ids, diffIds)) return undefined;
  // One layer at a time: on a busy machine of 2 cores, two at once were slower (golang:1.24:
  // 13.3-19.3 s against 11.1-18.2 s, back to back).
  for (const [index, diffId] of diffIds.entries()) {
    if (knownLayers.has(diffId)) continue;
    sources.signal?.throwIfAborted();
    const read = await folders.readLayer(diffIds.slice(0, index + 1), sources.signal, sources.keepContentOf);
    if (!read) continue;
    let contents: LayerContents | undefined;
    try {
      contents = await readLayerTar(read.chunks, { keepContentOf: sources.keepContentOf, form: 'overlay-folder' });
    } catch {
      // Unreadable as it came (too many entries, say): `docker save` reads it again and says why.
    }
    // Drained either way (readLayerTar reads its source to the end), so finished() can settle.
    const isComplete = await read.finished().then(
      () => true,
      () => false,
    );
    sources.signal?.throwIfAborted();
    if (!contents || !isComplete) continue;
    knownLayers.set(diffId, contents);
    await sources.layerCache?.put(diffId, contents);
  }
  // As `docker save` on that engine would store them: uncompressed.
  return { layout: folders.layout, configJson, compressions: diffIds.map(() => 'none') };
}

/** `a` from a config, where an image without layers has diff_ids null or none at all. */
function sameLayers(a: readonly string[] | null | undefined, b: readonly string[]): boolean {
  const layers = a ?? [];
  return layers.length === b.length && layers.every((diffId, index) => diffId === b[index]);
}

/**
 * The archive `docker save` would give for an image without layers, had the engine not
 * refused: its config from inspect and its history rows (every one an empty layer) from
 * `docker history`, oldest first. No archive was read, so it has no layout.
 */
async function layerlessArchive(engine: Engine, inspect: Docker.ImageInspectInfo): Promise<ImageArchive> {
  const rows = (await engineAnswer(
    engine.address,
    engine.docker.getImage(inspect.Id).history(),
    inspectTimeoutMs,
    `give the history of the image ${inspect.Id.slice(7, 19)}`,
  )) as Array<{ CreatedBy?: string; Comment?: string }>;
  const config: ImageConfigJson = {
    config: inspect.Config as ImageConfigJson['config'],
    rootfs: { diff_ids: [] },
    history: rows.toReversed().map((row) => ({ created_by: row.CreatedBy ?? '', ...(row.Comment ? { comment: row.Comment } : {}), empty_layer: true })),
  };
  return { config, configJson: JSON.stringify(config), layers: [] };
}

async function streamArchive(
  engine: Engine,
  imageId: string,
  imageBytes: number,
  signal: AbortSignal | undefined,
  keepContentOf: ReadonlySet<string>,
  knownLayers: ReadonlyMap<string, LayerContents>,
): Promise<ImageArchive> {
  const startMs = archiveStartTimeoutMs(imageBytes);
  const stream = (await engineAnswer(engine.address, engine.docker.getImage(imageId).get(), startMs, `start sending the image ${imageId.slice(7, 19)}`)) as NodeJS.ReadableStream & {
    destroy(error?: Error): void;
  };
  return await readSavedArchive(stream, { imageId, address: engine.address, signal, keepContentOf, knownLayers });
}

export interface SavedArchiveOptions {
  imageId: string;
  /** The engine's address, for the message when the archive cannot be read. */
  address: string;
  signal: AbortSignal | undefined;
  keepContentOf: ReadonlySet<string>;
  knownLayers: ReadonlyMap<string, LayerContents>;
  /** How long the engine may send nothing before the read gives up. */
  idleTimeoutMs?: number;
}

/**
 * Reads the `docker save` stream the engine sends. The stream is ended (and the read fails)
 * when it sends nothing for `idleTimeoutMs` or when `signal` aborts; an archive that cannot
 * be read is said to the learner with what to do.
 */
export async function readSavedArchive(stream: NodeJS.ReadableStream & { destroy(error?: Error): void }, options: SavedArchiveOptions): Promise<ImageArchive> {
  const { imageId, signal, keepContentOf, knownLayers, idleTimeoutMs = archiveIdleTimeoutMs } = options;
  let idleTimer: NodeJS.Timeout | undefined;
  const stop = (error: Error) => stream.destroy(error);
  const armIdleTimer = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop(new Error(`the engine sent nothing for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
  };
  const onAbort = () => stop(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  armIdleTimer();
  stream.on('data', armIdleTimer);
  try {
    return await readImageArchive(stream as AsyncIterable<Buffer>, { keepContentOf, knownLayers });
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof ArchiveReadError) {
      throw environmentError(
        `Could not read the image ${imageId.slice(7, 19)} from the engine at ${options.address}: ${error.message}.`,
        'Check again; if it keeps failing, rebuild the image.',
      );
    }
    throw error;
  } finally {
    clearTimeout(idleTimer);
    signal?.removeEventListener('abort', onAbort);
  }
}

export function buildFacts(
  ref: string,
  inspect: Docker.ImageInspectInfo,
  archive: ImageArchive,
  probes: ProbeResults,
  merged: MergedView = mergeLayers(archive.layers.map((layer) => layer.contents)),
): ImageFacts {
  const diffIds = inspect.RootFS?.Layers ?? archive.config.rootfs?.diff_ids ?? [];
  const layerCount = Math.max(diffIds.length, archive.layers.length);
  const origins = layerOrigins(archive.config.history, layerCount);
  const layers: LayerFacts[] = Array.from({ length: layerCount }, (_, index) => {
    const layer = archive.layers[index];
    const origin = origins[index] ?? {};
    return {
      index,
      diffId: diffIds[index] ?? '',
      sizeBytes: layer?.contents?.sizeBytes ?? 0,
      entryCount: layer?.contents?.entryCount ?? 0,
      ...(origin.createdBy !== undefined ? { createdBy: origin.createdBy } : {}),
      ...(origin.instruction !== undefined ? { instruction: origin.instruction } : {}),
      compression: layer?.compression ?? 'none',
      ...(layer?.unreadable ? { unreadable: layer.unreadable } : !layer ? { unreadable: 'the archive lists fewer layers than the image has' } : {}),
      addedBuildTools: merged.buildTools.filter((finding) => finding.addedInLayer === index).map((finding) => finding.path),
      entries: layer?.contents?.entries ?? [],
      whiteouts: layer?.contents?.whiteouts ?? [],
      opaqueDirectories: layer?.contents?.opaqueDirectories ?? [],
    };
  });
  const config = inspect.Config ?? {};
  return {
    ref,
    id: inspect.Id,
    sizeBytes: inspect.Size,
    ...(inspect.Created ? { created: inspect.Created } : {}),
    config: {
      user: config.User ?? '',
      entrypoint: (config.Entrypoint as string[] | null | undefined) ?? null,
      cmd: (config.Cmd as string[] | null | undefined) ?? null,
      env: config.Env ?? [],
      exposedPorts: Object.keys(config.ExposedPorts ?? {}),
      workingDir: config.WorkingDir ?? '',
      labels: config.Labels ?? {},
    },
    layers,
    buildTools: merged.buildTools,
    files: merged.files,
    archiveLayout: archive.layout,
    loaderCache: readLoaderCache(merged.files),
    history: (archive.config.history ?? []).map((row) => ({
      createdBy: row.created_by ?? '',
      isEmptyLayer: row.empty_layer === true,
      ...(row.comment !== undefined ? { comment: row.comment } : {}),
    })),
    probes,
  };
}
