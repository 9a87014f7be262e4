import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatSize } from '../describe.js';
import { resolvePath } from '../facts/merged-view.js';
import { maxKeptFileBytes, type CheckKind, type CheckOutcome, type ImageFacts } from '../types.js';
import { undecidedForUnreadableLayers } from '../unreadable.js';

const params = z.object({}).strict();

const passwdPath = '/etc/passwd';

/**
 * The process a container starts runs as a user other than root: its uid is not 0. The
 * image's USER is resolved as runc resolves it when the container starts
 * (libcontainer/user.GetExecUser): "user[:group]"; a user that Go's strconv.Atoi reads as a
 * number ("0000", "+0") is a uid, whatever /etc/passwd says; a name is looked up in
 * /etc/passwd (the first line with that name wins), and a name that is not there stops the
 * container from starting. An empty user means root. Only the user part matters: group 0
 * grants no root privileges.
 */
export const runsAsNonRoot: CheckKind<typeof params> = {
  summary: 'The image runs as a user other than root',
  params,
  probes: () => ({ fileContents: [passwdPath] }),
  evaluate(facts) {
    const user = facts.config.user;
    const expected = 'a user other than root (uid 0)';
    const userPart = user.split(':')[0] ?? '';
    if (!userPart) {
      return {
        status: 'fail',
        expected,
        actual: user ? `USER ${user}: root` : 'root (no USER set)',
        message: user ? `The image sets USER ${user}, which names no user, so its process runs as root.` : 'The image sets no USER, so its process runs as root.',
      };
    }
    const uid = goAtoi(userPart);
    if (uid !== undefined) {
      if (uid === 0) return rootOutcome(expected, user, `${userPart} is uid 0, root's`);
      if (uid < 0) return { status: 'fail', expected, actual: `USER ${user}`, message: escapeLine(`USER ${user} is a negative uid, so no container can start from the image.`) };
      return { status: 'pass', expected, actual: `USER ${user} (uid ${uid})` };
    }
    const passwd = readPasswd(facts);
    if (passwd.state === 'absent') {
      const undecided = undecidedForUnreadableLayers(facts, expected, `${passwdPath}, where ${userPart} would be looked up, is in none of the layers that were read`);
      if (undecided) return undecided;
      return {
        status: 'fail',
        expected,
        actual: `USER ${user}, no ${passwdPath}`,
        message: escapeLine(`The image sets USER ${user}, but it has no ${passwdPath} to look that name up in, so no container can start from it ("unable to find user ${userPart}"). A numeric uid works without one.`),
      };
    }
    if (passwd.state === 'unreadable') {
      return { status: 'skip', expected, actual: 'unknown', message: escapeLine(`Could not tell who ${userPart} is: ${passwdPath} ${passwd.why}.`) };
    }
    const entry = passwd.users.find((candidate) => candidate.name === userPart);
    if (!entry) {
      return {
        status: 'fail',
        expected,
        actual: `USER ${user}, not in ${passwdPath}`,
        message: escapeLine(`The image sets USER ${user}, but ${passwdPath} has no user ${userPart}, so no container can start from it ("unable to find user ${userPart}").`),
      };
    }
    if (entry.uid === 0) return rootOutcome(expected, user, `${passwdPath} gives ${userPart} uid 0, root's`);
    return { status: 'pass', expected, actual: `USER ${user} (uid ${entry.uid} in ${passwdPath})` };
  },
};

function rootOutcome(expected: string, user: string, why: string): CheckOutcome {
  return { status: 'fail', expected, actual: `USER ${user}: root`, message: escapeLine(`The image sets USER ${user}: ${why}, so its process runs as root.`) };
}

/** Go's strconv.Atoi: optional sign, decimal digits only; undefined for anything else. */
export function goAtoi(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

type Passwd = { state: 'absent' } | { state: 'unreadable'; why: string } | { state: 'read'; users: Array<{ name: string; uid: number }> };

function readPasswd(facts: ImageFacts): Passwd {
  const resolved = resolvePath(facts.files, passwdPath);
  const file = resolved !== undefined ? facts.files.get(resolved) : undefined;
  if (!file || file.type === 'directory') return { state: 'absent' };
  if (!file.content) {
    const why = file.sizeBytes > maxKeptFileBytes ? `is ${formatSize(file.sizeBytes)}, more than the ${formatSize(maxKeptFileBytes)} the grader reads` : `is reached through a link (to /${resolved}) that was not read`;
    return { state: 'unreadable', why };
  }
  return { state: 'read', users: parsePasswd(file.content.toString('utf8')) };
}

/**
 * runc's reading of /etc/passwd (libcontainer/user.parseLine): fields split on ":", blank
 * lines skipped, and a uid that is not a number read as 0.
 */
export function parsePasswd(text: string): Array<{ name: string; uid: number }> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name = '', , uid = ''] = line.split(':');
      return { name, uid: goAtoi(uid) ?? 0 };
    });
}
