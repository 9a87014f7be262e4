import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { stepPosition } from '../facts/build-trace.js';
import type { BuildStepFacts, CheckKind, CheckOutcome, RebuildProbeResult } from '../types.js';

const params = z
  .object({
    /** The file the check changes, relative to the exercise's folder, e.g. "main.go". */
    sourceFile: z.string().regex(/^[^/][^*?]*$/, 'must be a path relative to the exercise folder, such as main.go'),
    /**
     * The command of the RUN step that must stay cached, e.g. "go build -v example.com/textstats".
     * A step counts when it runs this command itself (see `runsCommand`), not when its text
     * merely mentions it (`RUN echo go build ...`).
     */
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

    const matching = rebuild.afterChange.filter((candidate) => runsCommand(stepPosition(candidate.name)?.instruction ?? '', step));
    if (!matching.length) {
      const mentions = rebuild.afterChange.filter((candidate) => stepPosition(candidate.name)?.instruction.includes(step));
      const mentioned = mentions.length
        ? ` ${mentions.map((candidate) => `\`${candidate.name}\``).join(', ')} mentions it without running it as its command.`
        : '';
      return {
        status: 'fail',
        expected,
        actual: 'no such step',
        message: escapeLine(`No step of ${rebuild.folder}/Dockerfile runs \`${step}\`, so there is nothing to compare.${mentioned} Keep that step as it was; change only where it stands.`),
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
      message: escapeLine(`After a change to ${sourceFile} alone, \`${ranAgain.name}\` ran again. ${why}`),
    };
  },
};

/**
 * Whether a step, as BuildKit names it ("RUN go build -v example.com/textstats"), runs
 * `command` itself: a RUN (flags such as --mount allowed) whose shell command has `command`
 * as one of the commands it runs in sequence (joined by `&&` or `;`), with extra arguments,
 * redirections or a pipe after it allowed, and variable assignments before it. Anything
 * after an `||` may never run, and `echo go build ...` runs echo: neither counts.
 */
export function runsCommand(instruction: string, command: string): boolean {
  const match = /^RUN\s+((?:--\S+\s+)*)(.*)$/s.exec(instruction.trim());
  if (!match) return false;
  let shell = match[2]!.trim();
  if (shell.startsWith('[')) {
    try {
      const words: unknown = JSON.parse(shell);
      if (Array.isArray(words) && words.every((word) => typeof word === 'string')) shell = words.join(' ');
    } catch {
      // Not JSON: a shell command that starts with "[" (a test), read as it is.
    }
  }
  const wanted = command.trim().split(/\s+/).join(' ');
  const sequence = shell.split('||')[0]!;
  return sequence.split(/&&|;|\n/).some((part) => {
    const words = part.trim().split(/\s+/);
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
    const text = words.join(' ');
    return text === wanted || (text.startsWith(wanted) && /^[\s|<>&]/.test(text.slice(wanted.length)));
  });
}

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
    case 'not-given':
      return {
        status: 'skip',
        expected,
        actual: 'not rebuilt',
        message: escapeLine(`Not checked: this check rebuilds your project, and no folder was given. Run \`course check <lesson> --exercise-folder DIR\` with DIR the folder holding its Dockerfile.`),
      };
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
