import path from 'node:path';
import { imagesDir } from '../project-root.js';

/**
 * The images the course needs, in build order (each builds on the ones before it).
 * On the learner's engine they carry a `layerlab/` prefix so they never replace the learner's
 * own images; inside the sandbox they get the names learners know (`nestedName`).
 */
export interface BaseImageRecipe {
  /** Name on the learner's engine. */
  hostName: string;
  /** Name inside the sandbox, or undefined for images that are not loaded there. */
  nestedName?: string;
  /**
   * How it is made: `rootfs` runs debootstrap on this machine and imports the result (the one
   * step that needs no image to start from); `dockerfile` builds the Dockerfile in `dir`.
   */
  kind: 'rootfs' | 'dockerfile';
  /** Folder whose files define the image; a change to any of them means a rebuild. */
  dir: string;
  /** Host name of the image this one builds on. */
  parent?: string;
}

export const debianSuite = 'trixie';
export const debianImage = 'layerlab/debian:trixie-slim';
export const sandboxImage = 'layerlab/sandbox:latest';

export const baseImageRecipes: readonly BaseImageRecipe[] = [
  { hostName: debianImage, nestedName: 'debian:trixie-slim', kind: 'rootfs', dir: path.join(imagesDir, 'debian') },
  { hostName: 'layerlab/golang:1.24', nestedName: 'golang:1.24', kind: 'dockerfile', dir: path.join(imagesDir, 'golang'), parent: debianImage },
  { hostName: 'layerlab/busybox:latest', nestedName: 'busybox:latest', kind: 'dockerfile', dir: path.join(imagesDir, 'busybox'), parent: debianImage },
  { hostName: sandboxImage, kind: 'dockerfile', dir: path.join(imagesDir, 'sandbox'), parent: debianImage },
];

/** The images a sandbox holds from the start, as learners name them. */
export const nestedBaseImages = baseImageRecipes.filter((recipe) => recipe.nestedName);
