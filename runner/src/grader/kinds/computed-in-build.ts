import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import type { CheckKind, CheckOutcome, ImageFacts, LayerFacts } from '../types.js';
import { maskPieces } from '../value-pieces.js';
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
 * The rebuild with the files that hold the value changed may run every step again (a bind
 * mount or COPY of a changed file misses the cache); lesson 4's takes seconds, this allows
 * for a busy machine.
 */
const contextRebuildMs = 300_000;

/**
 * A value the image holds was computed while the image was built, not written out by
 * whoever wrote the Dockerfile: no instruction (history row) and nothing in the config holds
 * it, or a long piece of it; the layer that last wrote `path` was made by a build step; and
 * the value does not come from the build context: built again with every file of the
 * exercise's folder that holds it changed, the image still holds it at `path`
 * (facts/context-change.ts). Pair it with a check that the value is in the image.
 */
export const computedInBuild: CheckKind<typeof params> = {
  summary: 'A value in the image was computed by the build, not written into an instruction or copied in',
  params,
  probes: ({ value, pieceCharacters, path }) => (path === undefined ? {} : { contextChange: { value, pieceCharacters, path, withinMs: contextRebuildMs } }),
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
    return judgeContextChange(facts, { expected, name });
  },
};

/**
 * Whether the value came from the build context, as the rebuild with the files that hold it
 * changed says (facts/context-change.ts). Without the folder (a CI check given no
 * --exercise-folder), only the instructions can be judged.
 */
function judgeContextChange(facts: ImageFacts, { expected, name }: { expected: string; name: string }): CheckOutcome {
  const probe = facts.probes.contextChange;
  const computed: CheckOutcome = { status: 'pass', expected, actual: 'written in no instruction' };
  if (!probe || probe.outcome === 'not-given' || probe.outcome === 'no-holder') return computed;
  if (probe.outcome === 'unreadable') {
    return { status: 'skip', expected, actual: 'unknown', message: escapeLine(`Whether ${name} came from the build context cannot be told: its folder could not be read (${probe.reason}).`) };
  }
  const holders = probe.holders.map((holder) => (holder.holds === 'text' ? holder.path : `${holder.path} (the data ${name} is of)`));
  const shown = holders.slice(0, listed).join(', ') + (holders.length > listed ? ` and ${holders.length - listed} more` : '');
  const changedBuild = `building the folder again with ${holders.length === 1 ? 'that file' : 'those files'} changed`;
  if (probe.outcome === 'timed-out') {
    return {
      status: 'skip',
      expected,
      actual: 'unknown',
      message: escapeLine(`${shown} in the build context ${holders.length === 1 ? 'holds' : 'hold'} ${name}, and whether the image takes it from there cannot be told: ${changedBuild} took longer than ${Math.round(probe.withinMs / 1000)} s. Check again when the machine is less busy.`),
    };
  }
  if (probe.outcome === 'build-failed') {
    return {
      status: 'skip',
      expected,
      actual: 'unknown',
      message: escapeLine(`${shown} in the build context ${holders.length === 1 ? 'holds' : 'hold'} ${name}, and whether the image takes it from there cannot be told: ${changedBuild} failed (${probe.error}).`),
    };
  }
  if (probe.file.state === 'read' && probe.file.holdsValue) return computed;
  const found = probe.file.state === 'absent' ? `has no ${probe.path}` : probe.file.state === 'not-a-file' ? `has ${probe.path} as ${probe.file.type}, not a file` : `no longer holds ${name} in ${probe.path}`;
  return {
    status: 'fail',
    expected,
    actual: `taken from ${holders.length === 1 ? probe.holders[0]!.path : `${holders.length} files`} of the build context`,
    message: escapeLine(
      `${capitalise(name)} is not computed by the build but taken from the build context: ${shown} ${holders.length === 1 ? 'holds' : 'hold'} it, and the image from ${changedBuild} ${found}. COPY, ADD and RUN --mount=type=bind all bring a file of the folder in; the image must hold what its build worked out, so that a change to the input would change it too.`,
    ),
  };
}

const buildStep = /^(RUN|COPY|ADD)\b/;

/** The topmost layer whose tar writes `path` (absolute), if any does. */
function lastWriterOf(facts: ImageFacts, path: string): LayerFacts | undefined {
  const inTar = path.replace(/^\/+/, '');
  return facts.layers.findLast((layer) => layer.entries.some((entry) => entry.path === inTar && entry.type !== 'directory'));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
