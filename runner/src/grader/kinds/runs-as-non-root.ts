import { z } from 'zod';
import type { CheckKind } from '../types.js';

const params = z.object({}).strict();

/** The image's USER is set to someone other than root (user 0). */
export const runsAsNonRoot: CheckKind<typeof params> = {
  summary: 'The image runs as a user other than root',
  params,
  evaluate(facts) {
    const user = facts.config.user.trim();
    const expected = 'a user other than root';
    const name = user.split(':')[0] ?? '';
    if (user && name !== 'root' && name !== '0') return { status: 'pass', expected, actual: `user ${user}` };
    return {
      status: 'fail',
      expected,
      actual: user ? `user ${user}` : 'root (no USER set)',
      message: user ? `The image sets USER ${user}, which is root.` : 'The image sets no USER, so its process runs as root.',
    };
  },
};
