import path from 'node:path';
import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatDuration } from '../describe.js';
import { runProbeKey } from '../facts/run-probe.js';
import type { CheckKind, ImageFacts, RunProbeResult } from '../types.js';
import { asExecForm, isShellForm, shellCommandLine } from './exec-form.js';
import { resolvePath } from '../facts/merged-view.js';
import { diagnoseCommand, startedProgram } from './started-program.js';

const params = z
  .object({
    /** Arguments after the image name, as in `docker run IMAGE args...`; absent: none. */
    args: z.array(z.string()).optional(),
    /** What the command must print on standard output; trailing newlines and spaces do not matter. */
    stdout: z.string(),
    exitCode: z.number().int().min(0).max(255).default(0),
    /** How long the command may run before it is stopped. */
    withinMs: z.number().int().positive().max(60_000).default(10_000),
    /**
     * The program the image's command must start, as an absolute path: the expected text is
     * then that program's output, not an `echo` of it. Found as the runtime finds it (PATH,
     * symlinks, a shell's -c, env and the like); a script is given the benefit of the doubt.
     */
    program: z.string().regex(/^\/[^*?]+$/, 'must be an absolute path such as /usr/local/bin/greet').optional(),
  })
  .strict();

const shownCharacters = 200;
const shown = (text: string) => JSON.stringify(text.length > shownCharacters ? `${text.slice(0, shownCharacters)}…` : text);
const withoutTrailingSpace = (text: string) => text.replace(/\s+$/, '');

/**
 * Run as a command (`docker run --rm IMAGE args...`), the image prints the expected text on
 * standard output and exits with the expected code. The container runs while facts are
 * gathered (facts/run-probe.ts); this only judges what it did.
 */
export const runOutput: CheckKind<typeof params> = {
  summary: 'Run as a command, the image prints the expected output',
  params,
  probes: ({ args, withinMs }) => ({ runs: [args ? { args, withinMs } : { withinMs }] }),
  evaluate(facts, { args, stdout, exitCode, withinMs, program }) {
    const command = commandLine(facts, args);
    const wanted = withoutTrailingSpace(stdout);
    const expected = `${shown(wanted)}, exit code ${exitCode}`;
    const run = facts.probes.runs?.find((candidate) => runProbeKey(candidate) === runProbeKey({ args }));
    if (!run) return { status: 'skip', expected, actual: 'not run', message: `\`${command}\` was not run.` };
    switch (run.outcome) {
      case 'not-started': {
        const diagnosis = diagnoseCommand(facts);
        return {
          status: 'fail',
          expected,
          actual: 'did not start',
          message: [`\`${command}\` did not start: ${run.reason}`, ...(diagnosis ? [diagnosis] : [])].map(escapeLine).join('\n'),
        };
      }
      case 'timed-out':
        return {
          status: 'fail',
          expected,
          actual: `still running after ${formatDuration(withinMs)}`,
          message: `\`${command}\` was still running after ${formatDuration(withinMs)}, so it was stopped. A command does its work and exits.${outputText(run)}`,
        };
      case 'exited': {
        const printed = withoutTrailingSpace(run.stdout);
        const actual = `${shown(printed)}, exit code ${run.exitCode}`;
        if (printed === wanted && run.exitCode === exitCode) {
          const other = program === undefined ? undefined : otherProgram(facts, program);
          if (other === undefined || program === undefined) return { status: 'pass', expected, actual: `${actual}, after ${formatDuration(run.afterMs)}` };
          return {
            status: 'fail',
            expected: `${expected}, printed by ${program}`,
            actual: `${actual}, printed by ${other}`,
            message: escapeLine(
              `\`${command}\` printed the expected text, but the image's command starts ${other}, not ${program}: the check is that ${program} prints it. ` +
                `Make ENTRYPOINT or CMD start ${program} (\`CMD ["${path.posix.basename(program)}"]\` finds it through PATH).`,
            ),
          };
        }
        const sentences = [`\`${command}\` printed ${shown(printed)} and exited with code ${run.exitCode}; expected ${shown(wanted)} and code ${exitCode}.`];
        const stderr = withoutTrailingSpace(run.stderr);
        if (stderr) sentences.push(`On standard error it said: ${shown(stderr)}.`);
        const why = explain(facts, args);
        if (why) sentences.push(why);
        return { status: 'fail', expected, actual, message: escapeLine(sentences.join(' ')) };
      }
    }
  },
};

/**
 * What the image's command starts instead of `program`, or undefined when it starts that
 * program (the same file, links followed), names it in a shell's -c script, or starts a
 * script, which may run it in its turn.
 */
export function otherProgram(facts: ImageFacts, program: string): string | undefined {
  const started = startedProgram(facts);
  if (!started) return 'nothing (the image has neither ENTRYPOINT nor CMD)';
  const wanted = resolvePath(facts.files, program);
  if (started.path !== undefined && started.path === wanted) return undefined;
  if (started.path !== undefined && facts.files.get(started.path)?.identity?.kind === 'script') return undefined;
  // `sh -c "cd /usr/local/bin && ./greet"`: the shell's script names the program.
  const written = [...(facts.config.entrypoint ?? []), ...(facts.config.cmd ?? [])];
  const script = written.findIndex((word) => word === '-c');
  const name = path.posix.basename(program).replace(/[.+]/g, '\\$&');
  if (script !== -1 && /(?:^|\/)(?:ba|da|a)?sh$/.test(written[script - 1] ?? '') && new RegExp(`(?:^|[\\s/;&|(])${name}(?:$|[\\s;&|)])`).test(written[script + 1] ?? '')) return undefined;
  return started.path !== undefined ? `/${started.path}` : started.name;
}

/** What the learner would type: `docker run --rm lesson-3 Ada Lovelace`. */
function commandLine(facts: ImageFacts, args: readonly string[] | undefined): string {
  const quoted = (args ?? []).map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`));
  return ['docker run --rm', facts.ref, ...quoted].join(' ');
}

/** The instruction behind output that ignores the arguments, when the config shows it. */
function explain(facts: ImageFacts, args: readonly string[] | undefined): string | undefined {
  const { entrypoint, cmd } = facts.config;
  if (args?.length && isShellForm(entrypoint)) {
    return `The ENTRYPOINT is in shell form (${asExecForm(entrypoint!)}): the shell runs \`${shellCommandLine(entrypoint!)}\` and never looks at the arguments.`;
  }
  if (!args && entrypoint?.length && isShellForm(cmd)) {
    return `The CMD is in shell form, so the ENTRYPOINT gets "${cmd!.join('", "')}" as its arguments.`;
  }
  return undefined;
}

function outputText(run: Extract<RunProbeResult, { outcome: 'timed-out' }>): string {
  const text = withoutTrailingSpace(`${run.stdout}${run.stderr}`);
  return text ? ` Its output so far: ${shown(text)}.` : ' It printed nothing.';
}
