import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import { findMatches, isPathPattern } from '../path-pattern.js';
import type { CheckKind } from '../types.js';
import { undecidedForUnreadableLayers } from '../unreadable.js';

const params = z
  .object({
    /** Absolute paths or patterns (`*`, `?`, `**`); a directory stands for everything under it. */
    paths: z.array(z.string().refine(isPathPattern, 'must be an absolute path such as /app/node_modules')).min(1),
  })
  .strict();

const listedMatches = 8;

/** None of the given paths is in the image a container sees. */
export const filesAbsent: CheckKind<typeof params> = {
  summary: 'The image holds none of the given paths',
  params,
  evaluate(facts, { paths }) {
    const expected = `none of ${paths.join(', ')}`;
    const found = paths.flatMap((pattern) => findMatches(facts.files, pattern));
    if (!found.length) {
      return undecidedForUnreadableLayers(facts, expected, 'none of the paths is in the layers that were read') ?? { status: 'pass', expected, actual: 'none found' };
    }
    const described = found.slice(0, listedMatches).map((match) => {
      const under = match.pathsUnder > 0 ? ` (${plural(match.pathsUnder, 'path')} under it)` : '';
      return `${escapeLine(match.path)}${under}, from ${layerAt(facts, match.layer)}`;
    });
    if (found.length > listedMatches) described.push(`and ${found.length - listedMatches} more`);
    return {
      status: 'fail',
      expected,
      actual: `found ${found.map((match) => escapeLine(match.path)).slice(0, listedMatches).join(', ')}${found.length > listedMatches ? ', …' : ''}`,
      message: escapeLine(`The image holds ${plural(found.length, 'path')} it should not: ${described.join('; ')}.`),
    };
  },
};
