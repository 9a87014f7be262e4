import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatSize, layerAt, plural } from '../describe.js';
import { compilePathPattern, isPathPattern } from '../path-pattern.js';
import type { CheckKind, EvidenceGroup, ImageFacts } from '../types.js';

const params = z
  .object({
    /** Absolute paths or patterns (`*`, `?`, `**`); a directory stands for everything under it, and an empty one holds nothing. */
    paths: z.array(z.string().refine(isPathPattern, 'must be an absolute path such as /srv/numbers.txt')).min(1),
  })
  .strict();

const listed = 5;

interface Finding {
  /** The shortest matching path, with a leading "/". */
  path: string;
  layer: number;
  sizeBytes: number;
  /** The first later layer that deletes or replaces it; undefined while a container still sees it. */
  hiddenInLayer?: number;
}

/**
 * No layer's tar holds any of the paths: not the final view a container sees, but every
 * layer, since a layer ships whole even when a later one deletes part of it (the deletion is
 * only a whiteout on top).
 */
export const pathNeverInLayers: CheckKind<typeof params> = {
  summary: 'No layer of the image holds the given paths, not even one a later layer deletes',
  params,
  evaluate(facts, { paths }) {
    const expected = `no layer holds ${paths.join(', ')}`;
    const findings = findInLayers(facts, paths);
    const unreadable = facts.layers.filter((layer) => layer.unreadable);
    if (!findings.length) {
      if (unreadable.length) {
        const which = unreadable.map((layer) => `${layerAt(facts, layer.index)}: ${layer.unreadable}`).join('; ');
        return { status: 'skip', expected, actual: 'unknown', message: `Not every layer could be read: ${which}.` };
      }
      return { status: 'pass', expected, actual: `in none of ${plural(facts.layers.length, 'layer')}` };
    }
    const sentences = findings.slice(0, listed).map((finding) => describe(facts, finding));
    if (findings.length > listed) sentences.push(`And ${findings.length - listed} more.`);
    const total = findings.reduce((sum, finding) => sum + finding.sizeBytes, 0);
    return {
      status: 'fail',
      expected,
      actual: `in ${findings.map((finding) => `layer ${finding.layer + 1}`).join(', ')} (${formatSize(total)})`,
      message: sentences.map(escapeLine).join('\n'),
      evidence: evidenceOf(facts, findings),
    };
  },
};

/** Every finding, one group per (layer, hiding layer) pair. */
function evidenceOf(facts: ImageFacts, findings: Finding[]): EvidenceGroup[] {
  const groups = new Map<string, EvidenceGroup>();
  for (const finding of findings) {
    const key = `${finding.layer}/${finding.hiddenInLayer ?? ''}`;
    let group = groups.get(key);
    if (!group) {
      const where = capitalise(layerAt(facts, finding.layer));
      const heading =
        finding.hiddenInLayer === undefined
          ? `${where}: a container still sees these`
          : `${where}: ${layerAt(facts, finding.hiddenInLayer)} deletes these, but their bytes still ship`;
      group = { heading, layer: finding.layer, items: [] };
      groups.set(key, group);
    }
    group.items.push(`${escapeLine(finding.path)} (${formatSize(finding.sizeBytes)})`);
  }
  return [...groups.values()];
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describe(facts: ImageFacts, finding: Finding): string {
  const where = `${escapeLine(finding.path)} (${formatSize(finding.sizeBytes)}) is in ${layerAt(facts, finding.layer)}`;
  if (finding.hiddenInLayer === undefined) return `${where}, and a container still sees it.`;
  return `${where}; ${layerAt(facts, finding.hiddenInLayer)} deletes it, so a container does not see it, but its bytes still ship in layer ${finding.layer + 1}.`;
}

function findInLayers(facts: ImageFacts, patterns: readonly string[]): Finding[] {
  const regexes = patterns.map(compilePathPattern);
  const findings = new Map<string, Finding>();
  for (const layer of facts.layers) {
    for (const entry of layer.entries) {
      // A folder ships only what it holds: an empty one (`docs/*` in .dockerignore keeps the
      // folder, not its files) carries nothing of the paths, and a full one is found by its files.
      if (entry.type === 'directory') continue;
      const parts = entry.path.split('/');
      for (let length = 1; length <= parts.length; length++) {
        const candidate = parts.slice(0, length).join('/');
        if (!regexes.some((regex) => regex.test(candidate))) continue;
        const key = `${layer.index}:${candidate}`;
        let finding = findings.get(key);
        if (!finding) {
          finding = { path: `/${candidate}`, layer: layer.index, sizeBytes: 0 };
          const hiddenIn = hidingLayer(facts, layer.index, candidate);
          if (hiddenIn !== undefined) finding.hiddenInLayer = hiddenIn;
          findings.set(key, finding);
        }
        finding.sizeBytes += entry.sizeBytes;
        break;
      }
    }
  }
  return [...findings.values()].sort((a, b) => a.layer - b.layer || a.path.localeCompare(b.path));
}

/** The first layer above `below` that deletes `path`, a folder holding it, or replaces it. */
export function hidingLayer(facts: ImageFacts, below: number, path: string): number | undefined {
  const ancestors = path.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'));
  for (const layer of facts.layers.slice(below + 1)) {
    if (layer.whiteouts.some((deleted) => ancestors.includes(deleted))) return layer.index;
    if (layer.opaqueDirectories.some((directory) => ancestors.slice(0, -1).includes(directory))) return layer.index;
    if (layer.entries.some((entry) => entry.path === path && entry.type !== 'directory')) return layer.index;
  }
  return undefined;
}
