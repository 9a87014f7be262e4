import path from 'node:path';
import type { BuildToolFinding, FileFacts } from '../types.js';
import type { LayerContents } from './layer-tar.js';

export interface MergedView {
  files: Map<string, FileFacts>;
  buildTools: BuildToolFinding[];
}

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const maxSymlinkHops = 40;

/**
 * Takes `root` (or, with keepRoot, only what is under it) out of a merged tree: every path of
 * the subtree leaves `files` and the folder index `children`, and `removed` hears of each
 * path visited with what `files` held there (undefined for a folder only the index knew).
 * Iterative, so a very deep tree cannot overflow the stack.
 */
export function removeSubtree<T>(
  files: Map<string, T>,
  children: Map<string, Set<string>>,
  root: string,
  keepRoot: boolean,
  removed: (path: string, held: T | undefined) => void,
): void {
  const stack = [root];
  while (stack.length) {
    const current = stack.pop()!;
    const below = children.get(current);
    if (below) {
      for (const child of below) stack.push(current ? `${current}/${child}` : child);
      children.delete(current);
    }
    if (current === root && keepRoot) continue;
    const held = files.get(current);
    if (files.delete(current)) children.get(parentOf(current))?.delete(path.posix.basename(current));
    removed(current, held);
  }
}

/**
 * Applies the layers in order, as overlayfs would show them to a container
 * (image-spec layer.md, "Whiteouts"): a layer's whiteouts and opaque directories delete
 * what the layers below put there, then its entries add or replace paths.
 *
 * Build tools are tracked through it: one found in layer 2 and deleted in layer 3 is still
 * reported, because its bytes ship in layer 2; the finding says which layer hides it.
 * An unreadable layer (undefined) is skipped; the caller reports it.
 */
export function mergeLayers(layers: ReadonlyArray<LayerContents | undefined>): MergedView {
  const files = new Map<string, FileFacts>();
  const children = new Map<string, Set<string>>();
  const findingAt = new Map<string, BuildToolFinding>();
  const buildTools: BuildToolFinding[] = [];

  const hide = (filePath: string, layer: number, how: NonNullable<BuildToolFinding['hiddenBy']>) => {
    const finding = findingAt.get(filePath);
    // A hard link going away leaves the tool where it was; only its own path hides it.
    if (finding && finding.path === `/${filePath}` && finding.hiddenInLayer === undefined) {
      finding.hiddenInLayer = layer;
      finding.hiddenBy = how;
    }
    findingAt.delete(filePath);
  };
  const removeTree = (filePath: string, layer: number, how: NonNullable<BuildToolFinding['hiddenBy']>, keepRoot: boolean) =>
    removeSubtree(files, children, filePath, keepRoot, (current) => hide(current, layer, how));

  layers.forEach((contents, layer) => {
    if (!contents) return;
    for (const directory of contents.opaqueDirectories) removeTree(directory, layer, 'opaque-directory', true);
    for (const whiteout of contents.whiteouts) removeTree(whiteout, layer, 'whiteout', false);
    for (const entry of contents.entries) {
      const existing = files.get(entry.path);
      if (existing) {
        // A directory over a directory merges; anything else replaces what was there.
        if (!(existing.type === 'directory' && entry.type === 'directory')) removeTree(entry.path, layer, 'replaced', entry.type === 'directory');
      }
      // A hard link is its target's file under a second name (in this layer's tar or a lower
      // one), for as long as the link exists: deleting or replacing the original later does
      // not touch it. A link whose target is nowhere stays a 'hardlink'. A hard link to a
      // symlink is that symlink under a second name (GNU ln does not follow it).
      const original = entry.type === 'hardlink' && entry.linkTarget !== undefined ? files.get(entry.linkTarget) : undefined;
      const resolved = original?.type === 'file' || original?.type === 'symlink' ? original : undefined;
      const facts: FileFacts = resolved
        ? {
            ...resolved,
            path: entry.path,
            layer,
            hardLinkTo: entry.linkTarget!,
            ...(entry.content ? { content: entry.content } : {}),
          }
        : {
            path: entry.path,
            type: entry.type,
            sizeBytes: entry.sizeBytes,
            mode: entry.mode,
            layer,
            ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
            ...(entry.identity ? { identity: entry.identity } : {}),
            ...(entry.content ? { content: entry.content } : {}),
          };
      files.set(entry.path, facts);
      addToParents(children, entry.path);
      if (facts.identity?.kind !== 'build-tool') continue;
      const sharedWith = facts.hardLinkTo;
      const hardLinked = sharedWith !== undefined ? findingAt.get(sharedWith) : undefined;
      if (hardLinked) {
        hardLinked.aliases.push(`/${entry.path}`);
        findingAt.set(entry.path, hardLinked);
        continue;
      }
      const finding: BuildToolFinding = {
        family: facts.identity.family,
        tool: facts.identity.tool,
        path: `/${entry.path}`,
        evidence: facts.identity.evidence,
        addedInLayer: layer,
        aliases: [],
      };
      buildTools.push(finding);
      findingAt.set(entry.path, finding);
    }
  });

  // Symlinks that lead to a tool in the final view (/usr/bin/cc -> /etc/alternatives/cc -> ...).
  for (const file of files.values()) {
    if (file.type !== 'symlink') continue;
    const target = resolvePath(files, file.path);
    const finding = target ? findingAt.get(target) : undefined;
    if (finding && finding.path !== `/${file.path}`) finding.aliases.push(`/${file.path}`);
  }
  for (const finding of buildTools) finding.aliases.sort();
  return { files, buildTools };
}

export function parentOf(filePath: string): string {
  const parent = path.posix.dirname(filePath);
  return parent === '.' ? '' : parent;
}

/** Records `filePath` under each of its parent folders (children index, by parent path). */
export function addToParents(children: Map<string, Set<string>>, filePath: string): void {
  let current = filePath;
  while (current) {
    const parent = parentOf(current);
    let set = children.get(parent);
    if (!set) {
      set = new Set();
      children.set(parent, set);
    }
    if (set.has(path.posix.basename(current))) return; // its parents are recorded already
    set.add(path.posix.basename(current));
    current = parent;
  }
}

/** One symlink followed on the way to a path: where it is, and its target as written. */
export interface LinkHop {
  path: string;
  target: string;
}

/**
 * Where a path leads in the merged view, as a container's kernel would look it up:
 * `found` (the path that holds it, root-relative), `missing` (nothing at `path`, the first
 * component with no entry that was not a folder on the way), or `loop` (more than 40 symlinks,
 * ELOOP). `links` are the symlinks followed, in order, whatever the outcome.
 */
export type PathLookup = { state: 'found' | 'missing'; path: string; links: LinkHop[] } | { state: 'loop'; links: LinkHop[] };

/**
 * Follows symlinks in the merged view, component by component, as the kernel would in a
 * container: an absolute target starts again at the image's root, and ".." stops there.
 */
export function followLinks(files: ReadonlyMap<string, FileFacts>, filePath: string): PathLookup {
  let pending = filePath.split('/').filter(Boolean);
  const resolved: string[] = [];
  const links: LinkHop[] = [];
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const current = resolved.join('/');
    const file = files.get(current);
    // A layer may hold a/b/c without an entry for a/b: the directory exists all the same.
    if (!file) {
      if (pending.length) continue;
      return { state: 'missing', path: current, links };
    }
    if (file.type !== 'symlink' || file.linkTarget === undefined) continue;
    if (links.length === maxSymlinkHops) return { state: 'loop', links };
    links.push({ path: `/${current}`, target: file.linkTarget });
    resolved.pop();
    const target = file.linkTarget.split('/').filter(Boolean);
    if (file.linkTarget.startsWith('/')) resolved.length = 0;
    pending = [...target, ...pending];
  }
  return { state: 'found', path: resolved.join('/'), links };
}

/** The path a lookup of `filePath` ends at (see followLinks); undefined when a link dangles or loops. */
export function resolvePath(files: ReadonlyMap<string, FileFacts>, filePath: string): string | undefined {
  const lookup = followLinks(files, filePath);
  return lookup.state === 'found' ? lookup.path : undefined;
}
