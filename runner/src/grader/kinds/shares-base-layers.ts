import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { plural } from '../describe.js';
import type { CheckKind, ImageFacts, ReferenceImageFacts } from '../types.js';

const params = z
  .object({
    /** The image the exercise must build on, as the engine names it, e.g. "debian:trixie-slim". */
    base: z.string().min(1),
  })
  .strict();

export const shortDigest = (diffId: string) => diffId.replace(/^sha256:/, '').slice(0, 12);

/** The reference image the base check asked for, when the engine has it. */
export function presentBase(facts: ImageFacts, base: string): Extract<ReferenceImageFacts, { isPresent: true }> | undefined {
  const found = facts.probes.referenceImages?.[base];
  return found?.isPresent ? found : undefined;
}

/**
 * The image's bottom layers are the base image's layers, the same DiffIDs in the same order:
 * it was built FROM that base (or from an image built on it), so it shares them on disk.
 */
export const sharesBaseLayers: CheckKind<typeof params> = {
  summary: "The image's bottom layers are a given base image's layers",
  params,
  probes: ({ base }) => ({ referenceImages: [base] }),
  evaluate(facts, { base }) {
    const reference = presentBase(facts, base);
    if (!reference) {
      return {
        status: 'skip',
        expected: `${base}'s layers at the bottom`,
        actual: `no image ${base} to compare with`,
        message: escapeLine(`Not checked: the engine has no image ${base}. \`course up\` loads the course's base images into the sandbox.`),
      };
    }
    const baseLayers = reference.diffIds;
    const expected = `${base}'s ${plural(baseLayers.length, 'layer')} at the bottom (${baseLayers.map(shortDigest).join(', ')})`;
    const mismatch = baseLayers.findIndex((diffId, index) => facts.layers[index]?.diffId !== diffId);
    if (mismatch === -1) {
      const own = facts.layers.length - baseLayers.length;
      return { status: 'pass', expected, actual: `${base}'s ${plural(baseLayers.length, 'layer')}, then ${plural(own, 'layer')} of its own` };
    }
    const layer = facts.layers[mismatch];
    if (!layer) {
      return {
        status: 'fail',
        expected,
        actual: plural(facts.layers.length, 'layer'),
        message: escapeLine(`The image has ${plural(facts.layers.length, 'layer')}, fewer than the ${baseLayers.length} of ${base}, so it cannot be built on it.`),
      };
    }
    return {
      status: 'fail',
      expected,
      actual: `layer ${mismatch + 1} is ${shortDigest(layer.diffId)}`,
      message: escapeLine(`Layer ${mismatch + 1} of the image is ${shortDigest(layer.diffId)}, but layer ${mismatch + 1} of ${base} is ${shortDigest(baseLayers[mismatch]!)}: the image was not built on ${base}.`),
    };
  },
};
