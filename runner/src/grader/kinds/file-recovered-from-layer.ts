import { createHash } from 'node:crypto';
import { escapeLine } from '../report/untrusted.js';
import { z } from 'zod';
import { formatSize, layerAt, plural } from '../describe.js';
import { normaliseInstruction } from '../facts/history.js';
import { fileForCheck } from '../container-file.js';
import { maxKeptFileBytes, type CheckKind, type ImageFacts, type ReferenceFileFacts } from '../types.js';
import { presentBase } from './shares-base-layers.js';

const absolutePath = z.string().regex(/^\/[^*?]+$/, 'must be an absolute path without wildcards, such as /vault/code.txt');

const params = z
  .object({
    /** Where the graded image must hold the recovered file. */
    path: absolutePath,
    /** The image and path it was recovered from: a file only a lower layer of that image still holds. */
    from: z
      .object({
        image: z.string().min(1),
        path: absolutePath,
        /**
         * The instructions that made that image's top layers, bottom to top, as the course's own
         * Dockerfile writes them. The image lives on the learner's engine, where anyone can build
         * something else under its name (a vault whose code they chose, or that also leaves a
         * copy in sight); only the course's Dockerfile makes the exercise mean anything.
         */
        madeBy: z.array(z.string().min(1)).min(1),
        /**
         * The image the course's Dockerfile builds it FROM. Its bottom layers must be exactly
         * this image's, with one layer per `madeBy` instruction on top: a layer slipped in
         * below those instructions (a `head` of one's own first on PATH) could make the
         * "random" file whatever its builder wants, with the same instructions on top.
         */
        base: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict();

const withoutTrailingSpace = (bytes: Buffer) => bytes.toString('latin1').replace(/\s+$/, '');
/** Contents are compared, never shown: showing the expected one would give the answer away. */
const fingerprint = (text: string) => `sha256 ${createHash('sha256').update(text, 'latin1').digest('hex').slice(0, 12)}…, ${formatSize(text.length)}`;

/**
 * The image holds, at `path`, the bytes of a file that another image keeps only in a lower
 * layer: a later layer of that image deletes it, so no container of it can show the file,
 * and it can only have come out of that image's layers. Trailing newlines and spaces do not
 * matter (a copy made by hand may end with a newline).
 */
export const fileRecoveredFromLayer: CheckKind<typeof params> = {
  summary: 'A file holds the bytes another image keeps only in a lower layer',
  params,
  probes: ({ path, from }) => ({ fileContents: [path], referenceFiles: [from], ...(from.base ? { referenceImages: [from.base, from.image] } : {}) }),
  evaluate(facts, { path, from }) {
    const expected = `${path} with the content of ${from.path} from a lower layer of ${from.image}`;
    const fail = (actual: string, message: string) => ({ status: 'fail' as const, expected, actual, message: escapeLine(message) });
    const reference = facts.probes.referenceFiles?.find((candidate) => candidate.image === from.image && candidate.path === from.path);
    if (!reference) return { status: 'skip', expected, actual: 'not read', message: escapeLine(`${from.image} was not read.`) };
    const changed = changedInstruction(reference, from.madeBy);
    if (changed) return fail(`${from.image} is not the course's`, changed);
    const layering = otherLayering(facts, from);
    if (layering && 'skip' in layering) return { status: 'skip', expected, actual: 'not compared', message: escapeLine(layering.skip) };
    if (layering) return fail(`${from.image} is not the course's`, layering.problem);
    const original = hiddenOriginal(reference);
    if ('problem' in original) return fail(original.actual, original.problem);

    const read = fileForCheck(facts, path, expected);
    if ('outcome' in read) return read.outcome;
    const { file, shownPath, through } = read;
    if (!file.content) return fail(formatSize(file.sizeBytes), `${shownPath} is ${formatSize(file.sizeBytes)}, far more than the file it should be a copy of (${formatSize(original.text.length)}).`);
    const found = withoutTrailingSpace(file.content);
    if (found === original.text) {
      return { status: 'pass', expected, actual: `the same bytes as ${from.path} in layer ${original.layer + 1} of ${from.image} (${fingerprint(found)})${through}` };
    }
    return fail(
      fingerprint(found),
      `${path}, from ${layerAt(facts, file.layer)}${through}, is not a copy of ${from.path} in layer ${original.layer + 1} of ${from.image}: ${fingerprint(found)}, where the original is ${fingerprint(original.text)}.`,
    );
  },
};

/**
 * Why the reference image is not the one the course's Dockerfile builds, or undefined when
 * its top layers were made by exactly the expected instructions.
 */
function changedInstruction(reference: ReferenceFileFacts, madeBy: readonly string[]): string | undefined {
  if (!reference.isImagePresent) return undefined;
  const rebuild = rebuildAdvice(reference.image);
  const top = reference.layerInstructions.slice(-madeBy.length);
  if (reference.layerInstructions.length < madeBy.length) {
    return `${reference.image} has ${reference.layerInstructions.length} layers, fewer than the course's Dockerfile makes. ${rebuild}`;
  }
  for (let index = 0; index < madeBy.length; index++) {
    const wanted = normaliseInstruction(madeBy[index]!);
    const found = top[index];
    if (found !== undefined && normaliseInstruction(found) === wanted) continue;
    const layer = reference.layerInstructions.length - madeBy.length + index + 1;
    const shown = found === undefined ? 'an instruction its history does not name' : `\`${found.length > 120 ? `${found.slice(0, 117)}...` : found}\``;
    return `${reference.image} is not the image the course's Dockerfile builds: its layer ${layer} was made by ${shown}, where the course's Dockerfile has \`${wanted.length > 120 ? `${wanted.slice(0, 117)}...` : wanted}\`. ${rebuild}`;
  }
  return undefined;
}

const rebuildAdvice = (image: string) =>
  `Rebuild it from the course's unchanged Dockerfile (\`docker rmi ${image}\`, then the exercise's prepare.sh), recover the file again, and rebuild your image.`;

/**
 * Why the reference image is not `from.base`'s layers with exactly one layer per `madeBy`
 * instruction on top, or undefined when it is (or no base was given, or the image is absent,
 * which the caller reports). Skipped when the engine has no base image to compare with.
 */
function otherLayering(facts: ImageFacts, from: { image: string; base?: string | undefined; madeBy: readonly string[] }): { problem: string } | { skip: string } | undefined {
  if (!from.base) return undefined;
  const image = facts.probes.referenceImages?.[from.image];
  if (!image?.isPresent) return undefined;
  const base = presentBase(facts, from.base);
  if (!base) return { skip: `Not checked: the engine has no image ${from.base}, which ${from.image} must be built on.` };
  const wanted = base.diffIds.length + from.madeBy.length;
  const isOnBase = base.diffIds.every((diffId, index) => image.diffIds[index] === diffId);
  if (isOnBase && image.diffIds.length === wanted) return undefined;
  const what = isOnBase
    ? `it has ${plural(image.diffIds.length, 'layer')}, where ${from.base}'s ${plural(base.diffIds.length, 'layer')} and one per instruction of the course's Dockerfile make ${wanted}`
    : `its bottom layers are not ${from.base}'s`;
  return { problem: `${from.image} is not the image the course's Dockerfile builds: ${what}. ${rebuildAdvice(from.image)}` };
}

function hiddenOriginal(reference: ReferenceFileFacts): { text: string; layer: number } | { problem: string; actual: string } {
  const { image, path } = reference;
  if (!reference.isImagePresent) return { actual: `no image ${image}`, problem: `The engine has no image ${image} to compare with.` };
  if (reference.isVisible) {
    return {
      actual: `${path} is visible in ${image}`,
      problem: `A container of ${image} can see ${path}, so this is not the image the exercise made: it must keep the file only in a lower layer. Rebuild it from its unchanged Dockerfile.`,
    };
  }
  const last = reference.versions.at(-1);
  if (!last) return { actual: `no ${path} in ${image}`, problem: `No layer of ${image} holds ${path}. Rebuild it from its unchanged Dockerfile.` };
  if (last.type !== 'file' || !last.content) {
    return { actual: `${path} in ${image} is not a small file`, problem: `${path} in layer ${last.layer + 1} of ${image} is not a regular file of at most ${formatSize(maxKeptFileBytes)}.` };
  }
  return { text: withoutTrailingSpace(last.content), layer: last.layer };
}
