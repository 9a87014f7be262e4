import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import { ensureBaseImages } from '../base-images/build.js';
import { sandboxImage } from '../base-images/recipes.js';
import { isNotFound, type Engine } from '../engine.js';
import { environmentError, messageOf } from '../errors.js';
import type { Progress } from '../progress.js';
import { checkLimitsFitHost, defaultLimits, type Instance, type SandboxLimits } from '../settings.js';
import {
  limitsOf,
  privilegeModes,
  sameLimits,
  sandboxContainerOptions,
  sandboxLabels,
  sandboxRightsVersion,
  type PrivilegeMode,
} from './host-config.js';
import { loadBaseImages, type LoadResult } from './load-images.js';
import { connectNestedEngine, waitForNestedEngine } from './nested-engine.js';
import { copyExerciseStarters } from './workspace.js';

export type SandboxState = 'absent' | 'stopped' | 'running';

export interface UpOptions {
  /** Limits asked for on the command line; what is not given keeps its current value. */
  limits?: Partial<SandboxLimits>;
  /** Stops a long first build (Ctrl-C) cleanly. */
  signal?: AbortSignal;
}

export interface UpResult {
  /** What the sandbox was before: `running` means there was nothing to start. */
  previousState: SandboxState;
  wasRecreated: boolean;
  privilegeMode: PrivilegeMode;
  limits: SandboxLimits;
  nestedEngineVersion: string;
  loadedImages: LoadResult;
  /** From starting the container to the nested engine answering. */
  startSeconds: number;
}

/**
 * Brings the sandbox up: base images built, container created or started, nested engine
 * answering, base images loaded into it. Safe to run again at any time.
 */
export async function bringUpSandbox(engine: Engine, instance: Instance, progress: Progress, options: UpOptions = {}): Promise<UpResult> {
  // Limits the machine cannot give are refused before anything is built, stopped or removed.
  const host = await engine.docker.info();
  checkLimitsFitHost(options.limits ?? {}, host.MemTotal, host.NCPU);
  await ensureBaseImages(engine, progress, { signal: options.signal });
  const image = await engine.docker.getImage(sandboxImage).inspect();
  const existing = await inspectContainer(engine, instance);
  const previousState = stateOf(existing);
  const limits = desiredLimits(host, existing, options.limits);

  let wasRecreated = false;
  let container = existing;
  const staleReason = existing ? whyStale(existing, image.Id, limits) : undefined;
  if (existing && staleReason) {
    await progress.step(`Recreating the sandbox (${staleReason}); your images and files are kept`, async () => {
      await engine.docker.getContainer(existing.Id).remove({ force: true });
    });
    container = undefined;
    wasRecreated = true;
  }

  let startSeconds = 0;
  let privilegeMode: PrivilegeMode;
  if (container?.State.Running) {
    progress.note('The sandbox is already running.');
    privilegeMode = modeOf(container);
  } else {
    await mkdir(instance.socketDir, { recursive: true, mode: 0o700 });
    const started = performance.now();
    privilegeMode = await progress.step('Starting the sandbox', async () => {
      if (container) {
        await engine.docker.getContainer(container.Id).start();
        return modeOf(container);
      }
      await ensureVolumes(engine, instance);
      return await createAndStart(engine, instance, limits);
    });
    await progress.step('Waiting for the sandbox\'s Docker engine', () => waitForNestedEngine(engine, instance));
    startSeconds = (performance.now() - started) / 1000;
  }

  const nested = await connectNestedEngine(instance, engine);
  const loadedImages = await loadBaseImages(engine, nested, progress);
  const copiedExercises = await copyExerciseStarters(engine, instance);
  if (copiedExercises.length) progress.note(`Exercise starters are in the sandbox under ~/exercises: ${copiedExercises.join(', ')}.`);
  return { previousState, wasRecreated, privilegeMode, limits, nestedEngineVersion: nested.version, loadedImages, startSeconds };
}

export async function inspectContainer(engine: Engine, instance: Instance): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await engine.docker.getContainer(instance.containerName).inspect();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function stateOf(container: Docker.ContainerInspectInfo | undefined): SandboxState {
  if (!container) return 'absent';
  return container.State.Running ? 'running' : 'stopped';
}

export function modeOf(container: Docker.ContainerInspectInfo): PrivilegeMode {
  const mode = container.Config.Labels?.[sandboxLabels.privilege];
  return mode === 'least-privilege' ? 'least-privilege' : 'privileged';
}

function desiredLimits(
  host: { MemTotal: number; NCPU: number },
  existing: Docker.ContainerInspectInfo | undefined,
  asked: Partial<SandboxLimits> | undefined,
): SandboxLimits {
  const base = existing ? limitsOf(existing.HostConfig) : defaultLimits(host.MemTotal, host.NCPU);
  return { ...base, ...asked };
}

/** Why an existing sandbox container must be replaced, or undefined if it can be kept. */
function whyStale(container: Docker.ContainerInspectInfo, imageId: string, limits: SandboxLimits): string | undefined {
  if (container.Config.Labels?.[sandboxLabels.role] !== 'sandbox') {
    throw environmentError(
      `A container named ${container.Name.replace(/^\//, '')} exists but is not a Layerlab sandbox.`,
      'Rename or remove that container, or set LAYERLAB_INSTANCE to use other names.',
    );
  }
  if (container.Image !== imageId) return 'the sandbox image was updated';
  if (container.Config.Labels?.[sandboxLabels.rightsVersion] !== sandboxRightsVersion) return 'the sandbox gets narrower rights';
  if (!sameLimits(limitsOf(container.HostConfig), limits)) return 'new resource limits';
  return undefined;
}

async function ensureVolumes(engine: Engine, instance: Instance): Promise<void> {
  for (const name of [instance.volumeName, instance.homeVolumeName]) {
    try {
      await engine.docker.getVolume(name).inspect();
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await engine.docker.createVolume({ Name: name, Labels: { ...instance.labels, [sandboxLabels.role]: 'sandbox-storage' } });
    }
  }
}

/**
 * Creates and starts the container with the least rights that run Docker, and only where the
 * engine refuses those, with --privileged. Which one worked is kept in a label for `course
 * status`; a fresh random engine id goes to the nested engine, so the runner can tell it
 * from any other engine a socket might lead to.
 */
async function createAndStart(engine: Engine, instance: Instance, limits: SandboxLimits): Promise<PrivilegeMode> {
  const failures: string[] = [];
  const socketGid = process.getgid?.() ?? 0;
  const engineId = randomBytes(16).toString('hex');
  for (const mode of privilegeModes) {
    const container = await engine.docker.createContainer(sandboxContainerOptions(instance, sandboxImage, limits, mode, socketGid, engineId));
    try {
      await container.start();
      return mode;
    } catch (error) {
      failures.push(`${mode}: ${messageOf(error).trim()}`);
      await container.remove({ force: true });
    }
  }
  throw environmentError(
    `The engine refused to start the sandbox container:\n    ${failures.join('\n    ')}`,
    'The sandbox runs its own Docker engine and needs SYS_ADMIN and NET_ADMIN, or --privileged. Use a Docker engine that allows them (rootless engines and some hosted ones do not).',
  );
}

export interface StopResult {
  previousState: SandboxState;
}

export async function stopSandbox(engine: Engine, instance: Instance, progress: Progress): Promise<StopResult> {
  const container = await inspectContainer(engine, instance);
  const previousState = stateOf(container);
  if (container && previousState === 'running') {
    await progress.step('Stopping the sandbox (its images and files are kept)', async () => {
      // dockerd needs a moment to stop its own containers cleanly.
      await engine.docker.getContainer(container.Id).stop({ t: 30 });
    });
  }
  return { previousState };
}

export interface ResetResult {
  removedContainer: boolean;
  removedVolumes: string[];
}

/** Removes the sandbox, its volumes and its socket folder: everything built inside is gone. */
export async function resetSandbox(engine: Engine, instance: Instance, progress: Progress): Promise<ResetResult> {
  return await progress.step('Removing the sandbox and everything in it', async () => {
    const container = await inspectContainer(engine, instance);
    if (container) await engine.docker.getContainer(container.Id).remove({ force: true });
    const removedVolumes: string[] = [];
    for (const name of [instance.volumeName, instance.homeVolumeName]) {
      try {
        await engine.docker.getVolume(name).remove();
        removedVolumes.push(name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    await rm(instance.socketDir, { recursive: true, force: true });
    return { removedContainer: Boolean(container), removedVolumes };
  });
}
