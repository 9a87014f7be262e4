import { followLinks, type LinkHop } from './facts/merged-view.js';
import { escapeLine } from './report/untrusted.js';
import { maxKeptFileBytes, type CheckOutcome, type FileFacts, type ImageFacts } from './types.js';
import { undecidedForUnreadableLayers } from './unreadable.js';

/**
 * A path of the image as a process in a container reads it: symlinks on the way (the path
 * itself, or a folder above it) followed as the kernel follows them, absolute or relative,
 * in the layer that made them or another. Checks that read a file judge what this finds, so
 * a right answer that ships the file as a link to a copy is judged by the copy's bytes.
 */
export type ContainerFile =
  /** Nothing at the path, and no link on the way. */
  | { state: 'absent' }
  /** A link on the way leads to a path the image does not have. */
  | { state: 'dangling'; links: LinkHop[]; missing: string }
  /** More than 40 links (ELOOP): a container's read fails. */
  | { state: 'loop'; links: LinkHop[] }
  /** What is there: a file, a folder, ...; `links` are those followed to reach it. */
  | { state: 'found'; file: FileFacts; links: LinkHop[] };

export function readAsContainer(facts: ImageFacts, path: string): ContainerFile {
  const lookup = followLinks(facts.files, path);
  if (lookup.state === 'loop') return lookup;
  // The root has no entry of its own; a link to "/" leads to a folder all the same.
  const root: FileFacts = { path: '', type: 'directory', sizeBytes: 0, mode: 0o755, layer: 0 };
  const file = lookup.state === 'found' ? (lookup.path ? facts.files.get(lookup.path) : root) : undefined;
  if (file) return { state: 'found', file, links: lookup.links };
  if (!lookup.links.length) return { state: 'absent' };
  return { state: 'dangling', links: lookup.links, missing: `/${lookup.state === 'missing' ? lookup.path : ''}` };
}

/** The links a read followed, as `/etc/motd -> /data/motd`, the first few of a long chain. */
export function linkChain(links: readonly LinkHop[]): string {
  const shown = links.slice(0, 4).map((hop) => `${hop.path} -> ${hop.target}`);
  return links.length > shown.length ? `${shown.join(', ')}, … (${links.length} links)` : shown.join(', ');
}

/** Folders a container gets from the kernel when it starts: nothing an image ships there is read. */
const runtimeFolders = ['proc', 'sys', 'dev'];

/** Why a read that met a dangling link or a loop finds nothing, for a check's message. */
export function unreadableThroughLinks(path: string, read: Extract<ContainerFile, { state: 'dangling' | 'loop' }>): { actual: string; message: string } {
  const first = read.links[0]!;
  const isThePath = first.path === `/${path.split('/').filter(Boolean).join('/')}`;
  const actual = isThePath ? `a symlink to ${first.target}` : `under the symlink ${first.path} -> ${first.target}`;
  if (read.state === 'loop') {
    return { actual: `${actual}, in a loop`, message: `${path} leads into a loop of symlinks (${linkChain(read.links)}): a container reading it gets "Too many levels of symbolic links".` };
  }
  const isRuntime = runtimeFolders.some((folder) => read.missing === `/${folder}` || read.missing.startsWith(`/${folder}/`));
  const why = isRuntime
    ? `it leads out of the image, to ${read.missing}, which the kernel makes when a container starts; the check reads the file the image ships`
    : `the image has no ${read.missing}, so a container reading ${path} finds nothing there`;
  return { actual, message: `${path} follows ${linkChain(read.links)}, and ${why}.` };
}

/**
 * A regular file a check judges the bytes of, as a container reads it: the file, how to name
 * it in a message (with the links followed) and, for a pass, the links as a suffix. Anything
 * else is the outcome to report, never a pass: nothing there, a link that dangles or loops, a
 * folder, or a small file whose bytes were not read. A file bigger than the grader reads comes
 * back without `content`, for the check to say so in its own words.
 */
export function fileForCheck(facts: ImageFacts, path: string, expected: string): { outcome: CheckOutcome } | { file: FileFacts; shownPath: string; through: string } {
  const fail = (actual: string, message: string): { outcome: CheckOutcome } => ({ outcome: { status: 'fail', expected, actual, message: escapeLine(message) } });
  const read = readAsContainer(facts, path);
  if (read.state === 'absent') {
    const undecided = undecidedForUnreadableLayers(facts, expected, `${path} is in none of the layers that were read`);
    return undecided ? { outcome: undecided } : fail('no such file', `The image has no ${path}.`);
  }
  if (read.state !== 'found') {
    const undecided = read.state === 'dangling' ? undecidedForUnreadableLayers(facts, expected, `${read.missing}, where ${path} leads, is in none of the layers that were read`) : undefined;
    const { actual, message } = unreadableThroughLinks(path, read);
    return undecided ? { outcome: undecided } : fail(escapeLine(actual), message);
  }
  const { file, links } = read;
  // A symlink found at the end of a lookup has no target to follow.
  if (file.type === 'symlink') return fail(`a symlink to ${escapeLine(file.linkTarget ?? '?')}`, `${path} is a symlink to ${file.linkTarget ?? '?'}; the check reads a regular file at that path.`);
  const shownPath = links.length ? `${path} (through ${linkChain(links)})` : path;
  if (file.type !== 'file') return fail(`a ${file.type}`, `${shownPath} is a ${file.type}, not a regular file.`);
  if (!file.content && file.sizeBytes <= maxKeptFileBytes) {
    return { outcome: { status: 'skip', expected, actual: 'not read', message: escapeLine(`Could not decide: the bytes of ${shownPath} were not read.`) } };
  }
  return { file, shownPath, through: links.length ? `, through ${escapeLine(linkChain(links))}` : '' };
}
