import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatSize, layerAt } from '../describe.js';
import { maxKeptFileBytes, type CheckKind } from '../types.js';
import { fileForCheck } from '../container-file.js';

const params = z
  .object({
    /** Absolute path of a regular file. */
    path: z.string().regex(/^\/[^*?]+$/, 'must be an absolute path without wildcards, such as /etc/motd'),
    /** The whole content the file must have; trailing newlines and spaces do not matter. */
    text: z.string().min(1).max(maxKeptFileBytes),
  })
  .strict();

const shownCharacters = 120;
const shown = (text: string) => JSON.stringify(text.length > shownCharacters ? `${text.slice(0, shownCharacters)}…` : text);
const withoutTrailingSpace = (text: string) => text.replace(/\s+$/, '');
/**
 * The byte-order mark some Windows editors (Notepad before 2019) put at the start of a UTF-8
 * file: `cat` prints it as nothing, so a file that starts with one holds the same text.
 */
const withoutByteOrderMark = (text: string) => text.replace(/^\uFEFF/, '');

/** A file in the image a container sees holds exactly the given text. */
export const fileContains: CheckKind<typeof params> = {
  summary: 'A file in the image holds the given text',
  params,
  probes: ({ path }) => ({ fileContents: [path] }),
  evaluate(facts, { path, text }) {
    const expected = shown(withoutTrailingSpace(text));
    const fail = (actual: string, message: string) => ({ status: 'fail' as const, expected, actual, message: escapeLine(message) });
    const read = fileForCheck(facts, path, expected);
    if ('outcome' in read) return read.outcome;
    const { file, shownPath, through } = read;
    if (!file.content) {
      return fail(formatSize(file.sizeBytes), `${shownPath} is ${formatSize(file.sizeBytes)}; the check reads files up to ${formatSize(maxKeptFileBytes)}, and the expected text is far shorter.`);
    }
    const found = withoutTrailingSpace(withoutByteOrderMark(file.content.toString('utf8')));
    if (found === withoutTrailingSpace(text)) return { status: 'pass', expected, actual: `${shown(found)}, from ${layerAt(facts, file.layer)}${through}` };
    return fail(shown(found), `${path} (from ${layerAt(facts, file.layer)}${through}) holds ${shown(found)}, not ${expected}.`);
  },
};
