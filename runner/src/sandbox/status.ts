import { nestedBaseImages } from '../base-images/recipes.js';
import { isNotFound, type Engine } from '../engine.js';
import { connectNestedEngine } from './nested-engine.js';
import type { Instance, SandboxLimits } from '../settings.js';
import { limitsOf, type PrivilegeMode } from './host-config.js';
import { inspectContainer, modeOf, stateOf, type SandboxState } from './sandbox.js';

/** Everything `course status` reports. Its JSON form is part of the CLI's interface. */
export interface SandboxStatus {
  engine: { address: string; version: string; apiVersion: string };
  sandbox: {
    state: SandboxState;
    container: string;
    privilegeMode?: PrivilegeMode;
    limits?: SandboxLimits;
    startedAt?: string;
    volumes: string[];
  };
  nestedEngine: {
    isAnswering: boolean;
    socket: string;
    version?: string;
    /** The course's base images, by the names learners use, and whether each is there. */
    baseImages: Array<{ name: string; isPresent: boolean }>;
  };
}

export async function readSandboxStatus(engine: Engine, instance: Instance): Promise<SandboxStatus> {
  const container = await inspectContainer(engine, instance);
  const state = stateOf(container);
  const nested = state === 'running' ? await tryConnect(engine, instance) : undefined;
  const baseImages = await Promise.all(
    nestedBaseImages.map(async (recipe) => ({
      name: recipe.nestedName!,
      isPresent: nested ? await hasImage(nested, recipe.nestedName!) : false,
    })),
  );
  return {
    engine: { address: engine.address, version: engine.version, apiVersion: engine.apiVersion },
    sandbox: {
      state,
      container: instance.containerName,
      ...(container
        ? { privilegeMode: modeOf(container), limits: limitsOf(container.HostConfig), ...(container.State.Running ? { startedAt: container.State.StartedAt } : {}) }
        : {}),
      volumes: [instance.volumeName, instance.homeVolumeName],
    },
    nestedEngine: {
      isAnswering: Boolean(nested),
      socket: instance.socketPath,
      ...(nested ? { version: nested.version } : {}),
      baseImages,
    },
  };
}

async function tryConnect(engine: Engine, instance: Instance): Promise<Engine | undefined> {
  try {
    return await connectNestedEngine(instance, engine);
  } catch {
    // A sandbox that is still starting, whose dockerd died, or whose socket leads elsewhere:
    // reported as not answering.
    return undefined;
  }
}

async function hasImage(engine: Engine, name: string): Promise<boolean> {
  try {
    await engine.docker.getImage(name).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
