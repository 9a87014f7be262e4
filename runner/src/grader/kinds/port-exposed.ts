import { z } from 'zod';
import type { CheckKind } from '../types.js';

const params = z
  .object({
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict();

/** The image config lists the port as exposed (EXPOSE: documentation, it publishes nothing). */
export const portExposed: CheckKind<typeof params> = {
  summary: 'The image documents a port with EXPOSE',
  params,
  evaluate(facts, { port, protocol }) {
    const wanted = `${port}/${protocol}`;
    const expected = `${wanted} exposed`;
    const exposed = facts.config.exposedPorts;
    if (exposed.includes(wanted)) return { status: 'pass', expected, actual: `exposed: ${exposed.join(', ')}` };
    return {
      status: 'fail',
      expected,
      actual: exposed.length ? `exposed: ${exposed.join(', ')}` : 'no port exposed',
      message: exposed.length ? `The image exposes ${exposed.join(', ')}, but not ${wanted}.` : `The image exposes no port; ${wanted} was expected.`,
    };
  },
};
