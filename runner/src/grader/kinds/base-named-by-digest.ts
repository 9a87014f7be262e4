import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import type { CheckKind } from '../types.js';

const params = z.object({}).strict();

const shownCharacters = 120;
const shown = (text: string) => (text.length > shownCharacters ? `${text.slice(0, shownCharacters)}…` : text);

/**
 * The Dockerfile names the final stage's base by digest (`name@sha256:…`), the one name that
 * cannot be moved to other content: a tag, a registry's or a local one, names whatever was
 * put under it last. An image does not record how its base was named, so this reads the
 * exercise folder's Dockerfile (facts/dockerfile.ts). Which image the digest names is a
 * matter for a layers check (shares-base-layers) beside this one.
 */
export const baseNamedByDigest: CheckKind<typeof params> = {
  summary: "The Dockerfile names the final stage's base image by digest",
  params,
  probes: () => ({ dockerfile: true }),
  evaluate(facts) {
    const expected = 'a FROM line that names the base by digest (name@sha256:…)';
    const dockerfile = facts.probes.dockerfile;
    if (!dockerfile) return { status: 'skip', expected, actual: 'not read', message: 'The Dockerfile was not read.' };
    if (dockerfile.outcome === 'not-given') {
      return {
        status: 'skip',
        expected,
        actual: 'no Dockerfile given',
        message: 'Not checked: this check reads your Dockerfile, and no folder was given. Run `course check <lesson> --exercise-folder DIR` with DIR the folder holding it.',
      };
    }
    if (dockerfile.outcome === 'unreadable') {
      return { status: 'fail', expected, actual: 'no Dockerfile', message: escapeLine(`Could not read your Dockerfile: ${dockerfile.reason}. This check reads it where the course put it, ~/exercises/<lesson> in the sandbox.`) };
    }
    const { fromLines, reference, digest, hasUnsetArgument } = dockerfile.finalBase;
    const written = escapeLine(fromLines.map((line) => `\`${shown(line)}\``).join(', through '));
    if (!fromLines.length) return { status: 'fail', expected, actual: 'no FROM line', message: escapeLine(`${dockerfile.path} has no FROM line.`) };
    if (digest) return { status: 'pass', expected, actual: escapeLine(`${written}: ${shown(reference)}`) };
    const why = hasUnsetArgument
      ? 'uses a build argument that has no value, so what it names is up to whoever builds it (`--build-arg`)'
      : reference.toLowerCase() === 'scratch'
        ? 'names scratch, no image at all'
        : `names ${escapeLine(shown(reference))} by a tag, which can be moved to other content at any time (a registry's tag or a local one, as \`docker tag\` makes)`;
    return {
      status: 'fail',
      expected,
      actual: escapeLine(shown(reference || 'nothing')),
      message: `${escapeLine(dockerfile.path)}: ${written} ${why}. Name the image by its digest, \`name@sha256:…\`, the one name that cannot move.`,
    };
  },
};
