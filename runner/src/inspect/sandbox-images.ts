import type { Engine } from '../engine.js';
import { withTimeout } from '../engine.js';
import type { SandboxContainerSummary, SandboxImageSummary } from '../contract/inspect.js';

const listTimeoutMs = 30_000;

/** The images of the sandbox, newest first, for the explorer's picker. */
export async function listSandboxImages(nested: Engine): Promise<SandboxImageSummary[]> {
  const images = await withTimeout(nested.docker.listImages(), listTimeoutMs, 'the sandbox engine did not list its images');
  return images
    .map((image) => ({
      id: image.Id,
      tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
      sizeBytes: image.Size,
      createdAt: new Date(image.Created * 1000).toISOString(),
    }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The containers of the sandbox, for the overlay2 explorer's picker. */
export async function listSandboxContainers(nested: Engine): Promise<SandboxContainerSummary[]> {
  const containers = await withTimeout(nested.docker.listContainers({ all: true }), listTimeoutMs, 'the sandbox engine did not list its containers');
  return containers.map((container) => ({
    id: container.Id,
    name: (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, ''),
    image: container.Image,
    state: container.State,
  }));
}
