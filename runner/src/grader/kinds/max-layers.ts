import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import type { CheckKind } from '../types.js';

const params = z
  .object({
    /** The most layers the image may have (RootFS.Layers). */
    count: z.number().int().positive().max(127),
  })
  .strict();

/** The image has at most `count` filesystem layers. */
export const maxLayers: CheckKind<typeof params> = {
  summary: 'The image has at most a given number of layers',
  params,
  evaluate(facts, { count }) {
    const expected = `at most ${plural(count, 'layer')}`;
    const actual = plural(facts.layers.length, 'layer');
    if (facts.layers.length <= count) return { status: 'pass', expected, actual };
    const listed = facts.layers.map((layer) => layerAt(facts, layer.index)).join(', ');
    return {
      status: 'fail',
      expected,
      actual,
      message: escapeLine(`The image has ${actual}, ${facts.layers.length - count} more than allowed: ${listed}.`),
    };
  },
};
