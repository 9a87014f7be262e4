import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import { normaliseEntryName } from '../facts/layer-tar.js';
import type { CheckKind, EvidenceGroup, ImageFacts, LayerEntryFacts, ReferenceFileFacts } from '../types.js';
import { hidingLayer } from './path-never-in-layers.js';

const absolutePath = z.string().regex(/^\/[^*?]+$/, 'must be an absolute path without wildcards, such as /vault/code.txt');

const params = z
  .object({
    /** The other image, and the path that tells which of its layers must not ship here: every layer whose tar writes it. */
    from: z.object({ image: z.string().min(1), path: absolutePath }).strict(),
  })
  .strict();

type Version = Extract<ReferenceFileFacts, { isImagePresent: true }>['versions'][number];

interface Finding {
  /** The graded image's layer. */
  layer: number;
  /** The other image's layer it ships. */
  from: Version;
  /** The very same layer, its tar as a file named by its digest (as `docker save` names it), or its files unpacked. */
  how: 'same-layer' | 'as-file' | 'unpacked';
  /** Where that layer's files are unpacked ("" for the root). */
  under?: string;
  /** The paths found, root-relative. */
  paths: string[];
  hiddenInLayer?: number;
}

const listedPaths = 3;

/**
 * The layer of another image that writes a path does not ship in this image: not as one of
 * its layers (the same DiffID, as an image built FROM that image, or on one made from it,
 * has), not as its tar kept as a file (`COPY . /x/` of a folder holding `docker save`'s
 * blobs), and not unpacked into one of its layers (that layer's files, with their sizes and
 * their places relative to one another, under any folder: `ADD layer.tar /anywhere/`). The
 * path alone decides nothing: a copy of the one file at that very path is not the layer,
 * and the layer at another path still is.
 */
export const layerNotShipped: CheckKind<typeof params> = {
  summary: "Another image's layer that holds a path does not ship in the image, as a layer or unpacked",
  params,
  probes: ({ from }) => ({ referenceFiles: [from] }),
  evaluate(facts, { from }) {
    const expected = `no layer of ${from.image} that holds ${from.path}, as a layer or unpacked`;
    const skip = (actual: string, message: string) => ({ status: 'skip' as const, expected, actual, message: escapeLine(message) });
    const reference = facts.probes.referenceFiles?.find((candidate) => candidate.image === from.image && candidate.path === from.path);
    if (!reference) return skip('not read', `${from.image} was not read.`);
    if (!reference.isImagePresent) return skip(`no image ${from.image}`, `The engine has no image ${from.image} to compare with, so it cannot tell which layer must not ship. Build it again with the exercise's prepare.sh.`);
    const versions = reference.versions.filter((version) => version.type === 'file');
    if (!versions.length) return skip(`no ${from.path} in ${from.image}`, `No layer of ${from.image} holds ${from.path} as a file, so there is no layer to look for. Rebuild it from its unchanged Dockerfile.`);

    const findings = findLayers(facts, versions, normaliseEntryName(from.path).path);
    if (!findings.length) {
      const unreadable = facts.layers.filter((layer) => layer.unreadable);
      if (unreadable.length) {
        const which = unreadable.map((layer) => `${layerAt(facts, layer.index)}: ${layer.unreadable}`).join('; ');
        return skip('unknown', `Not every layer could be read: ${which}.`);
      }
      return { status: 'pass', expected, actual: `in none of ${plural(facts.layers.length, 'layer')}` };
    }
    return {
      status: 'fail',
      expected,
      actual: `in ${findings.map((finding) => `layer ${finding.layer + 1}`).join(', ')}`,
      message: findings.map((finding) => escapeLine(describe(facts, from, finding))).join('\n'),
      evidence: findings.map((finding) => evidenceOf(facts, finding)),
    };
  },
};

function findLayers(facts: ImageFacts, versions: readonly Version[], anchor: string): Finding[] {
  const findings: Finding[] = [];
  for (const layer of facts.layers) {
    const same = versions.find((version) => version.diffId !== '' && version.diffId === layer.diffId);
    if (same) {
      findings.push({ layer: layer.index, from: same, how: 'same-layer', paths: [anchor] });
      continue;
    }
    for (const version of versions) {
      const found = asFileIn(layer.entries, version.diffId) ?? unpackedIn(layer.entries, version.layerFiles, anchor);
      if (!found) continue;
      const finding: Finding = { layer: layer.index, from: version, ...found };
      const hiddenIn = hidingLayer(facts, layer.index, found.paths[0]!);
      if (hiddenIn !== undefined) finding.hiddenInLayer = hiddenIn;
      findings.push(finding);
      break;
    }
  }
  return findings;
}

/**
 * The other layer's tar kept as a file: `docker save` (Engine 25 and later) names a layer's
 * blob by its digest, which for an uncompressed layer is its DiffID, so a folder that holds
 * what it wrote (`blobs/sha256/<hex>`) carries the layer whole.
 */
function asFileIn(entries: readonly LayerEntryFacts[], diffId: string): { how: 'as-file'; paths: string[] } | undefined {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(diffId)?.[1];
  if (!hex) return undefined;
  const paths = entries.filter((entry) => entry.type === 'file' && entry.sizeBytes > 0 && /[^/]+$/.exec(entry.path)![0] === hex).map((entry) => entry.path);
  return paths.length ? { how: 'as-file', paths } : undefined;
}

/**
 * Where the other layer's files lie unpacked among `entries`, or undefined. The files are
 * taken below each folder that holds `anchor` in the other layer (its root, `vault/`), so
 * that folder may have any name here; below it every file must be there, of the same type
 * and size. The anchor alone is never enough: it is the one file the learner is meant to
 * ship, and a copy of it is not the layer.
 */
function unpackedIn(entries: readonly LayerEntryFacts[], layerFiles: readonly LayerEntryFacts[], anchor: string): { how: 'unpacked'; under: string; paths: string[] } | undefined {
  const here = new Map<string, LayerEntryFacts>();
  for (const entry of entries) if (entry.type !== 'directory') here.set(entry.path, entry);
  const parts = anchor.split('/');
  for (let depth = 0; depth < parts.length; depth++) {
    const folder = parts.slice(0, depth).map((part) => `${part}/`).join('');
    const below = layerFiles.filter((file) => file.path.startsWith(folder));
    if (below.length < 2) continue;
    const anchorBelow = anchor.slice(folder.length);
    for (const candidate of here.keys()) {
      if (candidate !== anchorBelow && !candidate.endsWith(`/${anchorBelow}`)) continue;
      const under = candidate.slice(0, candidate.length - anchorBelow.length);
      const paths = below.map((file) => `${under}${file.path.slice(folder.length)}`);
      const isWhole = below.every((file, index) => {
        const found = here.get(paths[index]!);
        return found !== undefined && found.type === file.type && found.sizeBytes === file.sizeBytes;
      });
      if (isWhole) return { how: 'unpacked', under, paths: [`${under}${anchorBelow}`, ...paths.filter((path) => path !== `${under}${anchorBelow}`)] };
    }
  }
  return undefined;
}

function describe(facts: ImageFacts, { image, path }: { image: string; path: string }, finding: Finding): string {
  const theirs = `layer ${finding.from.layer + 1} of ${image}`;
  const where = layerAt(facts, finding.layer);
  if (finding.how === 'same-layer') {
    return `${capitalise(where)} is ${theirs}, the one that holds ${path} (the same DiffID, ${finding.from.diffId.slice(0, 19)}…): an image built FROM ${image}, or on an image made from it, ships all of its layers. Copy only the file you need out of it into an image of its own.`;
  }
  const shown = finding.paths.slice(0, listedPaths).map((path) => `/${path}`);
  if (finding.paths.length > listedPaths) shown.push(`and ${finding.paths.length - listedPaths} more`);
  const hidden = finding.hiddenInLayer === undefined ? '' : `; ${layerAt(facts, finding.hiddenInLayer)} deletes them, so a container does not see them, but their bytes still ship in layer ${finding.layer + 1}`;
  const advice = 'Take the file you need out of the layer before you build, and copy only that file into your image.';
  if (finding.how === 'as-file') return `${capitalise(where)} holds ${theirs} as a file, its tar named by its digest as \`docker save\` names it: ${shown.join(', ')}${hidden}. ${advice}`;
  const place = finding.under === '' ? 'at the root' : `under /${finding.under!.replace(/\/$/, '')}`;
  return `${capitalise(where)} holds ${theirs} unpacked ${place}: ${shown.join(', ')}${hidden}. ${advice}`;
}

function evidenceOf(facts: ImageFacts, finding: Finding): EvidenceGroup {
  const what = { 'same-layer': 'the very same layer', 'as-file': "the layer's tar, as a file", unpacked: "the layer's files, unpacked" }[finding.how];
  const heading = `${capitalise(layerAt(facts, finding.layer))}: ${what}`;
  return { heading, layer: finding.layer, items: finding.paths.map((path) => `/${path}`) };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
