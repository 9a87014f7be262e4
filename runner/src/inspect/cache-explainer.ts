import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { isNotFound, type Engine } from '../engine.js';
import { environmentError, usageError } from '../errors.js';
import { stepPosition } from '../grader/facts/build-trace.js';
import { buildOnce, packContext, readFolder, type ContextFile } from '../grader/facts/rebuild-probe.js';
import { compilePathPattern } from '../grader/path-pattern.js';
import { escapeLine } from '../grader/report/untrusted.js';
import type { BuildStepFacts } from '../grader/types.js';
import { cacheLessonLinks, cacheReportSchemaVersion, type CacheMissCause, type CacheReport, type ExplainedStep } from '../contract/inspect.js';
import type { Instance } from '../settings.js';
import { parseDockerfile, type DockerfileStage, type DockerfileStep } from './dockerfile-steps.js';

/** What one build depended on, kept to compare the next build of the same folder and tag with. */
export interface BuildInputs {
  stages: StageInputs[];
}

export interface StageInputs {
  labels: string[];
  baseRef: string;
  /** The image id FROM resolved to, when it is an image (not an earlier stage). */
  baseImageId?: string;
  steps: StepInputs[];
}

export interface StepInputs extends Omit<DockerfileStep, 'contextSources'> {
  /** Context files the step copies: path -> checksum of content and mode (what BuildKit's key holds). */
  files?: Record<string, string>;
}

export interface ExplainBuildOptions {
  /** The folder in the sandbox (e.g. /root/exercises/lesson-5). */
  folder: string;
  tag: string;
  buildArgs?: Record<string, string>;
  /** Where the inputs of each build are kept between runs. */
  recordsDir: string;
  /** Any image the engine has, for the helper container that reads the folder. */
  helperImage: string;
  signal?: AbortSignal;
  labels?: Record<string, string>;
  withinMs?: number;
}

// The package is CommonJS with a default-export type: Node hands over the function itself,
// TypeScript expects it under .default.
const dockerignore = ((dockerignoreModule as unknown as { default?: unknown }).default ?? dockerignoreModule) as typeof dockerignoreModule.default;

const defaultBuildMs = 15 * 60 * 1000;

/**
 * Builds a folder of the sandbox with the engine's BuildKit (as `docker build -t TAG FOLDER`
 * does), keeps BuildKit's own word on which steps came from the cache, and explains every
 * step that ran again by comparing what it depends on with the previous build of the same
 * folder and tag made here. BuildKit 0.13 keeps no "why" of its own: its progress says only
 * CACHED, its cache keys are digests that cannot be taken apart, and the build history API
 * of newer buildx (`docker buildx history`) is not in this engine.
 */
export async function explainBuild(engine: Engine, options: ExplainBuildOptions): Promise<CacheReport> {
  const folderOptions = { folder: { where: 'engine-host' as const, path: options.folder }, helperImage: options.helperImage, ...(options.signal ? { signal: options.signal } : {}), ...(options.labels ? { labels: options.labels } : {}) };
  const context = await readFolder(engine, folderOptions);
  if ('reason' in context) throw usageError(`Cannot read the folder ${options.folder} in the sandbox: ${context.reason}.`, 'Give the folder that holds the Dockerfile, as the sandbox sees it (e.g. /root/exercises/lesson-5).');
  const dockerfile = context.files.find((file) => file.header.name === 'Dockerfile' && file.header.type === 'file');
  if (!dockerfile) throw usageError(`There is no Dockerfile in ${options.folder}.`, 'Give the folder you would pass to `docker build`.');
  const buildArgs = options.buildArgs ?? {};
  // As the docker CLI does: files .dockerignore excludes are not sent (the engine does not
  // filter a context it is handed), but the Dockerfile always is, for the builder to read.
  const sent = sentToBuilder(context.files);
  const current = await inputsOf(engine, parseDockerfile(dockerfile.content.toString('utf8'), buildArgs), sent);

  const outcome = await buildOnce(engine, await packContext(sent.includes(dockerfile) ? sent : [...sent, dockerfile]), options.tag, options.withinMs ?? defaultBuildMs, {
    ...folderOptions,
    buildArgs,
    imageLabels: options.labels ?? {},
  });
  if (outcome.kind === 'timed-out') throw environmentError(`The build of ${options.folder} took longer than ${(options.withinMs ?? defaultBuildMs) / 60000} minutes.`, 'Build it in the terminal to see where it spends its time.');
  if (outcome.kind === 'failed') throw usageError(`The build of ${options.folder} failed: ${outcome.error}`, 'Fix the Dockerfile (build it in the terminal to see every step), then try again.');

  const recordFile = path.join(options.recordsDir, `${createHash('sha256').update(`${options.folder}\0${options.tag}`).digest('hex').slice(0, 32)}.json`);
  const previous = await readRecord(recordFile);
  const steps = explainSteps(outcome.steps, current, previous);
  await writeRecord(recordFile, current);
  return { schemaVersion: cacheReportSchemaVersion, folder: options.folder, tag: options.tag, buildArgs, hasEarlierBuild: previous !== undefined, steps };
}

async function inputsOf(engine: Engine, stages: DockerfileStage[], files: readonly ContextFile[]): Promise<BuildInputs> {
  const stageNames = new Set(stages.flatMap((stage) => stage.name ?? []));
  const result: StageInputs[] = [];
  for (const stage of stages) {
    let baseImageId: string | undefined;
    if (!stageNames.has(stage.baseRef.toLowerCase()) && stage.baseRef !== 'scratch') {
      try {
        baseImageId = (await engine.docker.getImage(stage.baseRef).inspect()).Id;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    result.push({
      labels: stage.labels,
      baseRef: stage.baseRef,
      ...(baseImageId ? { baseImageId } : {}),
      steps: stage.steps.map(({ contextSources, ...step }) => (contextSources ? { ...step, files: checksumsOf(contextSources, files) } : step)),
    });
  }
  return { stages: result };
}

/**
 * The context files the builder can copy: those .dockerignore does not exclude (Docker's own
 * rules: patterns from the context's root, `**`, `!` exceptions, the last match wins). A file
 * it excludes is never copied, so changing it cannot make a step miss the cache.
 */
export function sentToBuilder(files: readonly ContextFile[]): ContextFile[] {
  const rules = files.find((file) => file.header.name === '.dockerignore' && file.header.type === 'file');
  if (!rules) return [...files];
  const ignored = dockerignore({ ignorecase: false }).add(rules.content.toString('utf8'));
  return files.filter((file) => !ignored.ignores(file.header.name));
}

/** The files a COPY/ADD source names: a file, everything below a folder, or a wildcard match. */
export function checksumsOf(sources: readonly string[], files: readonly ContextFile[]): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const source of sources) {
    // "." and "./" name the whole context, "./src/" the folder src.
    const normal = path.posix.normalize(source).replace(/^\/+/, '').replace(/\/+$/, '');
    const clean = normal === '.' ? '' : normal;
    const pattern = /[*?[]/.test(clean) ? compilePathPattern(`/${clean}`) : undefined;
    for (const file of files) {
      if (file.header.type !== 'file') continue;
      const name = file.header.name;
      const isMatch = pattern ? pattern.test(name) || [...parentsOf(name)].some((parent) => pattern.test(parent)) : clean === '' || name === clean || name.startsWith(`${clean}/`);
      if (!isMatch) continue;
      sums[name] = `${createHash('sha256').update(file.content).digest('hex')} mode ${((file.header.mode ?? 0) & 0o7777).toString(8)}`;
    }
  }
  return sums;
}

function* parentsOf(name: string): Generator<string> {
  const parts = name.split('/');
  for (let length = 1; length < parts.length; length++) yield parts.slice(0, length).join('/');
}

function findStage(inputs: BuildInputs | undefined, label: string): { stage: StageInputs; index: number } | undefined {
  if (!inputs) return undefined;
  const index = inputs.stages.findIndex((stage) => stage.labels.includes(label));
  return index < 0 ? undefined : { stage: inputs.stages[index]!, index };
}

/** Pure: BuildKit's cached/ran for each step, and for each step that ran, why. */
export function explainSteps(trace: readonly BuildStepFacts[], current: BuildInputs, previous: BuildInputs | undefined): ExplainedStep[] {
  interface Placed {
    trace: BuildStepFacts;
    stageIndex: number;
    step?: StepInputs;
    number: number;
  }
  const placed: Placed[] = trace.map((step) => {
    const position = stepPosition(step.name);
    const found = position ? findStage(current, position.stage) : undefined;
    return { trace: step, stageIndex: found?.index ?? Number.MAX_SAFE_INTEGER, number: position?.number ?? 0, ...(found ? { step: found.stage.steps[(position?.number ?? 0) - 1] } : {}) };
  });
  placed.sort((a, b) => a.stageIndex - b.stageIndex || a.number - b.number);
  const rebuiltStages = new Set(placed.filter((entry) => !entry.trace.isCached && entry.number > 1).map((entry) => entry.stageIndex));

  return placed.map((entry): ExplainedStep => {
    const base = { name: entry.trace.name, isCached: entry.trace.isCached, ...(entry.step ? { line: entry.step.line } : {}) };
    if (entry.trace.isCached || entry.number === 1) return base; // FROM is never "rebuilt"
    const earlier = placed.find((other) => other.stageIndex === entry.stageIndex && other.number > 1 && other.number < entry.number && !other.trace.isCached);
    return { ...base, cause: causeOf(entry.step, current.stages[entry.stageIndex], previous?.stages[entry.stageIndex], earlier?.trace.name, previous !== undefined, (stage) => {
      const found = findStage(current, stage);
      return found !== undefined && rebuiltStages.has(found.index);
    }) };
  });
}

function causeOf(
  step: StepInputs | undefined,
  stage: StageInputs | undefined,
  previousStage: StageInputs | undefined,
  earlierRebuilt: string | undefined,
  hasPrevious: boolean,
  isStageRebuilt: (stage: string) => boolean,
): CacheMissCause {
  const key = cacheLessonLinks.key;
  if (earlierRebuilt) {
    return {
      kind: 'earlier-step-rebuilt',
      step: earlierRebuilt,
      message: `${earlierRebuilt} ran again, so this step's parent is a new result and its cache key is new: after the first miss, every later step of the stage runs again.`,
      lessonLink: cacheLessonLinks.cascade,
    };
  }
  if (!hasPrevious) return { kind: 'no-earlier-build', message: 'There is no earlier build of this folder and tag made here to compare with, so the cause cannot be told.', lessonLink: key };
  const previousStep = previousStage?.steps[(step?.number ?? 0) - 1];
  if (!step || !stage || !previousStage || !previousStep || previousStep.text !== step.text) {
    return {
      kind: 'instruction-changed',
      before: previousStep?.text ?? '',
      message: previousStep ? `The instruction itself changed${step ? ` (line ${step.line} of the Dockerfile)` : ''}: it was \`${previousStep.text}\`. The instruction as written is part of the cache key.` : 'This step is new in the Dockerfile, so nothing was cached for it.',
      lessonLink: key,
    };
  }
  if (stage.baseImageId !== previousStage.baseImageId) {
    const short = (id: string | undefined) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : 'none');
    return {
      kind: 'base-changed',
      baseRef: stage.baseRef,
      before: previousStage.baseImageId ?? '',
      after: stage.baseImageId ?? '',
      message: `The base image ${stage.baseRef} is not the image it was last time (${short(previousStage.baseImageId)} then, ${short(stage.baseImageId)} now). Every cache key of the stage starts from the base image.`,
      lessonLink: key,
    };
  }
  for (const [kind, now, before, word] of [
    ['arg-changed', step.args, previousStep.args, 'build argument'],
    ['env-changed', step.env, previousStep.env, 'environment variable (ENV)'],
  ] as const) {
    for (const name of new Set([...Object.keys(now), ...Object.keys(before)])) {
      if (now[name] === before[name]) continue;
      const describe = (value: string | undefined) => (value === undefined ? 'unset' : `"${value}"`);
      return {
        kind,
        variable: name,
        ...(before[name] !== undefined ? { before: before[name] } : {}),
        ...(now[name] !== undefined ? { after: now[name] } : {}),
        message: `The ${word} ${name} changed from ${describe(before[name])} to ${describe(now[name])}. ${step.instruction === 'RUN' ? 'RUN sees every build argument and variable, so they are part of its cache key.' : `The step names it, so its instruction reads differently now.`}`,
        lessonLink: key,
      };
    }
  }
  if (step.files || previousStep.files) {
    const now = step.files ?? {};
    const before = previousStep.files ?? {};
    const changed = Object.keys(now).filter((name) => name in before && now[name] !== before[name]).sort();
    const added = Object.keys(now).filter((name) => !(name in before)).sort();
    const removed = Object.keys(before).filter((name) => !(name in now)).sort();
    if (changed.length || added.length || removed.length) {
      const names = [...changed, ...added.map((name) => `${name} (new)`), ...removed.map((name) => `${name} (gone)`)];
      const list = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
      return {
        kind: 'context-file-changed',
        changed,
        added,
        removed,
        message: `A file it copies from the build context changed by content or permissions: ${list}. ${step.instruction} puts a checksum of the files it copies in its cache key (their modification time is not part of it).`,
        lessonLink: key,
      };
    }
  }
  if (step.fromStage && isStageRebuilt(step.fromStage)) {
    return { kind: 'copied-stage-rebuilt', stage: step.fromStage, message: `The stage ${step.fromStage} it copies from was rebuilt, so the files it copies are a new result.`, lessonLink: key };
  }
  return {
    kind: 'not-in-cache',
    message: 'Nothing it depends on changed since the last build here: the builder no longer had the result (the cache was pruned, or the last build used --no-cache).',
    lessonLink: key,
  };
}

async function readRecord(file: string): Promise<BuildInputs | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as BuildInputs;
    return Array.isArray(parsed.stages) ? parsed : undefined;
  } catch {
    return undefined; // none yet, or unreadable: treated as no earlier build
  }
}

/** Temp file, then rename: a crash never leaves half a record. */
async function writeRecord(file: string, inputs: BuildInputs): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(inputs));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Where `course inspect --explain-build` and the page keep what each build depended on. */
export function buildRecordsDir(instance: Instance): string {
  return path.join(instance.dataDir, 'build-records', instance.name);
}

const tagPattern = /^[a-z0-9][a-z0-9._\-/:]{0,127}$/;
const buildArgNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The explainer on a folder of the learner's sandbox, as the CLI and the page ask for it:
 * checks what the learner gave (a folder under /root, a tag, build arguments), then builds.
 */
export async function explainSandboxBuild(
  nested: Engine,
  instance: Instance,
  request: { folder: string; tag: string; buildArgs?: Record<string, string>; signal?: AbortSignal },
): Promise<CacheReport> {
  if (!tagPattern.test(request.tag)) {
    throw usageError(`"${escapeLine(request.tag)}" is not an image name to build: use lower case letters, digits and . _ - / :, as \`docker build -t\` does.`, 'For example: lesson-5');
  }
  for (const name of Object.keys(request.buildArgs ?? {})) {
    if (!buildArgNamePattern.test(name)) throw usageError(`"${escapeLine(name)}" is not a build argument name.`, 'Write build arguments as NAME=VALUE, e.g. VERSION=2.');
  }
  const folder = path.posix.resolve('/root', request.folder);
  // Builds start from the learner's own folders only, as the page and the docs say.
  if (folder !== '/root' && !folder.startsWith('/root/')) {
    throw usageError(`"${escapeLine(request.folder)}" is not a folder under /root in the sandbox.`, 'Give a folder of your home in the sandbox, e.g. exercises/lesson-5 or /root/exercises/lesson-5.');
  }
  const [helper] = await nested.docker.listImages();
  if (!helper) throw usageError('The sandbox has no images at all.', 'Run `course up` to load the base images.');
  return await explainBuild(nested, {
    folder,
    tag: request.tag,
    buildArgs: request.buildArgs ?? {},
    recordsDir: buildRecordsDir(instance),
    helperImage: helper.Id,
    ...(request.signal ? { signal: request.signal } : {}),
  });
}
