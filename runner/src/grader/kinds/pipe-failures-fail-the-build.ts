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
 * Every RUN whose command is a pipe (`make | tee log`) fails when any command of the pipe
 * fails: the pipe runs with `pipefail` (from the shell's options, `SHELL ["/bin/bash", "-o",
 * "pipefail", "-c"]`, or a `set -o pipefail` before it in the command) and its failure is the
 * step's failure: not swallowed by an `|| handler` that succeeds, nor by a later command after
 * `;` unless errexit (`-e`) stops the shell first. Without it a pipe reports only its last
 * command's exit code, and a failed build step can pass unseen. Judged from the history rows,
 * where both builders record the shell and its options (`RUN /bin/bash -o pipefail -c …`,
 * `/bin/bash -o pipefail -c …`), and, for the build stages the image takes files from (whose
 * RUNs no history row records), from the exercise folder's Dockerfile when it was read: a
 * failing make there is hidden all the same, whatever a later COPY happens to notice.
 */
export const pipeFailuresFailTheBuild: CheckKind<typeof params> = {
  summary: 'Every RUN that pipes one command into another fails when any of them fails',
  params,
  // The Dockerfile, for the build stages the image copies from: their RUNs are in no history row.
  probes: () => ({ dockerfile: true }),
  evaluate(facts) {
    const dockerfile = facts.probes.dockerfile?.outcome === 'read' ? facts.probes.dockerfile : undefined;
    const rows = [
      ...facts.history.map((row) => ({ createdBy: row.createdBy, where: '' })),
      ...(dockerfile?.copiedStageRuns ?? []).map((run) => ({ createdBy: run.createdBy, where: `, line ${run.line} of ${dockerfile!.path}, in the build stage ${run.stage} the image copies from` })),
    ];
    const unguarded = rows.flatMap(({ createdBy, where }) => {
      const run = runRowOf(createdBy);
      const verdict = run === undefined ? undefined : judgePipes(run);
      return run !== undefined && verdict !== undefined ? [{ run, why: verdict.why, where: verdict.shell === run.shell ? where : `${where}; the pipe runs in its own ${verdict.shell}` }] : [];
    });
    const expected = 'no RUN with a pipe runs without pipefail';
    if (unguarded.length === 0) return { status: 'pass', expected, actual: 'every pipe fails with its commands' };
    const listed = unguarded.map(({ run, where }) => `\`${describeInstruction(`RUN ${run.command}`)}\` (in ${run.shell}${where})`).join('; ');
    const reasons = [...new Set(unguarded.map(({ why }) => why).filter((why) => why !== 'no-pipefail'))];
    return {
      status: 'fail',
      expected,
      actual: `${plural(unguarded.length, 'RUN')} with a pipe and no pipefail`,
      message: escapeLine(
        `${listed}: a pipe reports only the exit code of its last command, so a command that fails before it does not stop the build.` +
          reasons.map((why) => ` ${swallowedSentences[why]}`).join(''),
      ),
    };
  },
};

type Unguarded = 'no-pipefail' | 'swallowed' | 'later-command';

const swallowedSentences: Record<Exclude<Unguarded, 'no-pipefail'>, string> = {
  swallowed: 'An ending like `|| true` or `|| echo …` turns any failure into success, pipefail or not; end the handler with `exit 1` if you want one.',
  'later-command': 'A command after `;` runs even when the pipe failed, and its exit code becomes the step\'s: join the commands with `&&`, or start the shell with `-e` (`set -e`).',
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
  // The shell, maybe through env, its options (`-o NAME` takes a word), then -c, alone or run together (`-ec`).
  const shell = /^((?:\S*\/)?env +)?(\S*sh)((?: +[-+][a-zA-Z]*o +\w+| +[-+][a-zA-Z]+)*?) +-([a-zA-Z]*)c([a-zA-Z]*) +([\s\S]*)$/.exec(body);
  if (!shell) return { shell: 'exec form', command: body };
  const together = `${shell[4]}${shell[5]}`;
  return { shell: `${shell[1] ?? ''}${shell[2]}${shell[3]}${together ? ` -${together}` : ''}`, command: shell[6]! };
}

/** A legacy history row that runs a shell: `[|N A=1 …] [/path/]sh|bash|… -…`; BuildKit's own rows start with their instruction's name. */
const legacyShellRun = /^(?:\|\d+ (?:\S+=\S* )*)?(?:(?:\S*\/)?env +)?(?:\S*\/)?[a-z]*sh /;

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

/** Why a RUN's pipe can fail without failing the step, or undefined when it cannot (or it has no pipe). */
export function unguardedPipe(run: RunRow): Unguarded | undefined {
  return judgePipes(run)?.why;
}

/** Why a RUN's pipe can fail unseen, and the shell that runs that pipe (an inner `bash -c '…'` may). */
function judgePipes(run: RunRow): { why: Unguarded; shell: string } | undefined {
  const verdict = (why: Unguarded | undefined) => (why ? { why, shell: run.shell } : undefined);
  if (!hasPipe(run.command) && !innerShellWord.test(run.command)) return undefined;
  const options = shellOptions(run.shell);
  const isBash = /(?:^|[\s/])bash$/.test(run.shell.split(/\s+-/)[0]!.trim());
  const commands = topLevelCommands(run.command);
  for (const [index, { text, heredocs }] of commands.entries()) {
    const words = text.trim().split(/\s+/);
    if (words[0] === 'set') {
      applySetOptions(words.slice(1), options);
      continue;
    }
    const inner = hasPipe(text) ? undefined : (innerShellRun(text) ?? stdinShellRun(text, heredocs));
    if (inner) {
      // `bash -c 'make | tee log'` or `bash <<EOF`: the pipe runs in a shell of its own, with that shell's options.
      const innerVerdict = judgePipes(inner);
      if (innerVerdict) return innerVerdict;
      // Its script's failure is this command's exit code, which what follows may still swallow.
      const fate = hasPipe(inner.command) || innerShellWord.test(inner.command) ? whenThePipeFails(commands, index, options.errexit) : undefined;
      if (fate) return verdict(fate);
      continue;
    }
    if (!hasPipe(text)) continue;
    const next = commands[index + 1];
    // bash's idioms without pipefail read the first command's code from PIPESTATUS right after the pipe.
    const statusCheck = isBash && next !== undefined && next.before !== '||' ? pipeStatusCheck(next.text) : undefined;
    if (statusCheck === 'exits') continue;
    if (!options.pipefail && statusCheck === undefined) return verdict('no-pipefail');
    // A failure now shows as the pipe's exit code, or as the status check's: what follows decides whether it ends the step.
    const fate = whenThePipeFails(commands, statusCheck ? index + 1 : index, options.errexit);
    if (fate) return verdict(fate);
  }
  return undefined;
}

/** A shell started by name, whose -c script may hold a pipe of its own. */
const innerShellWord = /(?:^|[\s/;&|(])(?:ba|da|a|k|z|mk)?sh\s+[\s\S]*-[a-zA-Z]*c/;

/**
 * A command that runs a shell on a quoted script: `bash -o pipefail -c 'make | tee log'`,
 * through env or by path, with any words after the script (its $0, $1…). The script and
 * the shell that runs it, options and all, as a RUN row would give them; undefined for any
 * other command.
 */
export function innerShellRun(command: string): RunRow | undefined {
  const match = /^(?:(?:\S*\/)?env\s+)?((?:\S*\/)?(?:ba|da|a|k|z|mk)?sh)((?:\s+[-+][a-zA-Z]*o\s+\w+|\s+[-+][a-zA-Z]+)*?)\s+-([a-zA-Z]*)c([a-zA-Z]*)\s+(?:'([^']*)'|"((?:[^"\\]|\\[\s\S])*)")(?:\s+\S+)*\s*$/.exec(command.trim());
  if (!match) return undefined;
  const together = `${match[3]}${match[4]}`;
  const script = match[5] ?? match[6]!.replace(/\\(["\\$`\n])/g, '$1');
  return { shell: `${match[1]}${match[2]}${together ? ` -${together}` : ''}`, command: script };
}

/**
 * A shell that reads its script from a here-document (`bash -o pipefail <<EOF`, with no -c):
 * the document and the shell, as a RUN row would give them; undefined for any other command.
 */
export function stdinShellRun(command: string, heredocs: readonly string[] | undefined): RunRow | undefined {
  if (heredocs?.length !== 1) return undefined;
  const match = /^(?:(?:\S*\/)?env\s+)?((?:\S*\/)?(?:ba|da|a|k|z|mk)?sh)((?:\s+[-+][abd-zA-Z]*o\s+\w+|\s+[-+][abd-zA-Z]+)*?)\s*<<-?\s*(["']?)[A-Za-z_][\w.-]*\3$/.exec(command.trim());
  return match ? { shell: `${match[1]}${match[2]}`, command: heredocs[0]! } : undefined;
}

/** `${PIPESTATUS[0]}`, quoted or not, and `$PIPESTATUS` (bash reads an array without an index as its first element). */
const firstPipeStatus = String.raw`(?:"?\$\{PIPESTATUS\[0\]\}"?|"?\$PIPESTATUS\b"?)`;
const zeroComparison = String.raw`(?:-eq|==?)\s+"?0"?`;
const exitsWithStatus = new RegExp(String.raw`^exit\s+${firstPipeStatus}$`);
const failsWithStatus = [
  new RegExp(String.raw`^\(\s*exit\s+${firstPipeStatus}\s*\)$`),
  new RegExp(String.raw`^test\s+${firstPipeStatus}\s+${zeroComparison}$`),
  new RegExp(String.raw`^\[\s+${firstPipeStatus}\s+${zeroComparison}\s+\]$`),
  new RegExp(String.raw`^\[\[\s+${firstPipeStatus}\s+${zeroComparison}\s+\]\]$`),
  /^\(\(\s*(?:\$\{)?PIPESTATUS\[0\]\}?\s*==\s*0\s*\)\)$/,
];

/**
 * How a command right after a pipe, in bash, passes on the first command's exit code:
 * `exit ${PIPESTATUS[0]}` ends the shell with it; `test ${PIPESTATUS[0]} -eq 0`, its `[ ]`
 * and `[[ ]]` forms, `(( PIPESTATUS[0] == 0 ))` and `(exit ${PIPESTATUS[0]})` fail when it
 * failed, and what comes after them decides the step's fate. Undefined for anything else.
 */
export function pipeStatusCheck(command: string): 'exits' | 'fails' | undefined {
  const text = command.trim();
  if (exitsWithStatus.test(text)) return 'exits';
  return failsWithStatus.some((pattern) => pattern.test(text)) ? 'fails' : undefined;
}

/** Where a failed pipe's exit code goes: undefined when it ends the step with a failure. */
function whenThePipeFails(commands: readonly TopLevelCommand[], index: number, errexit: boolean): Exclude<Unguarded, 'no-pipefail'> | undefined {
  for (const next of commands.slice(index + 1)) {
    // `a | b && c`: c is skipped, the list still fails.
    if (next.before === '&&') continue;
    if (next.before === '||') return alwaysFails(next.text) ? undefined : 'swallowed';
    // `;`, a new line or `&`: the shell goes on unless errexit stops it.
    return errexit ? undefined : 'later-command';
  }
  return undefined;
}

/** `exit 1`, `false`, or a group whose last command is one of those: a handler that keeps the failure. */
function alwaysFails(handler: string): boolean {
  let text = handler.trim();
  const group = /^\(([\s\S]*)\)$/.exec(text) ?? /^\{([\s\S]*?);?\s*\}$/.exec(text);
  if (group) {
    const inner = topLevelCommands(group[1]!);
    text = inner.at(-1)?.text.trim() ?? '';
  }
  return /^(?:exit\s+(?:[1-9]\d*|"?\$\?"?)|false)$/.test(text.replace(/;\s*$/, '').trim());
}

interface ShellOptionState {
  pipefail: boolean;
  errexit: boolean;
}

/** pipefail and errexit as the shell's own options leave them: `-o pipefail`, `-eo pipefail`, `-e`, `+o pipefail`. */
export function shellOptions(shell: string): ShellOptionState {
  const options = { pipefail: false, errexit: false };
  const words = shell.trim().split(/\s+/);
  const program = words.findIndex((word) => /sh$/.test(word));
  applySetOptions(words.slice(program + 1), options);
  return options;
}

/** The options of `set` (or of a shell's command line): letters after - switch on, after + off; o takes a name. */
function applySetOptions(words: readonly string[], options: ShellOptionState): void {
  for (let index = 0; index < words.length; index++) {
    const flags = /^([-+])([a-zA-Z]+)$/.exec(words[index]!);
    if (!flags) break;
    const on = flags[1] === '-';
    for (const letter of flags[2]!) {
      if (letter === 'e') options.errexit = on;
      if (letter === 'o') {
        const name = words[++index];
        if (name === 'pipefail') options.pipefail = on;
        if (name === 'errexit') options.errexit = on;
      }
    }
  }
}

interface TopLevelCommand {
  /** The operator before it: `;` for the first, a new line or `&`. */
  before: '&&' | '||' | ';';
  text: string;
  /** The bodies of its here-documents (`cat <<EOF`), in order: data for the command, not commands. */
  heredocs?: string[];
}

/**
 * A command line split at its top-level list operators (`&&`, `||`, `;`, a new line, `&`),
 * pipes kept inside their command; quotes, escapes, `( … )`, `$( … )` and `{ …; }` groups
 * are not split, and a `#` comment ends at the line's end.
 */
export function topLevelCommands(command: string): TopLevelCommand[] {
  const commands: TopLevelCommand[] = [];
  let before: TopLevelCommand['before'] = ';';
  let current = '';
  let quote: string | undefined;
  let depth = 0;
  // Here-documents opened on the current line, each waiting for its body after the line ends.
  let opened: Array<{ delimiter: string; stripsTabs: boolean }> = [];
  let awaiting: Array<{ delimiter: string; stripsTabs: boolean; owner: TopLevelCommand }> = [];
  const push = (next: TopLevelCommand['before']) => {
    if (current.trim()) {
      const pushed: TopLevelCommand = { before, text: current.trim() };
      commands.push(pushed);
      awaiting.push(...opened.map((heredoc) => ({ ...heredoc, owner: pushed })));
    }
    opened = [];
    before = next;
    current = '';
  };
  for (let index = 0; index < command.length; index++) {
    const char = command[index]!;
    const rest = command.slice(index);
    if (!quote && char === '\n' && (opened.length || awaiting.length)) {
      // The line ends: the bodies of its here-documents follow, each up to its delimiter line.
      if (depth === 0) push(';');
      else awaiting.push(...opened.map((heredoc) => ({ ...heredoc, owner: { before: ';' as const, text: '' } })));
      opened = [];
      for (const heredoc of awaiting) {
        const body: string[] = [];
        while (index < command.length) {
          const end = command.indexOf('\n', index + 1);
          const line = command.slice(index + 1, end === -1 ? command.length : end);
          index = end === -1 ? command.length : end;
          if ((heredoc.stripsTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter) break;
          body.push(line);
        }
        (heredoc.owner.heredocs ??= []).push(body.join('\n'));
      }
      awaiting = [];
      // Back on the newline that ended the last body, so it separates commands as usual.
      index--;
      continue;
    }
    const heredocStart = !quote ? /^<<(-?)\s*(["']?)([A-Za-z_][\w.-]*)\2/.exec(rest) : null;
    if (heredocStart && command[index - 1] !== '<') {
      opened.push({ delimiter: heredocStart[3]!, stripsTabs: heredocStart[1] === '-' });
      current += heredocStart[0];
      index += heredocStart[0].length - 1;
      continue;
    }
    if (quote) {
      current += char;
      if (char === '\\' && quote === '"') current += command[++index] ?? '';
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '\\') {
      current += char + (command[++index] ?? '');
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      current += char;
      continue;
    }
    const atWordStart = index === 0 || /[\s;&|()]/.test(command[index - 1]!);
    if (char === '#' && atWordStart) {
      const newline = command.indexOf('\n', index);
      index = newline === -1 ? command.length : newline - 1;
      continue;
    }
    if (char === '(' || (char === '{' && atWordStart && /^\{\s/.test(rest))) depth++;
    if ((char === ')' || (char === '}' && atWordStart)) && depth > 0) depth--;
    if (depth === 0) {
      if (rest.startsWith('&&') || rest.startsWith('||')) {
        push(rest.startsWith('&&') ? '&&' : '||');
        index++;
        continue;
      }
      const previous = command[index - 1];
      const isBackground = char === '&' && previous !== '>' && previous !== '<' && previous !== '|' && command[index + 1] !== '>';
      if (char === ';' || char === '\n' || isBackground) {
        push(';');
        continue;
      }
    }
    current += char;
  }
  push(';');
  return commands;
}
