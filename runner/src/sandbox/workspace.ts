import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { isNotFound, type Engine } from '../engine.js';
import { projectRoot } from '../project-root.js';
import type { Instance } from '../settings.js';

/** Where exercise starters land in the sandbox: /root is the learner's persistent home volume. */
export const sandboxExercisesDir = '/root/exercises';

/**
 * Copies each exercise's starter folder into the sandbox as ~/exercises/<id>/, once: a
 * folder that is already there holds the learner's work and is never overwritten.
 */
export async function copyExerciseStarters(
  engine: Engine,
  instance: Instance,
  exercisesRoot: string = path.join(projectRoot, 'exercises'),
): Promise<string[]> {
  const container = engine.docker.getContainer(instance.containerName);
  const copied: string[] = [];
  for (const id of await exerciseIdsWithStarters(exercisesRoot)) {
    if (await existsInContainer(container, `${sandboxExercisesDir}/${id}`)) continue;
    const archive = await packFolder(path.join(exercisesRoot, id, 'starter'), `exercises/${id}`);
    await container.putArchive(archive, { path: '/root' });
    copied.push(id);
  }
  return copied;
}

async function exerciseIdsWithStarters(exercisesRoot: string): Promise<string[]> {
  const entries = await readdir(exercisesRoot, { withFileTypes: true }).catch(() => []);
  const ids: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !/^lesson-\d+$/.test(entry.name)) continue;
    if (await isFolder(path.join(exercisesRoot, entry.name, 'starter'))) ids.push(entry.name);
  }
  return ids.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
}

async function isFolder(folder: string): Promise<boolean> {
  try {
    return (await stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

async function existsInContainer(container: ReturnType<Engine['docker']['getContainer']>, containerPath: string): Promise<boolean> {
  try {
    // dockerode hands back the HEAD response unread; left alone, its socket keeps the process alive.
    const response = (await container.infoArchive({ path: containerPath })) as { destroy?: () => void };
    response.destroy?.();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * A tar of everything in `folder` (sub-folders, dotfiles, executable bits), with its entries
 * under `prefix` (whose folders get entries too), owned by root.
 */
export async function packFolder(folder: string, prefix = ''): Promise<Buffer> {
  const pack = tar.pack();
  const parts = prefix.split('/').filter(Boolean);
  parts.forEach((_, index) => pack.entry({ name: `${parts.slice(0, index + 1).join('/')}/`, type: 'directory', mode: 0o755 }));
  const under = (name: string) => (parts.length ? `${parts.join('/')}/${name}` : name);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.parentPath.localeCompare(b.parentPath) || a.name.localeCompare(b.name))) {
    const full = path.join(entry.parentPath, entry.name);
    const name = under(path.relative(folder, full).split(path.sep).join('/'));
    const info = await stat(full);
    if (entry.isDirectory()) pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: info.mtime });
    else if (entry.isFile()) pack.entry({ name, mode: info.mode & 0o111 ? 0o755 : 0o644, mtime: info.mtime }, await readFile(full));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
