import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { environmentError } from './errors.js';
import { projectRoot } from './project-root.js';

/**
 * The lessons, as the site build found them. The site's content collection is the one
 * place lessons are read and validated; its build writes course.json, and the runner reads
 * that instead of parsing MDX a second time (the runner never imports from site/).
 */
export const defaultSiteDir = path.join(projectRoot, 'site', 'dist');

/**
 * The built site to serve: site/dist, or LAYERLAB_SITE_DIR for a build made elsewhere
 * (`astro build --outDir`), as the end-to-end tests do so that no other build can change
 * the files under them.
 */
export function resolveSiteDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAYERLAB_SITE_DIR ? path.resolve(env.LAYERLAB_SITE_DIR) : defaultSiteDir;
}

const catalog = z.object({
  schemaVersion: z.literal(1),
  lessons: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      summary: z.string(),
      exercise: z.string().optional(),
      path: z.string(),
    }),
  ),
});

export type CourseCatalog = z.infer<typeof catalog>;
export type CatalogLesson = CourseCatalog['lessons'][number];

export async function readCourseCatalog(builtSiteDir: string = resolveSiteDir()): Promise<CourseCatalog> {
  const file = path.join(builtSiteDir, 'course.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw environmentError('The course site is not built yet.', 'Run `npm run build` in the Layerlab folder, then try again.');
  }
  const parsed = catalog.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw environmentError(`${file} is from another version of Layerlab.`, 'Run `npm run build` in the Layerlab folder, then try again.');
  }
  return parsed.data;
}
