import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { plural } from '../describe.js';
import type { CheckKind } from '../types.js';
import { placesOf } from './no-secret.js';

const params = z
  .object({
    /** The value the build computes, e.g. a checksum; long enough that no instruction holds it by chance. */
    value: z.string().min(16),
    /** What to call it in messages, e.g. "the checksum of numbers.txt". */
    name: z.string().min(1),
    /**
     * Any run of this many characters of `value` found in an instruction counts, so a value
     * split over two `printf` arguments is found too.
     */
    pieceCharacters: z.number().int().min(8).default(16),
  })
  .strict();

const listed = 4;

/**
 * A value the image holds was computed while the image was built, not written out by
 * whoever wrote the Dockerfile: no instruction (history row) and nothing in the config holds
 * it, or a long piece of it. Pair it with a check that the value is in the image.
 */
export const computedInBuild: CheckKind<typeof params> = {
  summary: 'A value in the image was computed by the build, not written into an instruction',
  params,
  evaluate(facts, { value, name, pieceCharacters }) {
    const expected = `${name} computed by a build step, written in no instruction`;
    const places = placesOf(facts, (text) => maskPieces(text, value, pieceCharacters));
    if (!places.length) return { status: 'pass', expected, actual: 'written in no instruction' };
    const shown = places.slice(0, listed);
    if (places.length > listed) shown.push(`and ${places.length - listed} more`);
    return {
      status: 'fail',
      expected,
      actual: `written in ${plural(places.length, 'place')}`,
      message: escapeLine(`${capitalise(name)} is written out in the image's instructions, not computed: ${shown.join('; ')}. The image must hold what its build worked out, so that a change to the input would change it too.`),
    };
  },
};

/** Replaces every run of at least `minimum` characters that is also a run of `value` with "***". */
function maskPieces(text: string, value: string, minimum: number): string {
  let result = '';
  let at = 0;
  while (at < text.length) {
    let length = 0;
    if (value.includes(text.slice(at, at + minimum)) && at + minimum <= text.length) {
      length = minimum;
      while (at + length < text.length && value.includes(text.slice(at, at + length + 1))) length++;
    }
    if (length) {
      result += '***';
      at += length;
    } else {
      result += text[at];
      at++;
    }
  }
  return result;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
