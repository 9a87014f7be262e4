import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isNotFound, followProgress, type Engine } from '../engine.js';
import { environmentError, messageOf } from '../errors.js';
import type { Progress } from '../progress.js';
import { baseImageNamespace, baseImageRecipes, debianSuite, hostNameOf, type BaseImageRecipe } from './recipes.js';

/** Labels on everything Layerlab builds, so it can be told apart from the learner's images. */
export const baseImageLabels = { role: 'layerlab.role', recipe: 'layerlab.recipe' } as const;

export interface BaseImageResult {
  hostName: string;
  imageId: string;
  /** Whether it had to be built now, or an up-to-date copy was already there. */
  wasBuilt: boolean;
  seconds: number;
}

export interface EnsureOptions {
  /** Build even when an up-to-date image exists (benchmarks), without the engine's cache. */
  rebuild?: boolean;
  /** Only these recipes (by `name`) and what they build on; all of them by default. */
  only?: readonly string[];
  /** Namespace of the image names; benchmarks build under their own to leave the course's alone. */
  namespace?: string;
  /** More labels for what is built (benchmarks and tests mark theirs). */
  labels?: Record<string, string>;
  /** Stops the build (Ctrl-C): child processes are ended and temporary files removed. */
  signal?: AbortSignal;
}

/**
 * Makes sure every base image exists on the learner's engine and matches its recipe,
 * building what is missing or stale. Rebuilding a parent rebuilds its children, because a
 * child's recipe key includes its parent's image id.
 */
export async function ensureBaseImages(engine: Engine, progress: Progress, options: EnsureOptions = {}): Promise<BaseImageResult[]> {
  const wanted = options.only ? withParents(options.only) : new Set(baseImageRecipes.map((recipe) => recipe.name));
  const namespace = options.namespace ?? baseImageNamespace;
  const build: BuildTarget = {
    namespace,
    labels: { ...options.labels, [baseImageLabels.role]: 'base-image' },
    noCache: Boolean(options.rebuild),
    signal: options.signal,
  };
  const idsByName = new Map<string, string>();
  const results: BaseImageResult[] = [];
  for (const recipe of baseImageRecipes) {
    if (!wanted.has(recipe.name)) continue;
    options.signal?.throwIfAborted();
    const hostName = hostNameOf(recipe, namespace);
    const started = performance.now();
    const parentId = recipe.parent ? idsByName.get(recipe.parent) : undefined;
    const stageIds = Object.values(recipe.stages ?? {}).map((name) => idsByName.get(name) ?? 'none');
    const recipeKey = await recipeKeyOf(recipe, parentId, stageIds);
    const existing = options.rebuild ? undefined : await findCurrentImage(engine, hostName, recipeKey);
    let imageId = existing;
    if (!imageId) {
      imageId = await progress.step(`Building ${hostName}`, async (detail) => {
        if (recipe.kind === 'rootfs') await importRootfs(engine, recipe, build, recipeKey, detail);
        else await buildDockerfile(engine, recipe, build, recipeKey, detail);
        return (await engine.docker.getImage(hostName).inspect()).Id;
      });
    }
    idsByName.set(recipe.name, imageId);
    results.push({ hostName, imageId, wasBuilt: !existing, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}

interface BuildTarget {
  namespace: string;
  labels: Record<string, string>;
  noCache: boolean;
  signal: AbortSignal | undefined;
}

function withParents(names: readonly string[]): Set<string> {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    const recipe = baseImageRecipes.find((candidate) => candidate.name === name);
    if (!recipe) throw new Error(`No base image recipe is named ${name}`);
    wanted.add(name);
    if (recipe.parent) add(recipe.parent);
    Object.values(recipe.stages ?? {}).forEach(add);
  };
  names.forEach(add);
  return wanted;
}

/** The image's id when it exists and was built from this exact recipe. */
async function findCurrentImage(engine: Engine, name: string, recipeKey: string): Promise<string | undefined> {
  try {
    const image = await engine.docker.getImage(name).inspect();
    return image.Config?.Labels?.[baseImageLabels.recipe] === recipeKey ? image.Id : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A digest of every file in the recipe's folder (names, modes, contents) and its parent's and stages' ids. */
export async function recipeKeyOf(recipe: BaseImageRecipe, parentId: string | undefined, stageIds: readonly string[] = []): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`parent:${parentId ?? 'none'}\n`);
  for (const stageId of stageIds) hash.update(`stage:${stageId}\n`);
  for (const file of await listFiles(recipe.dir)) {
    const full = path.join(recipe.dir, file);
    const executable = ((await stat(full)).mode & 0o111) !== 0;
    hash.update(`${file}:${executable ? 'x' : '-'}:`);
    hash.update(await readFile(full));
    hash.update('\n');
  }
  return `sha256:${hash.digest('hex')}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function buildDockerfile(
  engine: Engine,
  recipe: BaseImageRecipe,
  build: BuildTarget,
  recipeKey: string,
  detail: (line: string) => void,
): Promise<void> {
  const hostName = hostNameOf(recipe, build.namespace);
  const stream = await engine.docker.buildImage(
    { context: recipe.dir, src: await listFiles(recipe.dir) },
    {
      t: hostName,
      labels: { ...build.labels, [baseImageLabels.recipe]: recipeKey },
      buildargs: buildArgsOf(recipe, build.namespace),
      rm: true,
      forcerm: true,
      nocache: build.noCache,
      abortSignal: build.signal,
    },
  );
  try {
    await followProgress(engine.docker, stream, detail);
  } catch (error) {
    throw environmentError(
      `Building ${hostName} failed: ${messageOf(error)}`,
      'Its steps install packages from Debian\'s mirror: check that containers on this machine can reach it, then try again.',
    );
  }
}

/** BASE for the parent, and one build arg per stage image, named in this build's namespace. */
function buildArgsOf(recipe: BaseImageRecipe, namespace: string): Record<string, string> {
  const args: Record<string, string> = {};
  const imageNamed = (name: string) => hostNameOf(baseImageRecipes.find((candidate) => candidate.name === name)!, namespace);
  if (recipe.parent) args.BASE = imageNamed(recipe.parent);
  for (const [arg, name] of Object.entries(recipe.stages ?? {})) args[arg] = imageNamed(name);
  return args;
}

/** debootstrap a slim Debian into a temporary folder and import it as a one-layer image. */
async function importRootfs(
  engine: Engine,
  recipe: BaseImageRecipe,
  build: BuildTarget,
  recipeKey: string,
  detail: (line: string) => void,
): Promise<void> {
  await ensureCanDebootstrap();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'layerlab-rootfs-'));
  const rootfs = path.join(workDir, 'rootfs');
  try {
    await runScript(path.join(recipe.dir, 'build-rootfs.sh'), [debianSuite, rootfs], detail, build.signal);
    detail('docker import: storing the root filesystem as an image');
    const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'], signal: build.signal });
    const tarFailed = exitOf(tar, 'tar');
    const [repo, tag] = hostNameOf(recipe, build.namespace).split(':') as [string, string];
    const labels = Object.entries({ ...build.labels, [baseImageLabels.recipe]: recipeKey }).map(([key, value]) => `${key}=${value}`);
    const stream = await engine.docker.importImage(tar.stdout, {
      repo,
      tag,
      changes: [
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'CMD ["bash"]',
        `LABEL ${labels.join(' ')}`,
      ],
      abortSignal: build.signal,
    } as unknown as object);
    await Promise.all([followProgress(engine.docker, stream), tarFailed]);
  } finally {
    await removeRootfs(workDir);
  }
}

/**
 * debootstrap mounts /proc and /sys inside the target while it installs; if it was stopped
 * half-way they are still mounted, and deleting the folder must never reach into them.
 */
async function removeRootfs(workDir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${workDir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await exitOf(spawn('umount', ['-l', mountPoint], { stdio: 'ignore' }), 'umount');
  await rm(workDir, { recursive: true, force: true });
}

async function ensureCanDebootstrap(): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const hasDebootstrap = await commandExists('debootstrap');
  if (!isRoot || !hasDebootstrap) {
    throw environmentError(
      `The course's Debian base image is not built yet, and building it needs ${hasDebootstrap ? 'root' : 'debootstrap'} on this machine.`,
      'On Debian or Ubuntu run `sudo bash setup.sh` once from the Layerlab folder; it installs debootstrap and builds the images.',
    );
  }
}

async function commandExists(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/sbin', '/sbin')) {
    try {
      if ((await stat(path.join(dir, command))).isFile()) return true;
    } catch {
      // not in this folder; keep looking
    }
  }
  return false;
}

async function runScript(script: string, args: string[], detail: (line: string) => void, signal: AbortSignal | undefined): Promise<void> {
  // In its own process group, so that stopping it also stops debootstrap and its children.
  const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stop = () => child.pid && process.kill(-child.pid, 'SIGTERM');
  signal?.addEventListener('abort', stop, { once: true });
  const errorLines: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(detail));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => errorLines.push(...chunk.split('\n').filter(Boolean)));
  try {
    await exitOf(child, path.basename(script));
  } catch {
    signal?.throwIfAborted();
    throw environmentError(
      `Building the Debian root filesystem failed:\n    ${errorLines.slice(-8).join('\n    ')}`,
      'debootstrap downloads from Debian\'s mirror: check the network and free disk space in the temporary folder, then try again.',
    );
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

function exitOf(child: ReturnType<typeof spawn>, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}`))));
  });
}
