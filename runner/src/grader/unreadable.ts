import { layerAt } from './describe.js';
import type { CheckOutcome, ImageFacts } from './types.js';

/**
 * A check that found nothing, or did not find what it looked for, cannot tell whether the
 * answer hides in a layer that could not be read. It says so and does not pass: a check
 * that cannot decide is never reported as passed.
 */
export function undecidedForUnreadableLayers(facts: ImageFacts, expected: string, what: string): CheckOutcome | undefined {
  const unreadable = facts.layers.filter((layer) => layer.unreadable);
  if (!unreadable.length) return undefined;
  const which = unreadable.map((layer) => `${layerAt(facts, layer.index)} could not be read (${layer.unreadable})`).join('; ');
  return { status: 'skip', expected, actual: 'unknown', message: `Could not decide: ${what}, but ${which}.` };
}
