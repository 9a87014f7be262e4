import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding Layerlab's package.json. Found by walking up, because this module
 * runs both from runner/src (tests) and from dist/runner/src (the built CLI).
 */
export const projectRoot: string = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'layerlab') return dir;
    if (path.dirname(dir) === dir) throw new Error(`Layerlab's package.json was not found above ${start}`);
  }
}

export const imagesDir = path.join(projectRoot, 'runner', 'images');
