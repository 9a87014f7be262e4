import type Docker from 'dockerode';
import { isRunAlive, testLabel } from './test-run.js';

/**
 * Removes what test runs left on an engine.
 * - With `runId`: that run's fixtures (containers, volumes, images), but never a sandbox or its
 *   volumes: test files share the run's sandbox, and only `resetSandbox`, called by whoever
 *   started it, removes one.
 * - Without: everything of runs whose process has died, sandboxes included.
 */
export async function removeTestObjects(docker: Docker, runId?: string): Promise<string[]> {
  const belongs = (labels: Record<string, string> | undefined): boolean => {
    const run = labels?.[testLabel];
    if (run === undefined) return false;
    return runId ? run === runId && !isSandbox(labels) : !isRunAlive(run);
  };
  const removed: string[] = [];
  const filters = { label: [testLabel] };
  for (const container of await docker.listContainers({ all: true, filters })) {
    if (!belongs(container.Labels)) continue;
    if (!(await unlessGone(docker.getContainer(container.Id).remove({ force: true, v: true })))) continue;
    removed.push(`container ${container.Names[0]}`);
  }
  for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
    if (!belongs(volume.Labels ?? undefined)) continue;
    if (!(await unlessGone(docker.getVolume(volume.Name).remove()))) continue;
    removed.push(`volume ${volume.Name}`);
  }
  for (const image of await docker.listImages({ filters })) {
    if (!belongs(image.Labels)) continue;
    if (!(await unlessGone(docker.getImage(image.Id).remove({ force: true })))) continue;
    removed.push(`image ${image.RepoTags?.[0] ?? image.Id}`);
  }
  return removed;
}

/**
 * Waits for a removal; false when the object was already gone. Runs that start together each
 * sweep what dead runs left, so the other one may have removed it between list and remove.
 */
async function unlessGone(removal: Promise<unknown>): Promise<boolean> {
  try {
    await removal;
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

function isSandbox(labels: Record<string, string> | undefined): boolean {
  const role = labels?.['layerlab.role'];
  return role === 'sandbox' || role === 'sandbox-storage';
}
