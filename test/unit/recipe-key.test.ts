import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipeKeyOf } from '../../runner/src/base-images/build.js';
import { baseImageRecipes, type BaseImageRecipe } from '../../runner/src/base-images/recipes.js';

describe('recipeKeyOf', () => {
  let dir: string;
  let recipe: BaseImageRecipe;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'll-recipe-'));
    const golang = baseImageRecipes.find((candidate) => candidate.name === 'golang:1.24')!;
    await cp(golang.dir, dir, { recursive: true });
    recipe = { ...golang, dir };
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stays the same while nothing changes', async () => {
    expect(await recipeKeyOf(recipe, 'sha256:parent')).toBe(await recipeKeyOf(recipe, 'sha256:parent'));
  });

  it('changes when a file of the recipe changes, is added, or becomes executable', async () => {
    const before = await recipeKeyOf(recipe, 'sha256:parent');
    await writeFile(path.join(dir, 'extra.sh'), 'echo hi\n');
    const added = await recipeKeyOf(recipe, 'sha256:parent');
    await chmod(path.join(dir, 'extra.sh'), 0o755);
    const executable = await recipeKeyOf(recipe, 'sha256:parent');
    expect(new Set([before, added, executable]).size).toBe(3);
  });

  it('changes when the parent image changes, so children are rebuilt on a new base', async () => {
    expect(await recipeKeyOf(recipe, 'sha256:one')).not.toBe(await recipeKeyOf(recipe, 'sha256:two'));
  });

  it('changes when an image a build stage uses changes (the sandbox compiles its plugin in golang:1.24)', async () => {
    expect(await recipeKeyOf(recipe, 'sha256:parent', ['sha256:go-one'])).not.toBe(await recipeKeyOf(recipe, 'sha256:parent', ['sha256:go-two']));
    const sandbox = baseImageRecipes.find((candidate) => candidate.name === 'sandbox:latest')!;
    const order = baseImageRecipes.map((candidate) => candidate.name);
    for (const stage of Object.values(sandbox.stages ?? {})) expect(order.indexOf(stage)).toBeLessThan(order.indexOf(sandbox.name));
    expect(sandbox.stages).toEqual({ GOLANG: 'golang:1.24' });
  });
});

describe('baseImageRecipes', () => {
  it('lists every parent before the images built on it', () => {
    const seen = new Set<string>();
    for (const recipe of baseImageRecipes) {
      if (recipe.parent) expect(seen.has(recipe.parent)).toBe(true);
      seen.add(recipe.name);
    }
  });

  it('gives the sandbox the images learners know, by their usual names', () => {
    const nested = baseImageRecipes.flatMap((recipe) => (recipe.nestedName ? [recipe.nestedName] : []));
    expect(nested).toEqual(['debian:trixie-slim', 'golang:1.24', 'busybox:latest', 'registry:2']);
  });
});
