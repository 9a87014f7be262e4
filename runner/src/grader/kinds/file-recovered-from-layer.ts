import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatSize, layerAt } from '../describe.js';
import { maxKeptFileBytes, type CheckKind, type ReferenceFileFacts } from '../types.js';

const absolutePath = z.string().regex(/^\/[^*?]+$/, 'must be an absolute path without wildcards, such as /vault/code.txt');

const params = z
  .object({
    /** Where the graded image must hold the recovered file. */
    path: absolutePath,
    /** The image and path it was recovered from: a file only a lower layer of that image still holds. */
    from: z.object({ image: z.string().min(1), path: absolutePath }).strict(),
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
  probes: ({ path, from }) => ({ fileContents: [path], referenceFiles: [from] }),
  evaluate(facts, { path, from }) {
    const expected = `${path} with the content of ${from.path} from a lower layer of ${from.image}`;
    const fail = (actual: string, message: string) => ({ status: 'fail' as const, expected, actual, message });
    const reference = facts.probes.referenceFiles?.find((candidate) => candidate.image === from.image && candidate.path === from.path);
    if (!reference) return { status: 'skip', expected, actual: 'not read', message: `${from.image} was not read.` };
    const original = hiddenOriginal(reference);
    if ('problem' in original) return fail(original.actual, original.problem);

    const file = facts.files.get(path.split('/').filter(Boolean).join('/'));
    if (!file) return fail('no such file', `The image has no ${path}.`);
    if (file.type !== 'file') return fail(`a ${file.type}`, `${path} is a ${file.type}, not a regular file.`);
    if (!file.content) return fail(formatSize(file.sizeBytes), `${path} is ${formatSize(file.sizeBytes)}, far more than the file it should be a copy of (${formatSize(original.text.length)}).`);
    const found = withoutTrailingSpace(file.content);
    if (found === original.text) {
      return { status: 'pass', expected, actual: `the same bytes as ${from.path} in layer ${original.layer + 1} of ${from.image} (${fingerprint(found)})` };
    }
    return fail(
      fingerprint(found),
      `${path}, from ${layerAt(facts, file.layer)}, is not a copy of ${from.path} in layer ${original.layer + 1} of ${from.image}: ${fingerprint(found)}, where the original is ${fingerprint(original.text)}.`,
    );
  },
};

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
