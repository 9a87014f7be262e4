import path from 'node:path';
import { imagesDir } from '../project-root.js';

/**
 * The images the course needs, in build order (each builds on the ones before it).
 * On the learner's engine they carry a `layerlab/` prefix so they never replace the learner's
 * own images; inside the sandbox they get the names learners know (`nestedName`).
 */
export interface BaseImageRecipe {
  /** Name on the learner's engine, below the `layerlab/` namespace. */
  name: string;
  /** Name inside the sandbox, or undefined for images that are not loaded there. */
  nestedName?: string;
  /**
   * How it is made: `rootfs` runs debootstrap on this machine and imports the result (the one
   * step that needs no image to start from); `dockerfile` builds the Dockerfile in `dir`.
   */
  kind: 'rootfs' | 'dockerfile';
  /** Folder whose files define the image; a change to any of them means a rebuild. */
  dir: string;
  /** `name` of the image this one builds on; its Dockerfile takes it as the BASE build arg. */
  parent?: string;
  /**
   * Images its build stages use, as build arg name -> recipe `name` (the sandbox compiles
   * its authorization plugin in a golang stage). Like the parent, each one's id is part of
   * the recipe key, so a rebuilt stage image rebuilds this one.
   */
  stages?: Readonly<Record<string, string>>;
}

export const debianSuite = 'trixie';
/** Where base images live on the learner's engine; benchmarks build under another namespace. */
export const baseImageNamespace = 'layerlab';
export const sandboxImage = `${baseImageNamespace}/sandbox:latest`;
const debian = 'debian:trixie-slim';

export const baseImageRecipes: readonly BaseImageRecipe[] = [
  { name: debian, nestedName: debian, kind: 'rootfs', dir: path.join(imagesDir, 'debian') },
  { name: 'golang:1.24', nestedName: 'golang:1.24', kind: 'dockerfile', dir: path.join(imagesDir, 'golang'), parent: debian },
  { name: 'busybox:latest', nestedName: 'busybox:latest', kind: 'dockerfile', dir: path.join(imagesDir, 'busybox'), parent: debian },
  { name: 'registry:2', nestedName: 'registry:2', kind: 'dockerfile', dir: path.join(imagesDir, 'registry'), parent: debian },
  { name: 'sandbox:latest', kind: 'dockerfile', dir: path.join(imagesDir, 'sandbox'), parent: debian, stages: { GOLANG: 'golang:1.24' } },
];

export function hostNameOf(recipe: BaseImageRecipe, namespace = baseImageNamespace): string {
  return `${namespace}/${recipe.name}`;
}

/** The images a sandbox holds from the start, as learners name them. */
export const nestedBaseImages = baseImageRecipes.filter((recipe) => recipe.nestedName);
