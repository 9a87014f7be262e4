import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import type { CheckKind } from '../types.js';

const params = z
  .object({
    key: z.string().min(1),
    /** The exact value the label must have. */
    value: z.string(),
  })
  .strict();

/** Labels the course's own base images carry; the learner did not write them. */
const courseLabelPrefix = 'layerlab.';

/** The image has the label `key`, with the value `value`. */
export const labelEquals: CheckKind<typeof params> = {
  summary: 'The image has a label with a given value',
  params,
  evaluate(facts, { key, value }) {
    const expected = `${key}=${JSON.stringify(value)}`;
    const found = facts.config.labels[key];
    if (found === value) return { status: 'pass', expected, actual: expected };
    if (found !== undefined) {
      return { status: 'fail', expected, actual: `${key}=${JSON.stringify(found)}`, message: escapeLine(`The label ${key} is ${JSON.stringify(found)}, not ${JSON.stringify(value)}.`) };
    }
    const others = Object.keys(facts.config.labels).filter((name) => !name.startsWith(courseLabelPrefix));
    const maintainer = facts.history.find((row) => /^(\/bin\/sh -c #\(nop\)\s*)?MAINTAINER\s/.test(row.createdBy));
    const sentences = [`The image has no label ${key}${others.length ? `; its labels are ${others.join(', ')}` : ''}.`];
    if (maintainer) sentences.push('A MAINTAINER instruction sets the deprecated Author field of the image, not a label.');
    return { status: 'fail', expected, actual: 'no such label', message: escapeLine(sentences.join(' ')) };
  },
};
