import os from 'node:os';
import path from 'node:path';
import { environmentError, usageError } from './errors.js';

/**
 * Where one sandbox lives: its names on the engine and its folder on this machine.
 * The learner has one instance ("layerlab"); tests start their own under other names,
 * so they never touch the learner's sandbox.
 */
export interface Instance {
  name: string;
  containerName: string;
  /** Named volume at /var/lib/docker: the nested engine's images, containers and build cache. */
  volumeName: string;
  /** Named volume at /root: the learner's files in the sandbox. */
  homeVolumeName: string;
  /** Labels on everything created for this instance; tests add `layerlab.test`. */
  labels: Record<string, string>;
  /** The user's Layerlab folder (progress, sockets). */
  dataDir: string;
  /** Host folder mounted at /run/layerlab in the sandbox; holds the nested engine's socket. */
  socketDir: string;
  socketPath: string;
}

export const defaultInstanceName = 'layerlab';

/** Unix socket paths longer than this fail to bind on Linux (sun_path is 108 bytes). */
const maxSocketPathLength = 107;

export function resolveInstance(env: NodeJS.ProcessEnv = process.env): Instance {
  const name = env.LAYERLAB_INSTANCE ?? defaultInstanceName;
  if (!/^[a-z0-9][a-z0-9_.-]{0,40}$/.test(name)) {
    throw usageError(
      `LAYERLAB_INSTANCE="${name}" is not a valid name.`,
      'Use lower-case letters, digits, ".", "_" or "-" (at most 41 characters), or unset it.',
    );
  }
  const dataDir = resolveDataDir(env);
  const socketDir = path.join(dataDir, 'sandboxes', name);
  const socketPath = path.join(socketDir, 'docker.sock');
  if (socketPath.length > maxSocketPathLength) {
    throw environmentError(
      `The sandbox socket path is too long for a unix socket (${socketPath.length} characters): ${socketPath}`,
      'Point LAYERLAB_DATA_DIR at a shorter folder, for example ~/.layerlab.',
    );
  }
  return {
    name,
    containerName: `${name}-sandbox`,
    volumeName: `${name}-docker-data`,
    homeVolumeName: `${name}-home`,
    labels: {
      'layerlab.instance': name,
      // Set by the test suite, so its leftovers can be found and removed.
      ...(env.LAYERLAB_TEST_RUN ? { 'layerlab.test': env.LAYERLAB_TEST_RUN } : {}),
    },
    dataDir,
    socketDir,
    socketPath,
  };
}

function resolveDataDir(env: NodeJS.ProcessEnv): string {
  if (env.LAYERLAB_DATA_DIR) return path.resolve(env.LAYERLAB_DATA_DIR);
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'layerlab');
}

/** Resource limits of the sandbox container. */
export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

const GiB = 1024 ** 3;

/** Defaults for a 2-core laptop: room for a Go build, never more than half the machine. */
export function defaultLimits(hostMemoryBytes: number, hostCpus: number): SandboxLimits {
  return {
    memoryBytes: Math.min(4 * GiB, Math.max(GiB, Math.floor(hostMemoryBytes / 2))),
    cpus: Math.min(2, hostCpus),
    pids: 4096,
  };
}

/** Parses "4g", "512m", "1.5GiB" or a byte count, as `docker run --memory` does. */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) {
    throw usageError(`--memory "${text}" is not a size.`, 'Write it like 4g, 2048m or 3.5g.');
  }
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: GiB }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes < GiB) {
    throw usageError(`--memory ${text} is too small for a Docker host.`, 'Give the sandbox at least 1g.');
  }
  return bytes;
}

export function parseCpus(text: string): number {
  const cpus = Number(text);
  // No upper bound here: checkLimitsFitHost compares it with what the machine has.
  if (!Number.isFinite(cpus) || cpus < 0.5) {
    throw usageError(`--cpus "${text}" is not a CPU count.`, 'Give a number such as 1, 1.5 or 2.');
  }
  return cpus;
}

/** The largest pid_max Linux allows; a limit above it means nothing. */
const maxPids = 4_194_304;

export function parsePids(text: string): number {
  const pids = Number(text);
  if (!Number.isInteger(pids) || pids < 256 || pids > maxPids) {
    throw usageError(`--pids "${text}" is not a usable process limit.`, `Give a whole number from 256 to ${maxPids}, such as 4096.`);
  }
  return pids;
}

/**
 * Refuses limits this machine cannot give, before anything is touched: Docker would refuse
 * `--cpus 3` on a 2-CPU host only when creating the new container, after the old one is gone,
 * and a memory limit above the machine's lifts the cap on learner containers in effect.
 */
export function checkLimitsFitHost(limits: Partial<SandboxLimits>, hostMemoryBytes: number, hostCpus: number): void {
  if (limits.cpus !== undefined && limits.cpus > hostCpus) {
    throw usageError(`--cpus ${limits.cpus} is more than this machine has (${hostCpus} CPUs).`, `Give at most --cpus ${hostCpus}. Your sandbox was not changed.`);
  }
  if (limits.memoryBytes !== undefined && limits.memoryBytes > hostMemoryBytes) {
    throw usageError(
      `--memory ${formatBytes(limits.memoryBytes)} is more than this machine has (${formatBytes(hostMemoryBytes)}).`,
      `Give at most half of it, e.g. --memory ${Math.max(1, Math.floor(hostMemoryBytes / 2 / GiB))}g. Your sandbox was not changed.`,
    );
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${bytes} B`;
}
