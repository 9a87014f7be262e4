import { z } from 'zod';
import { layerAt, plural } from '../describe.js';
import { buildToolFamilies, buildToolFamilyNames, type BuildToolFinding, type CheckKind, type ImageFacts } from '../types.js';

const params = z
  .object({
    /** Which tools must not ship. */
    families: z.array(z.enum(buildToolFamilies)).nonempty(),
  })
  .strict();

const pathsShownPerFamily = 3;

/**
 * No build tool of the given families ships in any layer. A tool a later layer deletes
 * still ships (its layer is pulled and stored), so it counts, and the message says which
 * layer added it and which hides it.
 */
export const buildToolsAbsent: CheckKind<typeof params> = {
  summary: 'No build tool ships in any layer of the image',
  params,
  evaluate(facts, { families }) {
    const expected = `none of ${families.map((family) => buildToolFamilyNames[family]).join(', ')}`;
    const findings = facts.buildTools.filter((finding) => families.includes(finding.family));
    const unreadable = facts.layers.filter((layer) => layer.unreadable);
    const unreadableText = unreadable.map((layer) => `${layerAt(facts, layer.index)} could not be read: ${layer.unreadable}`).join('; ');
    if (findings.length === 0) {
      if (unreadable.length) {
        return { status: 'skip', expected, actual: 'unknown', message: `Not every layer could be checked: ${unreadableText}.` };
      }
      return { status: 'pass', expected, actual: 'none found' };
    }
    const present = families.filter((family) => findings.some((finding) => finding.family === family));
    const actual = present
      .map((family) => `${buildToolFamilyNames[family]} (${plural(findings.filter((finding) => finding.family === family).length, 'file')})`)
      .join(', ');
    const lines = present.map((family) => describeFamily(facts, family, findings.filter((finding) => finding.family === family)));
    if (unreadable.length) lines.push(`Also, ${unreadableText}.`);
    return { status: 'fail', expected, actual, message: lines.join('\n') };
  },
};

/** The tools a learner knows by name come first in a list. */
const wellKnownTools = ['go', 'gofmt', 'compile', 'link', 'gcc', 'cc1', 'make', 'git'];

function describeFamily(facts: ImageFacts, family: BuildToolFinding['family'], findings: BuildToolFinding[]): string {
  // One sentence per (added, hidden) pair of layers: usually one, "all added by layer 2".
  const groups = new Map<string, BuildToolFinding[]>();
  for (const finding of findings) {
    const key = `${finding.addedInLayer}/${finding.hiddenInLayer ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  const sentences = [...groups.values()]
    // Hidden ones first: they are the surprise worth explaining.
    .sort((a, b) => Number(b[0]!.hiddenInLayer !== undefined) - Number(a[0]!.hiddenInLayer !== undefined))
    .map((group) => describeGroup(facts, group));
  return `${capitalise(buildToolFamilyNames[family])} ships (${plural(findings.length, 'file')}): ${sentences.join(' ')}`;
}

function describeGroup(facts: ImageFacts, group: BuildToolFinding[]): string {
  const rank = (finding: BuildToolFinding) => {
    const index = wellKnownTools.indexOf(finding.tool);
    return index === -1 ? wellKnownTools.length : index;
  };
  const ordered = [...group].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  const shown = ordered.slice(0, pathsShownPerFamily).map((finding) => `${finding.path} (${finding.evidence})`);
  const more = group.length - shown.length;
  const paths = `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  const first = group[0]!;
  const added = `${group.length > 1 ? 'all added' : 'added'} by ${layerAt(facts, first.addedInLayer)}`;
  if (first.hiddenInLayer === undefined) return `${paths}; ${added}.`;
  const how = { whiteout: 'deleted', 'opaque-directory': 'hidden (its directory was emptied)', replaced: 'replaced' }[first.hiddenBy ?? 'whiteout'];
  return `${paths}; ${added}, ${how} by ${layerAt(facts, first.hiddenInLayer)}, yet still shipped in layer ${first.addedInLayer + 1}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
