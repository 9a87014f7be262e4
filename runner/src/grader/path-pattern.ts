import type { FileFacts } from './types.js';

/**
 * Absolute path patterns in check parameters ("/app/node_modules", "/app/**\/*.env"),
 * matched against the merged view, whose paths have no leading "/". The syntax is the
 * .dockerignore one the lessons teach: `*` and `?` stay inside one path segment, `**` spans
 * any number of segments (none included).
 */
export function compilePathPattern(pattern: string): RegExp {
  const segments = pattern.split('/').filter(Boolean);
  let source = '';
  segments.forEach((segment, index) => {
    const isLast = index === segments.length - 1;
    if (segment === '**') {
      source += isLast ? '.*' : '(?:[^/]+/)*';
      return;
    }
    source += segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + (isLast ? '' : '/');
  });
  return new RegExp(`^${source}$`);
}

/** A pattern is valid when it is absolute and has something after the "/". */
export function isPathPattern(pattern: string): boolean {
  return pattern.startsWith('/') && pattern.split('/').some(Boolean);
}

export interface PathMatch {
  /** The shortest path that matches, with a leading "/". */
  path: string;
  /** How many paths of the image are under it (0 for a file). */
  pathsUnder: number;
  /** The layer that put the first of them there. */
  layer: number;
}

/**
 * Everything in the image a pattern covers, grouped by the shortest matching path: a
 * directory that matches stands for everything under it. A layer may hold a/b/c without an
 * entry for a/b, so every ancestor of every path counts as being there.
 */
export function findMatches(files: ReadonlyMap<string, FileFacts>, pattern: string): PathMatch[] {
  const regex = compilePathPattern(pattern);
  const matches = new Map<string, PathMatch>();
  for (const file of files.values()) {
    const parts = file.path.split('/');
    for (let length = 1; length <= parts.length; length++) {
      const candidate = parts.slice(0, length).join('/');
      if (!regex.test(candidate)) continue;
      let match = matches.get(candidate);
      if (!match) {
        match = { path: `/${candidate}`, pathsUnder: 0, layer: files.get(candidate)?.layer ?? file.layer };
        matches.set(candidate, match);
      }
      if (candidate !== file.path) match.pathsUnder++;
      break;
    }
  }
  return [...matches.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The names directly inside a directory of the merged view, sorted. */
export function childrenOf(files: ReadonlyMap<string, FileFacts>, directory: string): string[] {
  const prefix = directory.split('/').filter(Boolean).join('/');
  const names = new Set<string>();
  for (const filePath of files.keys()) {
    if (prefix && !filePath.startsWith(`${prefix}/`)) continue;
    const rest = prefix ? filePath.slice(prefix.length + 1) : filePath;
    const name = rest.split('/')[0];
    if (name) names.add(name);
  }
  return [...names].sort();
}
