import { runSandboxScript } from './sandbox-script.js';
import { nestedBaseImages } from '../base-images/recipes.js';
import {
  formatSize,
  isDiskNearlyFull,
  sandboxHealthLabels,
  sandboxHealthOrder,
  diskWarningFreeBytes,
  diskWarningFreeShare,
  type SandboxDisk,
  type SandboxHealth,
} from '../contract/index.js';
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
  /** The most urgent problem (or healthy), every problem found, and what to do. */
  health: { word: SandboxHealth; label: string; problems: string[]; advice?: string };
  /** Process counts against their caps: the whole sandbox, nested containers, learners' shells. */
  processes?: ProcessCounts;
  disk?: SandboxDisk;
}

export interface ProcessCount {
  current: number;
  max: number;
}

export interface ProcessCounts {
  sandbox?: ProcessCount;
  containers?: ProcessCount;
  shells?: ProcessCount;
}

export interface StatusOptions {
  /** Measure what the sandbox stores (`du` of /var/lib/docker, a second or more on a full one); the page's quick status skips it. */
  measureData?: boolean;
}

export async function readSandboxStatus(engine: Engine, instance: Instance, options: StatusOptions = {}): Promise<SandboxStatus> {
  const container = await inspectContainer(engine, instance);
  const state = stateOf(container);
  const nested = state === 'running' ? await tryConnect(engine, instance) : undefined;
  const baseImages = await Promise.all(
    nestedBaseImages.map(async (recipe) => ({
      name: recipe.nestedName!,
      isPresent: nested ? await hasImage(nested, recipe.nestedName!) : false,
    })),
  );
  const running = container?.State.Running === true;
  const [processes, disk] = running ? await Promise.all([readProcessCounts(engine, instance), readDisk(engine, instance, options.measureData ?? true)]) : [undefined, undefined];
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
    health: judgeHealth({ state, isAnswering: Boolean(nested), processes, disk }),
    ...(processes ? { processes } : {}),
    ...(disk ? { disk } : {}),
  };
}

/** The facts a health judgement rests on. */
export interface HealthFacts {
  state: SandboxState;
  isAnswering: boolean;
  processes: ProcessCounts | undefined;
  disk: SandboxDisk | undefined;
}

/** A cap counts as reached within this many processes of it (a bomb hovers just below). */
const processSlack = 8;

export function judgeHealth(facts: HealthFacts): SandboxStatus['health'] {
  const found: Array<{ word: SandboxHealth; problem: string; advice: string }> = [];
  if (facts.state === 'absent') found.push({ word: 'not-created', problem: 'There is no sandbox yet.', advice: 'Run `course up` to create it.' });
  if (facts.state === 'stopped') found.push({ word: 'stopped', problem: 'The sandbox is stopped.', advice: 'Run `course up` to start it.' });
  if (facts.state === 'running' && !facts.isAnswering) {
    found.push({
      word: 'engine-not-answering',
      problem: 'The sandbox runs, but its Docker engine does not answer.',
      advice: 'Wait a few seconds if it just started; otherwise run `course stop` and `course up` (images and files are kept).',
    });
  }
  if (facts.disk && isDiskNearlyFull(facts.disk)) {
    found.push({
      word: 'disk-nearly-full',
      problem: `Only ${formatSize(facts.disk.hostFreeBytes)} of ${formatSize(facts.disk.hostTotalBytes)} is free on the disk the sandbox stores its data on${facts.disk.dockerDataBytes === null ? '' : ` (the sandbox uses ${formatSize(facts.disk.dockerDataBytes)})`}.`,
      advice: 'Free space inside the sandbox with `docker system prune -a` (it removes stopped containers, unused images and the build cache), or `course reset` to start from a clean sandbox.',
    });
  }
  const full = (count: ProcessCount | undefined) => count !== undefined && count.current >= count.max - processSlack;
  const { sandbox, containers, shells } = facts.processes ?? {};
  const atLimit = [
    full(sandbox) ? `the sandbox runs ${sandbox!.current} of its ${sandbox!.max} processes` : undefined,
    full(containers) ? `containers run ${containers!.current} of their ${containers!.max} processes` : undefined,
    full(shells) ? `your shells run ${shells!.current} of their ${shells!.max} processes` : undefined,
  ].filter((text): text is string => text !== undefined);
  if (atLimit.length) {
    found.push({
      word: 'at-process-limit',
      problem: `At the process limit: ${atLimit.join('; ')}. A program that keeps starting processes (a fork bomb) is running.`,
      advice: 'Find it with `docker stats` and remove it with `docker rm -f NAME`; in a shell, close that terminal. `course stop` and `course up` end everything.',
    });
  }
  found.sort((a, b) => sandboxHealthOrder.indexOf(a.word) - sandboxHealthOrder.indexOf(b.word));
  const first = found[0];
  if (!first) return { word: 'healthy', label: sandboxHealthLabels.healthy, problems: [] };
  return { word: first.word, label: sandboxHealthLabels[first.word], problems: found.map((entry) => entry.problem), advice: first.advice };
}

/** The sandbox's process count from the learner's engine (no exec: a full sandbox cannot start one), the caps from inside. */
async function readProcessCounts(engine: Engine, instance: Instance): Promise<ProcessCounts | undefined> {
  const counts: ProcessCounts = {};
  try {
    const stats = (await engine.docker.getContainer(instance.containerName).stats({ stream: false, 'one-shot': true } as { stream: false })) as {
      pids_stats?: { current?: number; limit?: number };
    };
    const limit = (await inspectContainer(engine, instance))?.HostConfig.PidsLimit ?? 0;
    if (stats.pids_stats?.current !== undefined && limit > 0) counts.sandbox = { current: stats.pids_stats.current, max: limit };
  } catch {
    // No stats (an engine that keeps none): the inner caps may still tell.
  }
  const script = [
    'for group in learner shells; do',
    '  dir=/sys/fs/cgroup/pids/$group; [ -d "$dir" ] || dir=/sys/fs/cgroup/$group',
    '  echo "$group $(cat "$dir/pids.current" 2>/dev/null || echo -) $(cat "$dir/pids.max" 2>/dev/null || echo -)"',
    'done',
  ].join('\n');
  const output = await runSandboxScript(engine, instance, script).catch(() => '');
  for (const line of output.split('\n')) {
    const [group, current, max] = line.trim().split(' ');
    if (!/^\d+$/.test(current ?? '') || !/^\d+$/.test(max ?? '')) continue;
    const count = { current: Number(current), max: Number(max) };
    if (group === 'learner') counts.containers = count;
    if (group === 'shells') counts.shells = count;
  }
  return Object.keys(counts).length ? counts : undefined;
}

/**
 * The sandbox's data (/var/lib/docker, a volume on the learner's machine) and the free space
 * of the file system under it. `du` stays on that file system, so containers' overlay
 * mounts are not counted twice.
 */
async function readDisk(engine: Engine, instance: Instance, measureData: boolean): Promise<SandboxDisk | undefined> {
  const script = `df -B1 --output=size,avail /var/lib/docker | tail -n 1${measureData ? '; timeout 20 du -sxb /var/lib/docker 2>/dev/null | cut -f1' : ''}`;
  // du is given 20 s inside; the script as a whole a little more.
  const output = await runSandboxScript(engine, instance, script, 30_000).catch(() => '');
  const [sizes, used] = output.trim().split('\n');
  const [total, free] = (sizes ?? '').trim().split(/\s+/).map(Number);
  if (!Number.isFinite(total) || !Number.isFinite(free) || !total) return undefined;
  return { dockerDataBytes: measureData && /^\d+$/.test(used?.trim() ?? '') ? Number(used) : null, hostTotalBytes: total!, hostFreeBytes: free!, ...(await diskCap(engine)) };
}

/**
 * The sandbox's data is a named volume of the learner's engine, which Docker's local driver
 * cannot size-limit; a cap would need project quotas under it (xfs mounted with pquota),
 * which Layerlab does not set up. So: no cap, and a warning before the disk fills.
 */
async function diskCap(engine: Engine): Promise<Pick<SandboxDisk, 'capBytes' | 'capNote'>> {
  const info = (await engine.docker.info().catch(() => undefined)) as { DriverStatus?: Array<[string, string]> } | undefined;
  const backing = info?.DriverStatus?.find(([key]) => key === 'Backing Filesystem')?.[1] ?? 'unknown';
  const warning = `Layerlab warns once less than ${formatSize(diskWarningFreeBytes)} or ${diskWarningFreeShare * 100}% of it is free`;
  const why = backing === 'xfs'
    ? 'it is a volume on xfs, which could cap it only with project quotas (the pquota mount option), which Layerlab does not set up'
    : `it is a volume on your machine's ${backing === 'extfs' ? 'ext4' : backing} file system, which cannot cap one folder's size`;
  return { capBytes: null, capNote: `No cap on the sandbox's data: ${why}. ${warning}.` };
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
