import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import type { CheckKind, ImageFacts } from '../types.js';
import { withoutLaunchers } from './launchers.js';

const params = z
  .object({
    /** Which of the two the check looks at. */
    instruction: z.enum(['ENTRYPOINT', 'CMD']),
    /**
     * The program it must run, by file name (e.g. "greet"): its first word, or a path ending
     * in it. Otherwise any program would do, `echo hello,` among them.
     */
    program: z.string().regex(/^[^/\s]+$/, 'must be a file name such as greet').optional(),
  })
  .strict();

/** How the image config stores a shell form: `["/bin/sh", "-c", "the command line"]`. */
const shellNames = /(^|\/)(sh|ash|bash|dash|ksh|zsh)$/;

/**
 * Where a shell's own options end, after its name: `-e`, `+x`, `--login`, `-o pipefail`.
 * `hasCommandFlag` when one of them is -c (alone or among others, as in `-ec`): the next word
 * is then a command line, not a script.
 */
function shellOptions(command: readonly string[]): { end: number; hasCommandFlag: boolean } {
  let index = 1;
  let hasCommandFlag = false;
  while (index < command.length) {
    const word = command[index]!;
    if (word === '-o' || word === '+o') index += 2;
    else if (/^--[a-z][a-z-]*$/.test(word)) index += 1;
    else if (/^[-+][A-Za-z]+$/.test(word)) {
      hasCommandFlag ||= word.startsWith('-') && word.includes('c');
      index += 1;
      if (hasCommandFlag) break;
    } else break;
  }
  return { end: Math.min(index, command.length), hasCommandFlag };
}

/**
 * A shell run with -c: `["/bin/sh", "-c", "greet world"]`, and the same after a SHELL
 * instruction with options of its own, `["/bin/bash", "-o", "pipefail", "-c", "greet"]`.
 */
export function isShellForm(command: readonly string[] | null): boolean {
  return command !== null && shellNames.test(command[0] ?? '') && shellOptions(command).hasCommandFlag;
}

/** `["greet", "world"]`, as a Dockerfile would write it. */
export function asExecForm(command: readonly string[]): string {
  return `[${command.map((word) => JSON.stringify(word)).join(', ')}]`;
}

/** The command line a shell form holds: `greet world` for `["/bin/sh", "-c", "greet world"]`. */
export function shellCommandLine(command: readonly string[]): string {
  return command.slice(shellOptions(command).end).join(' ');
}

/**
 * ENTRYPOINT or CMD is set, not empty, and in exec form. The config cannot tell
 * `ENTRYPOINT greet` from `ENTRYPOINT ["/bin/sh", "-c", "greet"]`: both are stored as the
 * latter (facts.md §4), so a shell run with -c counts as shell form either way. A launcher in
 * front (`["env", "LANG=C", "greet"]`, nice, nohup, setsid) execs the program in its place,
 * so the form and the program are judged on what follows it.
 */
export const execForm: CheckKind<typeof params> = {
  summary: 'ENTRYPOINT or CMD is set in exec form',
  params,
  evaluate(facts, { instruction, program }) {
    const command = instruction === 'ENTRYPOINT' ? facts.config.entrypoint : facts.config.cmd;
    const form = instruction === 'ENTRYPOINT' ? 'ENTRYPOINT in exec form' : 'CMD in exec form, with at least one word';
    const expected = program ? `${form}, running ${program}` : form;
    if (!command || command.length === 0) {
      return { status: 'fail', expected, actual: `no ${instruction}`, message: escapeLine(missingMessage(facts, instruction)) };
    }
    // CMD after an ENTRYPOINT holds arguments, not a program a launcher could start.
    const isProgram = instruction === 'ENTRYPOINT' || !facts.config.entrypoint?.length;
    const launched = isProgram ? withoutLaunchers(command) : command;
    if (isShellForm(command) || isShellForm(launched)) {
      const shell = isShellForm(command) ? command : launched;
      const line = shellCommandLine(shell);
      return {
        status: 'fail',
        expected,
        actual: `shell form: ${instruction} ${line}`,
        message:
          instruction === 'ENTRYPOINT'
            ? usesArguments(shell)
              ? `ENTRYPOINT is a shell run with -c, as the shell form stores it: the image runs ${asExecForm(command)}. Its command line hands the arguments on, but the spec asks for exec form: a JSON array that names the program itself.`
              : `ENTRYPOINT is in shell form: the image runs ${asExecForm(command)}. A shell-form ENTRYPOINT ignores CMD and every argument given to docker run.`
            : `CMD is in shell form, stored as ${asExecForm(command)}.${facts.config.entrypoint?.length ? ` After an ENTRYPOINT, all ${command.length === 3 ? 'three' : command.length} words become its arguments: ${asExecForm([...facts.config.entrypoint, ...command])}.` : ''}`,
      };
    }
    if (program && !runsProgram(launched, program)) {
      return {
        status: 'fail',
        expected,
        actual: `${instruction} ${asExecForm(command)}`,
        message: escapeLine(`${instruction} ${asExecForm(command)} runs ${launched[0] ?? command[0]}, not ${program}. The image is meant to behave like ${program} itself.`),
      };
    }
    return { status: 'pass', expected, actual: `${instruction} ${asExecForm(command)}` };
  },
};

/** A shell form whose command line reads its positional parameters ("$@", $1): CMD and the run's arguments reach it. */
function usesArguments(command: readonly string[]): boolean {
  const start = shellOptions(command).end;
  return /\$\{?[@*1-9]/.test(command[start] ?? '');
}

/**
 * The command's program is `program` (by name or path), or a shell told to run a script of that
 * name (after the shell's own options: `sh -e /usr/local/bin/greet`). The file may keep an extension (`greet.sh`, copied as it is from the exercise folder):
 * it is still that program.
 */
function runsProgram(command: readonly string[], program: string): boolean {
  const named = (word: string | undefined) => {
    const fileName = word?.split('/').at(-1);
    return fileName !== undefined && (fileName === program || (fileName.startsWith(`${program}.`) && /^[A-Za-z0-9]+$/.test(fileName.slice(program.length + 1))));
  };
  const first = command[0] ?? '';
  return named(first) || (shellNames.test(first) && named(command[shellOptions(command).end]));
}

function missingMessage(facts: ImageFacts, instruction: 'ENTRYPOINT' | 'CMD'): string {
  if (instruction === 'ENTRYPOINT') return 'The image has no ENTRYPOINT.';
  const entrypoint = facts.config.entrypoint;
  if (entrypoint?.length) {
    return `The image has no CMD, so ${asExecForm(entrypoint)} runs with no arguments when docker run gives none. (Setting ENTRYPOINT clears the CMD the base image had.)`;
  }
  return 'The image has no CMD.';
}
