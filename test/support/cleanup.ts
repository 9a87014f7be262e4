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
    await docker.getContainer(container.Id).remove({ force: true, v: true });
    removed.push(`container ${container.Names[0]}`);
  }
  for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
    if (!belongs(volume.Labels ?? undefined)) continue;
    await docker.getVolume(volume.Name).remove();
    removed.push(`volume ${volume.Name}`);
  }
  for (const image of await docker.listImages({ filters })) {
    if (!belongs(image.Labels)) continue;
    await docker.getImage(image.Id).remove({ force: true });
    removed.push(`image ${image.RepoTags?.[0] ?? image.Id}`);
  }
  return removed;
}

function isSandbox(labels: Record<string, string> | undefined): boolean {
  const role = labels?.['layerlab.role'];
  return role === 'sandbox' || role === 'sandbox-storage';
}
