import { followProgress, isNotFound, type Engine } from '../engine.js';
import type { Progress } from '../progress.js';
import { hostNameOf, nestedBaseImages } from '../base-images/recipes.js';

export interface LoadResult {
  /** Names (as learners know them) loaded now; empty when the sandbox had them all. */
  loaded: string[];
  seconds: number;
}

/**
 * Copies the base images from the learner's engine into the sandbox's, under the names
 * learners know. No registry is involved: `docker save` on one side, `docker load` on the
 * other, streamed. An image whose id already matches is not copied again.
 */
export async function loadBaseImages(engine: Engine, nested: Engine, progress: Progress): Promise<LoadResult> {
  const started = performance.now();
  const missing: typeof nestedBaseImages = [];
  for (const recipe of nestedBaseImages) {
    const hostId = (await engine.docker.getImage(hostNameOf(recipe)).inspect()).Id;
    if ((await imageIdOf(nested, recipe.nestedName!)) !== hostId) missing.push(recipe);
  }
  if (missing.length === 0) return { loaded: [], seconds: 0 };

  const names = missing.map((recipe) => recipe.nestedName!);
  await progress.step(`Loading ${names.join(', ')} into the sandbox`, async (detail) => {
    // GET /images/get?names=…: one archive for all of them, so shared layers travel once.
    const archive = await (engine.docker as unknown as SavesImages).getImages({ names: missing.map((recipe) => hostNameOf(recipe)) });
    const loading = await nested.docker.loadImage(archive, { quiet: true });
    await followProgress(nested.docker, loading, detail);
    for (const recipe of missing) {
      const [repo, tag] = recipe.nestedName!.split(':') as [string, string];
      await nested.docker.getImage(hostNameOf(recipe)).tag({ repo, tag });
      // Drop the layerlab/ name inside: learners should see the names they know.
      await nested.docker.getImage(hostNameOf(recipe)).remove({ noprune: true });
    }
  });
  return { loaded: names, seconds: (performance.now() - started) / 1000 };
}

/** dockerode has this call; its type definitions lack it. */
interface SavesImages {
  getImages(options: { names: string[] }): Promise<NodeJS.ReadableStream>;
}

async function imageIdOf(engine: Engine, name: string): Promise<string | undefined> {
  try {
    return (await engine.docker.getImage(name).inspect()).Id;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
