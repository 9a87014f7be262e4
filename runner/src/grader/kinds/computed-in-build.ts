import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import type { CheckKind, ImageFacts, LayerFacts } from '../types.js';
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
    /**
     * The file that holds the value. The layer that last wrote it must have been made by a
     * build step (RUN, COPY, ADD): `docker import` and `docker commit` make layers no build
     * step made, and then nothing shows that a build computed the value.
     */
    path: z.string().startsWith('/').optional(),
  })
  .strict();

const listed = 4;

/**
 * A value the image holds was computed while the image was built, not written out by
 * whoever wrote the Dockerfile: no instruction (history row) and nothing in the config holds
 * it, or a long piece of it; and it was not copied in from the build context (a file of the
 * exercise's folder that holds it, and a COPY or ADD layer of the image that brings in a
 * file of that size). Pair it with a check that the value is in the image.
 */
export const computedInBuild: CheckKind<typeof params> = {
  summary: 'A value in the image was computed by the build, not written into an instruction or copied in',
  params,
  probes: () => ({ buildContext: true }),
  evaluate(facts, { value, name, pieceCharacters, path }) {
    const expected = `${name} computed by a build step, written in no instruction`;
    const places = placesOf(facts, (text) => maskPieces(text, value, pieceCharacters));
    if (places.length) {
      const shown = places.slice(0, listed);
      if (places.length > listed) shown.push(`and ${places.length - listed} more`);
      return {
        status: 'fail',
        expected,
        actual: `written in ${plural(places.length, 'place')}`,
        message: escapeLine(`${capitalise(name)} is written out in the image's instructions, not computed: ${shown.join('; ')}. The image must hold what its build worked out, so that a change to the input would change it too.`),
      };
    }
    const writer = path === undefined ? undefined : lastWriterOf(facts, path);
    if (writer && !buildStep.test(writer.instruction ?? '')) {
      return {
        status: 'fail',
        expected,
        actual: `${path} written by no build step`,
        message: escapeLine(
          `${path} was last written by ${layerAt(facts, writer.index)}, which no build step made: \`docker import\` and \`docker commit\` make such layers, and then nothing shows that a build computed ${name}. Build the image from its Dockerfile with \`docker build\`.`,
        ),
      };
    }
    // Layers a COPY or ADD made (the learner's own, and any below): what they bring in came from somewhere else.
    const copyLayers = facts.layers.filter((layer) => /^(COPY|ADD)\b/.test(layer.instruction ?? ''));
    const context = facts.probes.buildContext;
    // Without the folder (a CI check given no --exercise-folder), only the instructions can be judged.
    if (!copyLayers.length || !context || context.outcome === 'not-given') return { status: 'pass', expected, actual: 'written in no instruction' };
    if (context.outcome === 'unreadable') {
      const why = `its folder could not be read (${context.reason})`;
      return {
        status: 'skip',
        expected,
        actual: 'unknown',
        message: escapeLine(`The image copies files in (${layerAt(facts, copyLayers[0]!.index)}), and whether one of them brought ${name} from the build context cannot be told: ${why}.`),
      };
    }
    const holders = context.files.filter((file) => maskPieces(file.content.toString('latin1'), value, pieceCharacters) !== file.content.toString('latin1'));
    for (const holder of holders) {
      const layer = copyLayers.find((candidate) => candidate.entries.some((entry) => entry.type === 'file' && entry.sizeBytes === holder.sizeBytes));
      if (!layer) continue;
      return {
        status: 'fail',
        expected,
        actual: `copied from ${escapeLine(holder.path)}`,
        message: escapeLine(
          `${capitalise(name)} is not computed by the build but copied in: ${holder.path} in the build context holds it, and ${layerAt(facts, layer.index)} brings a file of its size into the image. The image must hold what its build worked out, so that a change to the input would change it too.`,
        ),
      };
    }
    return { status: 'pass', expected, actual: 'written in no instruction' };
  },
};

const buildStep = /^(RUN|COPY|ADD)\b/;

/** The topmost layer whose tar writes `path` (absolute), if any does. */
function lastWriterOf(facts: ImageFacts, path: string): LayerFacts | undefined {
  const inTar = path.replace(/^\/+/, '');
  return facts.layers.findLast((layer) => layer.entries.some((entry) => entry.path === inTar && entry.type !== 'directory'));
}

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
