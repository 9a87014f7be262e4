import { z } from 'zod';
import { stepPosition } from '../facts/build-trace.js';
import type { BuildStepFacts, CheckKind, CheckOutcome, RebuildProbeResult } from '../types.js';

const params = z
  .object({
    /** The file the check changes, relative to the exercise's folder, e.g. "main.go". */
    sourceFile: z.string().regex(/^[^/][^*?]*$/, 'must be a path relative to the exercise folder, such as main.go'),
    /** Words of the step that must stay cached, as BuildKit names it, e.g. "go build -v example.com/textstats". */
    step: z.string().min(3),
    /** Both builds together may take this long. */
    withinMs: z.number().int().positive().max(900_000).default(300_000),
  })
  .strict();

const shownErrorCharacters = 400;

/**
 * After a change to one source file, and nothing else, the given step is taken from the
 * build cache. The project is rebuilt for real while facts are gathered
 * (facts/rebuild-probe.ts); this judges BuildKit's own report of which steps were cached.
 */
export const stepStaysCached: CheckKind<typeof params> = {
  summary: 'After a source-only change, a rebuild takes the given step from the cache',
  params,
  probes: ({ sourceFile, withinMs }) => ({ rebuild: { sourceFile, withinMs } }),
  evaluate(facts, { sourceFile, step }) {
    const expected = `\`${step}\` CACHED after a change to ${sourceFile} alone`;
    const rebuild = facts.probes.rebuild;
    if (!rebuild) return { status: 'skip', expected, actual: 'not rebuilt', message: 'The project was not rebuilt.' };
    if (rebuild.outcome !== 'rebuilt') return notRebuilt(rebuild, expected);

    const matching = rebuild.afterChange.filter((candidate) => stepPosition(candidate.name)?.instruction.includes(step));
    if (!matching.length) {
      return {
        status: 'fail',
        expected,
        actual: 'no such step',
        message: `No step of ${rebuild.folder}/Dockerfile runs \`${step}\`, so there is nothing to compare. Keep that step; change only where it stands.`,
      };
    }
    // BuildKit never marks a FROM as cached; it only resolves the base, it builds nothing.
    const rebuilt = rebuild.afterChange.filter((candidate) => !candidate.isCached && !isFrom(candidate)).sort(inDockerfileOrder);
    const ranAgain = matching.find((candidate) => !candidate.isCached);
    if (!ranAgain) {
      return {
        status: 'pass',
        expected,
        actual: `CACHED: ${matching.map((candidate) => `\`${candidate.name}\``).join(', ')}; ran again: ${rebuilt.length ? rebuilt.map((candidate) => `\`${candidate.name}\``).join(', ') : 'nothing'}`,
      };
    }
    const cause = firstMissBefore(rebuild.afterChange, ranAgain);
    const why = cause
      ? `The first step that missed the cache was \`${cause.name}\`: ${sourceFile} is among the files it copies, so its cache key changed, and every step after a miss runs again.`
      : `No earlier step of its stage missed the cache, so the step itself changed between the two builds (does it use a value that differs every time?).`;
    return {
      status: 'fail',
      expected,
      actual: `ran again: ${rebuilt.map((candidate) => `\`${candidate.name}\``).join(', ')}`,
      message: `After a change to ${sourceFile} alone, \`${ranAgain.name}\` ran again. ${why}`,
    };
  },
};

/** The first step of the same stage, before `target`, that BuildKit did not take from the cache. */
function firstMissBefore(steps: readonly BuildStepFacts[], target: BuildStepFacts): BuildStepFacts | undefined {
  const where = stepPosition(target.name)!;
  return steps
    .filter((candidate) => {
      const position = stepPosition(candidate.name);
      return !candidate.isCached && !isFrom(candidate) && position && position.stage === where.stage && position.number < where.number;
    })
    .sort((a, b) => stepPosition(a.name)!.number - stepPosition(b.name)!.number)[0];
}

/** BuildKit reports steps as they start, which is not always their order in the Dockerfile. */
function inDockerfileOrder(a: BuildStepFacts, b: BuildStepFacts): number {
  const [first, second] = [stepPosition(a.name)!, stepPosition(b.name)!];
  return first.stage === second.stage ? first.number - second.number : first.stage.localeCompare(second.stage);
}

function isFrom(step: BuildStepFacts): boolean {
  return /^FROM\s/i.test(stepPosition(step.name)?.instruction ?? '');
}

function notRebuilt(rebuild: Exclude<RebuildProbeResult, { outcome: 'rebuilt' }>, expected: string): CheckOutcome {
  const fail = (actual: string, message: string): CheckOutcome => ({ status: 'fail', expected, actual, message });
  const which = (build: 'as-is' | 'after-change') => (build === 'as-is' ? 'as it is' : `after a comment was appended to ${rebuild.sourceFile}`);
  switch (rebuild.outcome) {
    case 'no-folder':
      return fail('no folder to rebuild', `There is no folder ${rebuild.folder} to rebuild (${rebuild.reason}). This check rebuilds your project where the course put it, ~/exercises/<lesson> in the sandbox.`);
    case 'no-source-file':
      return fail(`no ${rebuild.sourceFile}`, `${rebuild.folder} has no ${rebuild.sourceFile}; the check changes that file to see what a source-only change rebuilds.`);
    case 'build-failed': {
      const error = rebuild.error.length > shownErrorCharacters ? `${rebuild.error.slice(0, shownErrorCharacters)}…` : rebuild.error;
      return fail('the build failed', `Building ${rebuild.folder} ${which(rebuild.build)} failed: ${error}`);
    }
    case 'timed-out':
      return fail('the build took too long', `Building ${rebuild.folder} ${which(rebuild.build)} did not finish within ${Math.round(rebuild.withinMs / 1000)} s.`);
  }
}
