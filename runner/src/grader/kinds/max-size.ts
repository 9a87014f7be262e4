import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatSize, layerAt } from '../describe.js';
import type { CheckKind } from '../types.js';

const params = z
  .object({
    /** The largest allowed image, in bytes (decimal MB: 20 MB = 20_000_000). */
    bytes: z.number().int().positive(),
  })
  .strict();

/** The engine's size of the image (`docker image ls`) is at most `bytes`. */
export const maxSize: CheckKind<typeof params> = {
  summary: 'The image is at most a given size',
  params,
  evaluate(facts, { bytes }) {
    const expected = `at most ${formatSize(bytes)}`;
    const actual = formatSize(facts.sizeBytes);
    if (facts.sizeBytes <= bytes) return { status: 'pass', expected, actual };
    const largest = [...facts.layers].sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
    const largestText = largest ? `; the largest is ${layerAt(facts, largest.index)} with ${formatSize(largest.sizeBytes)}` : '';
    return {
      status: 'fail',
      expected,
      actual,
      message: escapeLine(`The image is ${actual}, ${formatSize(facts.sizeBytes - bytes)} over the limit of ${formatSize(bytes)}${largestText}.`),
    };
  },
};
