import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { childrenOf, findMatches, isPathPattern } from '../path-pattern.js';
import type { CheckKind } from '../types.js';
import { undecidedForUnreadableLayers } from '../unreadable.js';

const params = z
  .object({
    /** Absolute paths or patterns (`*`, `?`, `**`); each must match at least one path. */
    paths: z.array(z.string().refine(isPathPattern, 'must be an absolute path such as /app/src/index.js')).min(1),
  })
  .strict();

const listedChildren = 12;

/** Every given path (or pattern) is in the image a container sees. */
export const filesPresent: CheckKind<typeof params> = {
  summary: 'The image holds every given path',
  params,
  evaluate(facts, { paths }) {
    const expected = `all of ${paths.join(', ')}`;
    const missing = paths.filter((pattern) => findMatches(facts.files, pattern).length === 0);
    if (!missing.length) return { status: 'pass', expected, actual: `all ${paths.length} found` };
    const undecided = undecidedForUnreadableLayers(facts, expected, `${missing.join(', ')} is in none of the layers that were read`);
    if (undecided) return undecided;
    // Show what is there instead, in the folder the first missing path should be in.
    const folder = folderOf(missing[0]!);
    const children = childrenOf(facts.files, folder);
    const there = children.length
      ? `${folder} holds ${children.slice(0, listedChildren).map(escapeLine).join(', ')}${children.length > listedChildren ? ', …' : ''}`
      : `there is no ${folder}`;
    return {
      status: 'fail',
      expected,
      actual: `missing ${missing.join(', ')}`,
      message: escapeLine(`The image lacks ${missing.join(', ')}; ${there}.`),
    };
  },
};

/** The folder a pattern names before its last segment or its first wildcard: "/app/src/**" gives "/app/src". */
function folderOf(pattern: string): string {
  const folder: string[] = [];
  for (const part of pattern.split('/').filter(Boolean).slice(0, -1)) {
    if (/[*?]/.test(part)) break;
    folder.push(part);
  }
  return `/${folder.join('/')}`;
}
