import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { isNotFound, withTimeout, type Engine } from '../../engine.js';
import { messageOf } from '../../errors.js';

/** Labels on every container and image a probe makes, so a killed grader's leftovers can be found. */
export const probeLabels = { 'layerlab.role': 'grader-probe' } as const;

/** How long one Engine API call may take before the probe gives up on the engine. */
export const engineCallTimeoutMs = 30_000;

export interface ProbeContainerSpec {
  imageId: string;
  /** Replaces the image's CMD when given. */
  cmd?: string[];
  exposedPorts?: Record<string, object>;
  /** Limits and networking; a hostile image must not take the machine down with it. */
  hostConfig: Docker.HostConfig;
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export type StartedProbe = { container: Docker.Container } | { notStarted: string; container?: Docker.Container };

/**
 * Creates and starts a throw-away container for a probe. A container the engine refuses to
 * create or start is a finding about the image ("no such file"), not an error, so it comes
 * back as `notStarted` with the engine's words. The caller removes `container` when set.
 */
export async function startProbeContainer(engine: Engine, spec: ProbeContainerSpec): Promise<StartedProbe> {
  const { signal } = spec;
  signal?.throwIfAborted();
  let container: Docker.Container | undefined;
  try {
    container = await withTimeout(
      engine.docker.createContainer(probeContainerOptions(spec, `layerlab-probe-${randomBytes(4).toString('hex')}`)),
      engineCallTimeoutMs,
      `the engine did not create the container within ${engineCallTimeoutMs / 1000} s`,
    );
    signal?.throwIfAborted();
    await withTimeout(container.start(), engineCallTimeoutMs, `the engine did not start the container within ${engineCallTimeoutMs / 1000} s`);
    return { container };
  } catch (error) {
    if (signal?.aborted) {
      if (container) await removeQuietly(container);
      throw signal.reason;
    }
    return { notStarted: engineMessage(error), ...(container ? { container } : {}) };
  }
}

/** What the engine is asked to create: the spec, labelled as a probe, with no terminal or input. */
export function probeContainerOptions(spec: Omit<ProbeContainerSpec, 'signal'>, name: string): Docker.ContainerCreateOptions {
  return {
    name,
    Image: spec.imageId,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Labels: { ...probeLabels, ...spec.labels },
    ...(spec.exposedPorts ? { ExposedPorts: spec.exposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    HostConfig: spec.hostConfig,
  };
}

export async function containerState(container: Docker.Container): Promise<Docker.ContainerInspectInfo['State']> {
  return (await withTimeout(container.inspect(), engineCallTimeoutMs, 'the engine did not answer')).State;
}

export async function removeQuietly(container: Docker.Container): Promise<void> {
  try {
    await withTimeout(container.remove({ force: true, v: true }), engineCallTimeoutMs, 'remove timed out');
  } catch (error) {
    // Nothing more can be done now; it is labelled, and removeStaleProbes clears it next time.
    const warning = removalWarning(error, 'the probe container');
    if (warning) process.emitWarning(warning);
  }
}

/** What to warn of when removing `what` failed; nothing when it was gone already (404). */
export function removalWarning(error: unknown, what: string): string | undefined {
  return isNotFound(error) ? undefined : `Could not remove ${what}: ${engineMessage(error)}`;
}

/** Probes older than this belong to a grader that died (a probe lasts seconds). */
const staleProbeAgeSeconds = 300;

/** Removes probe containers a killed grader left behind; running probes of others are young. */
export async function removeStaleProbes(engine: Engine): Promise<void> {
  const containers = await withTimeout(
    engine.docker.listContainers({ all: true, filters: { label: [`layerlab.role=${probeLabels['layerlab.role']}`] } }),
    engineCallTimeoutMs,
    'the engine did not answer',
  );
  for (const id of staleProbeIds(containers, Date.now() / 1000)) await removeQuietly(engine.docker.getContainer(id));
}

/** The probes listed that a dead grader left: created `staleProbeAgeSeconds` or more before `nowSeconds`. */
export function staleProbeIds(containers: ReadonlyArray<Pick<Docker.ContainerInfo, 'Id' | 'Created'>>, nowSeconds: number): string[] {
  return containers.filter((container) => nowSeconds - container.Created >= staleProbeAgeSeconds).map((container) => container.Id);
}

/** The engine's own words, without dockerode's "(HTTP code 400) unexpected - " prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  const message = typeof json?.message === 'string' ? json.message : messageOf(error);
  return message.replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
}
