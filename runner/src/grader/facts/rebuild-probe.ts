import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { withTimeout, type Engine } from '../../engine.js';
import type { BuildStepFacts, ExerciseFolder, RebuildProbeRequest, RebuildProbeResult } from '../types.js';
import { BuildTrace } from './build-trace.js';
import { engineMessage, probeLabels, removalWarning, removeQuietly } from './probe-container.js';
import { normaliseEntryName } from './layer-tar.js';

const engineCallTimeoutMs = 30_000;
/** A lesson's project is a few kilobytes; anything this big is not what the check is about. */
const maxContextBytes = 50 * 1000 * 1000;
/** Where the helper container sees the folder; it is never started. */
const mountPoint = '/layerlab-context';
/** Tags of the probe's own builds, removed afterwards (a tag, so the learner's image is never touched). */
export const rebuildTagRepository = 'layerlab-probe-rebuild';

export interface RebuildProbeOptions {
  /** The project: on the engine's host (e.g. /root/exercises/lesson-5 in the sandbox), or here (a CI checkout). */
  folder: ExerciseFolder;
  /** Any image the engine has, to create the helper container from (never started). */
  helperImage: string;
  signal?: AbortSignal;
  labels?: Record<string, string>;
  /** `--build-arg` values (the cache explainer's builds). */
  buildArgs?: Record<string, string>;
  /** Labels for the built image instead of the probe's own (the cache explainer builds the learner's image). */
  imageLabels?: Record<string, string>;
}

export interface ContextFile {
  header: Partial<tar.Header> & Pick<tar.Header, 'name'>;
  content: Buffer;
}

/**
 * Rebuilds the learner's project the way `docker build` does, with the engine's own BuildKit
 * and build cache, twice: as the folder is, then with a comment appended to one source file
 * (a different comment each time, so an earlier check's build is never reused). It keeps
 * BuildKit's report of which steps came from the cache. The folder is read through the
 * engine (a never-started container with the folder bind-mounted read-only), so this works
 * wherever the grader runs; nothing in the folder is changed. Both builds are tagged
 * `layerlab-probe-rebuild:<random>` and those tags are removed afterwards; the build cache
 * stays, as it does after any build.
 */
export async function probeRebuild(engine: Engine, request: RebuildProbeRequest, options: RebuildProbeOptions): Promise<RebuildProbeResult> {
  const { signal, folder } = options;
  signal?.throwIfAborted();
  const base = { ...request, folder: folder.path };
  const context = await readExerciseFolder(engine, options);
  if ('reason' in context) return { ...base, outcome: 'no-folder', reason: context.reason };
  const sourceName = normaliseEntryName(request.sourceFile).path;
  const source = context.files.find((file) => file.header.name === sourceName && file.header.type === 'file');
  if (!source) return { ...base, outcome: 'no-source-file' };

  const changedFiles = withSourceChanged(context.files, source, randomBytes(6).toString('hex'));
  const deadline = performance.now() + request.withinMs;
  const runId = randomBytes(4).toString('hex');
  const tags: string[] = [];
  try {
    const outcomes: Array<[RebuildName, BuildOutcome]> = [];
    for (const build of ['as-is', 'after-change'] as const) {
      const files = build === 'as-is' ? context.files : changedFiles;
      const tag = `${rebuildTagRepository}:${runId}-${build}`;
      tags.push(tag);
      const outcome = await buildOnce(engine, await packContext(files), tag, deadline - performance.now(), options);
      outcomes.push([build, outcome]);
      if (outcome.kind !== 'built') break;
    }
    return rebuildResult(base, outcomes);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    for (const tag of tags) await removeTagQuietly(engine, tag);
  }
}

type RebuildName = 'as-is' | 'after-change';

/**
 * The probe's answer from its builds, in the order they ran: the first that did not build
 * (timed out or failed) is the answer; else both builds' steps.
 */
export function rebuildResult(
  base: RebuildProbeRequest & { folder: string },
  outcomes: ReadonlyArray<readonly [RebuildName, BuildOutcome]>,
): RebuildProbeResult {
  const steps: Record<RebuildName, BuildStepFacts[]> = { 'as-is': [], 'after-change': [] };
  for (const [build, outcome] of outcomes) {
    if (outcome.kind === 'timed-out') return { ...base, outcome: 'timed-out', build };
    if (outcome.kind === 'failed') return { ...base, outcome: 'build-failed', build, error: outcome.error };
    steps[build] = outcome.steps;
  }
  return { ...base, outcome: 'rebuilt', asIs: steps['as-is'], afterChange: steps['after-change'] };
}

/**
 * The context with `source` given one more line at its end, a comment naming `nonce`; every
 * other file is the same object. The header's size follows the new bytes.
 */
export function withSourceChanged(files: readonly ContextFile[], source: ContextFile, nonce: string): ContextFile[] {
  const sourceName = normaliseEntryName(source.header.name).path;
  const changed = Buffer.concat([source.content, Buffer.from(`\n${commentLine(sourceName, `layerlab: a source-only change (${nonce})`)}\n`)]);
  return files.map((file) => (file === source ? { header: { ...file.header, size: changed.length }, content: changed } : file));
}

/**
 * A line that changes a source file's bytes and nothing it does: a comment in the file's own
 * language, chosen by its extension ("#" for scripts and anything unknown).
 */
export function commentLine(fileName: string, text: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? '';
  if (['go', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'java', 'kt', 'c', 'h', 'cc', 'cpp', 'rs', 'cs', 'swift', 'scala', 'php'].includes(extension)) return `// ${text}`;
  if (['css', 'scss'].includes(extension)) return `/* ${text} */`;
  if (['html', 'htm', 'xml', 'svg', 'md'].includes(extension)) return `<!-- ${text} -->`;
  if (['sql', 'lua', 'hs'].includes(extension)) return `-- ${text}`;
  return `# ${text}`;
}

/** The project's files, wherever it is: on the engine's host (read through the engine) or here. */
export async function readExerciseFolder(engine: Engine, options: RebuildProbeOptions): Promise<{ files: ContextFile[] } | { reason: string }> {
  return options.folder.where === 'here' ? await readLocalFolder(options.folder.path) : await readFolder(engine, options);
}

export async function readFolder(engine: Engine, options: RebuildProbeOptions): Promise<{ files: ContextFile[] } | { reason: string }> {
  let helper: Docker.Container | undefined;
  try {
    try {
      helper = await withTimeout(
        engine.docker.createContainer({
          name: `layerlab-probe-${randomBytes(4).toString('hex')}`,
          Image: options.helperImage,
          // Never started: a command is only needed because an image may have none.
          Cmd: ['layerlab-never-started'],
          Labels: { ...probeLabels, ...options.labels },
          NetworkDisabled: true,
          // A bind mount (not Binds) fails on a missing folder instead of creating it.
          HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'bind', Source: options.folder.path, Target: mountPoint, ReadOnly: true }] },
        }),
        engineCallTimeoutMs,
        `the engine did not create the container within ${engineCallTimeoutMs / 1000} s`,
      );
    } catch (error) {
      const reason = missingFolderReason(error);
      if (reason !== undefined) return { reason };
      throw error;
    }
    options.signal?.throwIfAborted();
    const archive = (await withTimeout(helper.getArchive({ path: mountPoint }), engineCallTimeoutMs, 'the engine did not send the folder')) as NodeJS.ReadableStream;
    return { files: await unpackContext(archive) };
  } finally {
    if (helper) await removeQuietly(helper);
  }
}

/**
 * The engine's words when it refused the helper because the folder is not there (or is not a
 * folder): the learner's to fix, said as the engine says it. Undefined for any other failure.
 */
export function missingFolderReason(error: unknown): string | undefined {
  const message = engineMessage(error);
  return /does not exist|not a directory|no such file/i.test(message) ? message : undefined;
}

/**
 * A folder on this machine (a CI checkout), read as the engine would send it: the same
 * entries as `unpackContext` gives, the folder itself as "./". Symlinks are kept as links.
 */
async function readLocalFolder(folder: string): Promise<{ files: ContextFile[] } | { reason: string }> {
  try {
    if (!(await lstat(folder)).isDirectory()) return { reason: `${folder} is not a folder` };
  } catch (error) {
    return { reason: `${folder}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (error as Error).message}` };
  }
  const files: ContextFile[] = [{ header: { name: './', type: 'directory', mode: 0o755 }, content: Buffer.alloc(0) }];
  let total = 0;
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  for (const entry of entries.sort((a, b) => path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)))) {
    const full = path.join(entry.parentPath, entry.name);
    const name = path.relative(folder, full).split(path.sep).join('/');
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    if (entry.isDirectory()) files.push({ header: { name: `${name}/`, type: 'directory', mode }, content: Buffer.alloc(0) });
    else if (entry.isSymbolicLink()) {
      files.push({ header: { name, type: 'symlink', linkname: await readlink(full), mode }, content: Buffer.alloc(0) });
    } else if (entry.isFile()) {
      total += info.size;
      if (total > maxContextBytes) return { reason: `${folder} holds more than ${maxContextBytes / 1e6} MB` };
      files.push({ header: { name, type: 'file', mode }, content: await readFile(full) });
    }
  }
  return { files };
}

/** The folder's files, named relative to the folder ("main.go", "third_party/x/x.go"). */
export async function unpackContext(archive: NodeJS.ReadableStream): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  let total = 0;
  const prefix = `${mountPoint.slice(1)}/`;
  // One byte over the limit is enough to refuse; no more of an entry is held.
  for await (const { header, content, sizeBytes } of tarEntries(archive, maxContextBytes + 1)) {
    total += sizeBytes;
    if (total > maxContextBytes) throw new Error(`the folder holds more than ${maxContextBytes / 1e6} MB`);
    // The folder's own entry becomes "./": `COPY . .` checksums the root directory too,
    // and without it the builder would make one up and miss the cache the CLI filled.
    const name = header.name === prefix ? './' : header.name.startsWith(prefix) ? header.name.slice(prefix.length) : '';
    if (name) files.push({ header: { ...header, name }, content });
  }
  return files;
}

/**
 * The entries of a tar the engine sends (a folder, a file of a container), in order, each
 * with its first `maxEntryBytes` bytes and its real size; the rest of an entry is read and
 * dropped. A reader that stops early (or fails) ends the stream.
 */
export async function* tarEntries(archive: NodeJS.ReadableStream, maxEntryBytes: number): AsyncGenerator<{ header: tar.Header; content: Buffer; sizeBytes: number }> {
  const extract = tar.extract();
  const source = archive as Readable;
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      let sizeBytes = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        sizeBytes += chunk.length;
        if (sizeBytes <= maxEntryBytes) chunks.push(chunk);
      }
      yield { header: entry.header, content: Buffer.concat(chunks), sizeBytes };
    }
  } finally {
    source.unpipe(extract);
    source.destroy?.();
    extract.destroy();
  }
}

export async function packContext(files: readonly ContextFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const file of files) {
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (file.header.type === 'file') pack.entry({ ...file.header, size: file.content.length }, file.content, callback);
      else pack.entry({ ...file.header, size: 0 }, callback);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export type BuildOutcome = { kind: 'built'; steps: BuildStepFacts[] } | { kind: 'failed'; error: string } | { kind: 'timed-out' };

/**
 * `POST /build?version=2` with the context as the request body: BuildKit without a client
 * session, which the engine serves from the body. Closing the connection cancels the build.
 */
export async function buildOnce(engine: Engine, context: Buffer, tag: string, withinMs: number, options: RebuildProbeOptions): Promise<BuildOutcome> {
  if (withinMs <= 0) return { kind: 'timed-out' };
  let response: Readable;
  try {
    response = await dialBuild(engine, context, tag, options);
  } catch (error) {
    options.signal?.throwIfAborted();
    const refused = refusedBuild(error);
    if (refused) return refused;
    throw error;
  }
  const trace = new BuildTrace();
  let error: string | undefined;
  let isTimedOut = false;
  const timer = setTimeout(() => {
    isTimedOut = true;
    response.destroy();
  }, withinMs);
  const onAbort = () => response.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    error = await readBuildStream(response, trace);
  } catch (streamError) {
    options.signal?.throwIfAborted();
    if (!isTimedOut) throw streamError;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  options.signal?.throwIfAborted();
  if (isTimedOut) return { kind: 'timed-out' };
  if (error !== undefined) return { kind: 'failed', error };
  return { kind: 'built', steps: trace.steps() };
}

/**
 * Reads the engine's answer to `POST /build?version=2` to its end: JSON lines, split across
 * chunks anywhere, BuildKit's trace (`moby.buildkit.trace`) fed to `trace`. Returns the first
 * error the stream reports (the build failed), undefined when it reports none.
 */
export async function readBuildStream(response: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, trace: BuildTrace): Promise<string | undefined> {
  let error: string | undefined;
  let pending = '';
  // A chunk may end inside a character (an error message in the learner's language).
  const decoder = new TextDecoder();
  for await (const chunk of response) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) error ??= readBuildLine(line, trace);
  }
  pending += decoder.decode();
  if (pending) error ??= readBuildLine(pending, trace);
  return error;
}

/**
 * The engine refused the build itself (a tag it cannot take, say: 400 or 500): the learner's to
 * fix, in the engine's words. Undefined for anything else (the engine is not there).
 */
export function refusedBuild(error: unknown): BuildOutcome | undefined {
  const statusCode = (error as { statusCode?: number }).statusCode;
  return statusCode === 400 || statusCode === 500 ? { kind: 'failed', error: engineMessage(error) } : undefined;
}

/** Feeds a trace line to the trace; returns the build's error when the line reports one. */
function readBuildLine(line: string, trace: BuildTrace): string | undefined {
  if (!line.trim()) return undefined;
  let message: { id?: string; aux?: unknown; error?: unknown; errorDetail?: { message?: unknown } };
  try {
    message = JSON.parse(line) as typeof message;
  } catch {
    return undefined;
  }
  if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string') trace.add(message.aux);
  const error = [message.errorDetail?.message, message.error].find((said) => typeof said === 'string');
  return error?.trim();
}

async function removeTagQuietly(engine: Engine, tag: string): Promise<void> {
  try {
    await withTimeout(engine.docker.getImage(tag).remove({ noprune: false }), engineCallTimeoutMs, 'remove timed out');
  } catch (error) {
    const warning = removalWarning(error, `the probe image ${tag}`);
    if (warning) process.emitWarning(warning);
  }
}

function dialBuild(engine: Engine, context: Buffer, tag: string, options: RebuildProbeOptions): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => {
    engine.docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        file: Readable.from([context]),
        options: buildQuery(tag, options),
        isStream: true,
        headers: { 'Content-Type': 'application/x-tar' },
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        abortSignal: options.signal,
      },
      (error: unknown, stream: unknown) => (error ? reject(error) : resolve(stream as Readable)),
    );
  });
}

/** The query of the build request: BuildKit, the tag, and the image's labels and build arguments. */
export function buildQuery(tag: string, options: Pick<RebuildProbeOptions, 'labels' | 'imageLabels' | 'buildArgs'>): Record<string, unknown> {
  return {
    version: '2',
    t: tag,
    labels: options.imageLabels ?? { ...probeLabels, ...options.labels },
    ...(options.buildArgs ? { buildargs: options.buildArgs } : {}),
  };
}
