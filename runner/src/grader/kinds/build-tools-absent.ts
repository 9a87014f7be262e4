import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import { buildToolFamilies, buildToolFamilyNames, type BuildToolFinding, type CheckKind, type EvidenceGroup, type ImageFacts } from '../types.js';

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
    const evidence = present.flatMap((family) => evidenceOf(facts, family, findings.filter((finding) => finding.family === family)));
    return { status: 'fail', expected, actual, message: lines.map(escapeLine).join('\n'), evidence };
  },
};

/** The tools a learner knows by name come first in a list. */
const wellKnownTools = ['go', 'gofmt', 'compile', 'link', 'gcc', 'cc1', 'make', 'git'];

/** Every file of a family, one group per (added, hidden) pair of layers, for a list the reader can open. */
function evidenceOf(facts: ImageFacts, family: BuildToolFinding['family'], findings: BuildToolFinding[]): EvidenceGroup[] {
  return [...groupByLayers(findings).values()].map((group) => {
    const first = group[0]!;
    return {
      heading: `${capitalise(buildToolFamilyNames[family])}: ${addedAndHidden(facts, group)}`,
      layer: first.addedInLayer,
      items: byRank(group).map(shownFinding),
    };
  });
}

function groupByLayers(findings: BuildToolFinding[]): Map<string, BuildToolFinding[]> {
  const groups = new Map<string, BuildToolFinding[]>();
  for (const finding of findings) {
    const key = `${finding.addedInLayer}/${finding.hiddenInLayer ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  return groups;
}

function byRank(group: BuildToolFinding[]): BuildToolFinding[] {
  const rank = (finding: BuildToolFinding) => {
    const index = wellKnownTools.indexOf(finding.tool);
    return index === -1 ? wellKnownTools.length : index;
  };
  return [...group].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** "added by layer 2 (`RUN …`)" or "added by layer 1 (…), deleted by layer 2 (…), yet still shipped in layer 1". */
function addedAndHidden(facts: ImageFacts, group: BuildToolFinding[]): string {
  const first = group[0]!;
  const added = `${group.length > 1 ? 'all added' : 'added'} by ${layerAt(facts, first.addedInLayer)}`;
  if (first.hiddenInLayer === undefined) return added;
  const how = { whiteout: 'deleted', 'opaque-directory': 'hidden (its directory was emptied)', replaced: 'replaced' }[first.hiddenBy ?? 'whiteout'];
  return `${added}, ${how} by ${layerAt(facts, first.hiddenInLayer)}, yet still shipped in layer ${first.addedInLayer + 1}`;
}

function describeFamily(facts: ImageFacts, family: BuildToolFinding['family'], findings: BuildToolFinding[]): string {
  // One sentence per (added, hidden) pair of layers: usually one, "all added by layer 2".
  const sentences = [...groupByLayers(findings).values()]
    // Hidden ones first: they are the surprise worth explaining.
    .sort((a, b) => Number(b[0]!.hiddenInLayer !== undefined) - Number(a[0]!.hiddenInLayer !== undefined))
    .map((group) => describeGroup(facts, group));
  return `${capitalise(buildToolFamilyNames[family])} ships (${plural(findings.length, 'file')}): ${sentences.join(' ')}`;
}

function describeGroup(facts: ImageFacts, group: BuildToolFinding[]): string {
  const shown = byRank(group).slice(0, pathsShownPerFamily).map(shownFinding);
  const more = group.length - shown.length;
  const paths = `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  return `${paths}; ${addedAndHidden(facts, group)}.`;
}

/** A finding's path and evidence come from the image: shown with their controls (newlines too) escaped. */
function shownFinding(finding: BuildToolFinding): string {
  return escapeLine(`${finding.path} (${finding.evidence})`);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
