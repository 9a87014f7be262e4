import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { plural } from '../describe.js';
import { describeInstruction } from '../facts/history.js';
import type { CheckKind } from '../types.js';

const params = z.object({}).strict();

/** A RUN as the history records it: the shell it ran in, and the command line it was given. */
interface RunRow {
  shell: string;
  command: string;
}

/**
 * Every RUN whose command is a pipe (`make | tee log`) runs with `pipefail`, so a failing
 * command in the pipe fails the step. Without it a pipe reports only its last command's exit
 * code, and a failed build step can pass unseen. Judged from the history rows, where both
 * builders record the shell and its options (`RUN /bin/bash -o pipefail -c …`,
 * `/bin/bash -o pipefail -c …`), or from a `set -o pipefail` that starts the command itself.
 */
export const pipeFailuresFailTheBuild: CheckKind<typeof params> = {
  summary: 'Every RUN that pipes one command into another fails when any of them fails',
  params,
  evaluate(facts) {
    const unguarded = facts.history
      .map((row) => runRowOf(row.createdBy))
      .filter((run): run is RunRow => run !== undefined && hasPipe(run.command) && !hasPipefail(run));
    const expected = 'no RUN with a pipe runs without pipefail';
    if (unguarded.length === 0) return { status: 'pass', expected, actual: 'every pipe fails with its commands' };
    const listed = unguarded.map((run) => `\`${describeInstruction(`RUN ${run.command}`)}\` (in ${run.shell})`).join('; ');
    return {
      status: 'fail',
      expected,
      actual: `${plural(unguarded.length, 'RUN')} with a pipe and no pipefail`,
      message: escapeLine(
        `${listed}: a pipe reports only the exit code of its last command, so a command that fails before it does not stop the build.` +
          (unguarded.some((run) => swallowsFailure(run.command)) ? ' An ending like `|| true` turns any failure into success, pipefail or not.' : ''),
      ),
    };
  },
};

/** The shell and command of a RUN row, or undefined for rows that ran nothing. */
export function runRowOf(createdBy: string): RunRow | undefined {
  const text = createdBy.trim().replace(/\s+# buildkit$/, '');
  if (/^\/bin\/sh -c #\(nop\)/.test(text)) return undefined;
  // The legacy builder writes a RUN without the word: its shell form as `/bin/sh -c …` (after
  // any build arguments), its exec form as the arguments joined, `sh -c make | tee log`.
  const withoutRun = text.startsWith('RUN ') ? text.slice(4) : legacyShellRun.test(text) ? text : undefined;
  if (withoutRun === undefined) return undefined;
  // Build arguments the step saw come first, as "|2 A=1 B=2 ", with both builders.
  const body = withoutRun.replace(/^\|\d+ (?:\S+=\S* )*/, '');
  const shell = /^(\S*sh)((?: +-[a-zA-Z]+(?: +pipefail)?)*) +-c +([\s\S]*)$/.exec(body);
  if (!shell) return { shell: 'exec form', command: body };
  return { shell: `${shell[1]}${shell[2]}`, command: shell[3]! };
}

/** A legacy history row that runs a shell: `[|N A=1 …] [/path/]sh|bash|… -…`; BuildKit's own rows start with their instruction's name. */
const legacyShellRun = /^(?:\|\d+ (?:\S+=\S* )*)?(?:\S*\/)?[a-z]*sh /;

/** A `|` or `|&` outside quotes that is not half of `||`. */
export function hasPipe(command: string): boolean {
  let quote: string | undefined;
  for (let index = 0; index < command.length; index++) {
    const char = command[index]!;
    if (char === '\\' && quote !== "'") {
      index++;
      continue;
    }
    if (quote) {
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      continue;
    }
    if (char === '|') {
      if (command[index + 1] === '|') {
        index++;
        continue;
      }
      return true;
    }
  }
  return false;
}

function hasPipefail(run: RunRow): boolean {
  // pipefail switched off again, or the step's failure swallowed at its end (`|| true`): a failing command passes anyway.
  if (/(?:^|[\s;&|])set +\+o +pipefail\b/.test(run.command) || swallowsFailure(run.command)) return false;
  if (/(?:^|\s)-[a-zA-Z]*o +pipefail\b/.test(run.shell)) return true;
  return /^\s*set +(?:-[a-zA-Z]*o +pipefail|-o +\w+ +-o +pipefail)\b/.test(run.command);
}

/** The command ends by turning any failure into success: `|| true`, `|| :`, `|| exit 0`, `; true`, `; exit 0`. */
export function swallowsFailure(command: string): boolean {
  return /(?:\|\||;)\s*(?:true|:|exit\s+0)\s*;?\s*$/.test(command);
}
