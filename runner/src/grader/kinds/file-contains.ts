import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatSize, layerAt } from '../describe.js';
import { maxKeptFileBytes, type CheckKind } from '../types.js';
import { undecidedForUnreadableLayers } from '../unreadable.js';
import { linkChain, readAsContainer, unreadableThroughLinks } from '../container-file.js';

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

/** A file in the image a container sees holds exactly the given text. */
export const fileContains: CheckKind<typeof params> = {
  summary: 'A file in the image holds the given text',
  params,
  probes: ({ path }) => ({ fileContents: [path] }),
  evaluate(facts, { path, text }) {
    const expected = shown(withoutTrailingSpace(text));
    const fail = (actual: string, message: string) => ({ status: 'fail' as const, expected, actual, message: escapeLine(message) });
    const read = readAsContainer(facts, path);
    if (read.state === 'absent') return undecidedForUnreadableLayers(facts, expected, `${path} is in none of the layers that were read`) ?? fail('no such file', `The image has no ${path}.`);
    if (read.state !== 'found') {
      const { actual, message } = unreadableThroughLinks(path, read);
      return (read.state === 'dangling' ? undecidedForUnreadableLayers(facts, expected, `${read.missing}, where ${path} leads, is in none of the layers that were read`) : undefined) ?? fail(escapeLine(actual), message);
    }
    const { file, links } = read;
    if (file.type === 'symlink') return fail(`a symlink to ${escapeLine(file.linkTarget ?? '?')}`, `${path} is a symlink to ${escapeLine(file.linkTarget ?? '?')}; the check reads a regular file at that path.`);
    const shownPath = links.length ? `${path} (through ${linkChain(links)})` : path;
    if (file.type !== 'file') return fail(`a ${file.type}`, `${shownPath} is a ${file.type}, not a regular file.`);
    if (!file.content && file.sizeBytes <= maxKeptFileBytes) return { status: 'skip', expected, actual: 'not read', message: escapeLine(`Could not decide: the bytes of ${shownPath} were not read.`) };
    if (!file.content) {
      return fail(formatSize(file.sizeBytes), `${shownPath} is ${formatSize(file.sizeBytes)}; the check reads files up to ${formatSize(maxKeptFileBytes)}, and the expected text is far shorter.`);
    }
    const found = withoutTrailingSpace(file.content.toString('utf8'));
    const through = links.length ? `, through ${escapeLine(linkChain(links))}` : '';
    if (found === withoutTrailingSpace(text)) return { status: 'pass', expected, actual: `${shown(found)}, from ${layerAt(facts, file.layer)}${through}` };
    return fail(shown(found), `${path} (from ${layerAt(facts, file.layer)}${through}) holds ${shown(found)}, not ${expected}.`);
  },
};
