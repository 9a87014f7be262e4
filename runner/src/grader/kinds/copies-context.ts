import { posix } from 'node:path';
import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { instructionOf } from '../facts/history.js';
import type { CheckKind } from '../types.js';

const params = z
  .object({
    /** The folder in the image the whole build context must be copied into, e.g. /app. */
    destination: z.string().regex(/^\/[^*?]*$/, 'must be an absolute path without wildcards, such as /app'),
  })
  .strict();

const listed = 4;

/**
 * The image was built by a COPY (or ADD) of the whole build context, `.`, into `destination`:
 * then what the image holds there is exactly what the ignore file let through, so the checks
 * on those files judge the ignore file. Without this, a Dockerfile rewritten to copy only the
 * right files passes them with no ignore file at all. Judged on the image's history, where
 * both builders write the instruction (facts.md §2):
 *   BuildKit `COPY . /app # buildkit` (options and the JSON form kept as written)
 *   legacy   `/bin/sh -c #(nop) COPY dir:ab12… in /app ` (a folder of the context, by its
 *            hash: `.` cannot be told from another folder there)
 * A relative destination is taken from the WORKDIR rows above it.
 */
export const copiesContext: CheckKind<typeof params> = {
  summary: 'The build copies the whole build context into a folder',
  params,
  evaluate(facts, { destination }) {
    const wanted = posix.resolve('/', destination);
    const expected = `COPY . ${wanted}`;
    const copies: string[] = [];
    let workdir = '/';
    for (const row of facts.history) {
      const instruction = instructionOf(row.createdBy);
      const workdirSet = /^WORKDIR (.+)/.exec(instruction);
      if (workdirSet) {
        workdir = posix.resolve(workdir, unquoted(workdirSet[1]!));
        continue;
      }
      const copy = copyOf(instruction);
      if (!copy) continue;
      copies.push(instruction);
      if (posix.resolve(workdir, copy.destination) === wanted && copy.sources.some(isWholeContext)) return { status: 'pass', expected, actual: instruction };
    }
    const shown = copies.slice(-listed).map((copy) => `\`${copy}\``);
    const earlier = copies.length > listed ? ` (and ${copies.length - listed} before them)` : '';
    return {
      status: 'fail',
      expected,
      actual: copies.length ? `${copies.length === 1 ? 'one COPY' : `${copies.length} COPY and ADD rows`}, none of . into ${wanted}` : 'no COPY or ADD',
      message: escapeLine(
        copies.length
          ? `No instruction copies the whole build context (.) into ${wanted}; the image's history has ${shown.join(', ')}${earlier}.`
          : `No instruction of the image's history copies anything, so nothing shows that the build context was copied into ${wanted}.`,
      ),
    };
  },
};

/**
 * `COPY [--option…] source… destination` or its JSON form. The legacy builder's
 * `COPY dir:ab12… in /app` reads the same way: `dir:ab12…` and `in` as sources.
 */
function copyOf(instruction: string): { sources: string[]; destination: string } | undefined {
  const words = /^(?:COPY|ADD) (.*)/s.exec(instruction)?.[1]!.split(' ');
  if (!words) return undefined;
  const options: string[] = [];
  while (words[0]?.startsWith('--')) options.push(words.shift()!);
  // COPY --from copies out of another stage or image, not out of the build context.
  if (options.some((option) => option.startsWith('--from'))) return undefined;
  let paths = words;
  const rest = words.join(' ');
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((word) => typeof word === 'string')) paths = parsed as string[];
    } catch {
      // Not JSON after all: Docker reads such a line as the plain form, and so does this.
    }
  }
  if (paths.length < 2) return undefined;
  return { sources: paths.slice(0, -1).map(unquoted), destination: unquoted(paths.at(-1)!) };
}

/** The whole context: `.`, `./`, or the legacy builder's record of a folder of it. */
function isWholeContext(source: string): boolean {
  return source === '.' || source === './' || source.startsWith('dir:');
}

/** A word in quotes, as BuildKit keeps them in the history: `"."` is `.`. */
function unquoted(word: string): string {
  return /^(["']).*\1$/.test(word) ? word.slice(1, -1) : word;
}
