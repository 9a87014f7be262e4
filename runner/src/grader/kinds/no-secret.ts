import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { plural } from '../describe.js';
import { describeInstruction } from '../facts/history.js';
import type { CheckKind, ImageFacts } from '../types.js';

const params = z
  .object({
    /** The secret itself; short strings would match by accident. */
    value: z.string().min(8),
    /** What to call it in messages, e.g. "the GREET_TOKEN value". */
    name: z.string().min(1),
  })
  .strict();

const mask = '***';
const listed = 6;

/**
 * A secret appears nowhere in what anyone who pulls the image can read without running it:
 * the config (environment, labels, entrypoint, command, user, working directory) and every
 * history row, those that made no layer included. BuildKit writes the build arguments a
 * RUN sees at the start of its history row (`RUN |1 TOKEN=… /bin/sh -c …`), so an ARG leaks
 * there even when the command never uses it (verified on Engine 26.1.5).
 */
export const noSecret: CheckKind<typeof params> = {
  summary: 'A secret is in neither the image config nor its history',
  params,
  evaluate(facts, { value, name }) {
    const expected = `${name} in neither the config nor the history`;
    const places = placesOf(facts, (text) => text.replaceAll(value, mask));
    if (!places.length) return { status: 'pass', expected, actual: 'not found' };
    const shown = places.slice(0, listed);
    if (places.length > listed) shown.push(`and ${places.length - listed} more`);
    return {
      status: 'fail',
      expected,
      actual: `found in ${plural(places.length, 'place')}`,
      message: escapeLine(`${capitalise(name)} (shown here as ${mask}) is in the image: ${shown.join('; ')}. Anyone who has the image reads it with docker image inspect or docker history, no container needed.`),
    };
  },
};

/**
 * Where anyone with the image can read something without running it: the config and every
 * history row. `masked` hides the thing in a text; a text it changes holds the thing, and is
 * listed as masked.
 */
export function placesOf(facts: ImageFacts, masked: (text: string) => string): string[] {
  const config = facts.config;
  const places: string[] = [];
  const holds = (text: string) => masked(text) !== text;
  for (const variable of config.env) if (holds(variable)) places.push(`the environment (ENV ${masked(variable)})`);
  for (const [key, labelValue] of Object.entries(config.labels)) {
    if (holds(key) || holds(labelValue)) places.push(`the label ${masked(key)}=${masked(labelValue)}`);
  }
  if (config.entrypoint?.some(holds)) places.push('the ENTRYPOINT');
  if (config.cmd?.some(holds)) places.push('the CMD');
  if (holds(config.user)) places.push('the USER');
  if (holds(config.workingDir)) places.push('the WORKDIR');
  for (const row of facts.history) {
    if (holds(row.createdBy) || (row.comment !== undefined && holds(row.comment))) {
      places.push(`the history row \`${describeHistoryRow(masked(row.createdBy))}\``);
    }
  }
  return places;
}

/** The instruction as `docker history --no-trunc` shows it, build arguments kept: they are the point here. */
function describeHistoryRow(createdBy: string): string {
  const args = /^(?:RUN )?(\|\d+ (?:\S+=\S* )*)/.exec(createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, ''))?.[1];
  const instruction = describeInstruction(createdBy);
  return args && instruction.startsWith('RUN ') ? `RUN ${args}${instruction.slice(4)}` : instruction;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
