import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { plural } from '../describe.js';
import { describeInstruction } from '../facts/history.js';
import path from 'node:path';
import type { CheckKind } from '../types.js';
import { withoutLaunchers } from './launchers.js';

const params = z
  .object({
    /**
     * Commands whose failure must fail their RUN even where no pipe hides it: `make || true`,
     * or `make; echo done` without errexit, swallows a failing make as surely as a pipe does.
     */
    commands: z.array(z.string().regex(/^[\w.+-]+$/, 'must be a command name such as make')).optional(),
  })
  .strict();

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
 * The commands the exercise names (`commands: ['make']`) are held to the same rule with no
 * pipe at all: `make || true`, `make; echo done` without errexit, or `(make || true) | tee
 * log` hide a failing make as well as a pipe does.
 */
export const pipeFailuresFailTheBuild: CheckKind<typeof params> = {
  summary: 'Every RUN that pipes one command into another fails when any of them fails',
  params,
  // The Dockerfile, for the build stages the image copies from: their RUNs are in no history row.
  probes: () => ({ dockerfile: true }),
  evaluate(facts, { commands = [] }) {
    const dockerfile = facts.probes.dockerfile?.outcome === 'read' ? facts.probes.dockerfile : undefined;
    const scripts = new Map((dockerfile?.scripts ?? []).map((script) => [script.path, script.text]));
    const rows = [
      ...facts.history.map((row) => ({ createdBy: row.createdBy, where: '' })),
      ...(dockerfile?.copiedStageRuns ?? []).map((run) => ({ createdBy: run.createdBy, where: `, line ${run.line} of ${dockerfile!.path}, in the build stage ${run.stage} the image copies from` })),
    ];
    const unguarded = rows.flatMap(({ createdBy, where }) => {
      const run = runRowOf(createdBy);
      const verdict = run === undefined ? undefined : judgePipes(run, { watched: commands, scripts });
      if (run === undefined || verdict === undefined) return [];
      const what = verdict.subject === 'pipe' ? 'pipe' : verdict.subject;
      const inShell =
        verdict.script !== undefined
          ? `${where}; the ${what} is in ${verdict.script} from your folder, run by ${verdict.shell}`
          : verdict.shell === run.shell
            ? where
            : `${where}; the ${what} runs in its own ${verdict.shell}`;
      return [{ run, why: verdict.why, subject: verdict.subject, where: inShell }];
    });
    const expected = commands.length ? `no RUN with a pipe runs without pipefail, and a failing ${commands.join(' or ')} fails its RUN` : 'no RUN with a pipe runs without pipefail';
    if (unguarded.length === 0) return { status: 'pass', expected, actual: `every pipe${commands.length ? ` and every ${commands.join(', ')}` : ''} fails with its commands` };
    const listing = (items: typeof unguarded) => items.map(({ run, where }) => `\`${describeInstruction(`RUN ${run.command}`)}\` (in ${run.shell}${where})`).join('; ');
    const pipes = unguarded.filter(({ subject }) => subject === 'pipe');
    const others = unguarded.filter(({ subject }) => subject !== 'pipe');
    const sentences = [
      ...(pipes.length ? [`${listing(pipes)}: a pipe reports only the exit code of its last command, so a command that fails before it does not stop the build.`] : []),
      ...[...new Set(others.map(({ subject }) => subject))].map(
        (command) => `${listing(others.filter(({ subject }) => subject === command))}: when ${command} fails, the step still succeeds, and the build goes on with what it did not make.`,
      ),
    ];
    const reasons = [...new Set(unguarded.filter(({ why }) => why !== 'no-pipefail').map(({ why, subject }) => `${why}:${subject === 'pipe' ? 'the pipe' : subject}`))];
    return {
      status: 'fail',
      expected,
      actual: pipes.length && !others.length ? `${plural(unguarded.length, 'RUN')} with a pipe and no pipefail` : `${plural(unguarded.length, 'RUN')} where a failure does not fail the step`,
      message: escapeLine(
        sentences.join(' ') +
          reasons
            .map((reason) => {
              const [why, subject] = reason.split(':') as [Exclude<Unguarded, 'no-pipefail'>, string];
              return ` ${swallowedSentences[why](subject)}`;
            })
            .join(''),
      ),
    };
  },
};

type Unguarded = 'no-pipefail' | 'swallowed' | 'later-command';

/** Why a failure did not end the step, said of what failed: "the pipe", or a command's name. */
const swallowedSentences: Record<Exclude<Unguarded, 'no-pipefail'>, (subject: string) => string> = {
  swallowed: () => 'An ending like `|| true` or `|| echo …` turns any failure into success, pipefail or not; end the handler with `exit 1` if you want one.',
  'later-command': (subject) =>
    `A command after \`;\` runs even when ${subject} failed, and its exit code becomes the step's: join the commands with \`&&\`, or start the shell with \`-e\` (\`set -e\`).`,
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
  const shell = /^((?:\S*\/)?env +)?(\S*sh)((?: +[-+][a-zA-Z]*[oO] +\w+| +--[a-z][\w-]*| +[-+][a-zA-Z]+)*?) +-([a-zA-Z]*)c([a-zA-Z]*) +([\s\S]*)$/.exec(body);
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

/** Why a RUN's pipe (or one of the watched commands) can fail without failing the step, or undefined when it cannot. */
export function unguardedPipe(run: RunRow, watched: readonly string[] = [], scripts: ReadonlyMap<string, string> = new Map()): Unguarded | undefined {
  return judgePipes(run, { watched, scripts })?.why;
}

/** What a judgement follows besides pipes: the commands the exercise watches, and the folder's scripts a RUN may run. */
interface Judging {
  watched: readonly string[];
  /** Scripts of the exercise folder by their path there (`build.sh`, `scripts/build.sh`), as text. */
  scripts: ReadonlyMap<string, string>;
}

interface Verdict {
  why: Unguarded;
  /** The shell that runs what failed unseen (an inner `bash -c '…'` may). */
  shell: string;
  /** What failed unseen: "pipe", or the watched command's name. */
  subject: string;
  /** The exercise folder's script it is in, when a RUN runs one. */
  script?: string;
}

/** Why a RUN's pipe, or a watched command in it, can fail unseen, and the shell that runs it. */
function judgePipes(run: RunRow, judging: Judging): Verdict | undefined {
  const mayRunScript = [...judging.scripts.keys()].some((name) => run.command.includes(path.posix.basename(name)));
  if (!hasPipe(run.command) && !innerShellWord.test(run.command) && !namesWatched(run.command, judging.watched) && !mayRunScript) return undefined;
  return judgeList(run.command, run.shell, shellOptions(run.shell), judging);
}

/**
 * Judges a list of commands run by `shell` with `options` (which its `set` commands change):
 * each pipe must fail with its commands, each watched command's failure must reach the list's
 * exit code, and what follows either must not turn that failure into success. A `( … )` or
 * `{ …; }` group is judged inside, then as one command whose failure its own exit code carries.
 */
function judgeList(list: string, shell: string, options: ShellOptionState, judging: Judging): Verdict | undefined {
  const { watched } = judging;
  const verdict = (why: Unguarded | undefined, subject: string) => (why ? { why, shell, subject } : undefined);
  const isBash = /(?:^|[\s/])bash$/.test(shell.split(/\s+-/)[0]!.trim());
  const commands = topLevelCommands(list);
  for (const [index, { text, heredocs }] of commands.entries()) {
    const words = text.trim().split(/\s+/);
    if (words[0] === 'set') {
      applySetOptions(words.slice(1), options);
      continue;
    }
    const compound = ifCompound(text);
    if (compound) {
      const judged = judgeIf(compound, shell, options, judging);
      if (judged && 'why' in judged) return judged;
      const fate = judged?.subject !== undefined && !judged.exits ? whenThePipeFails(commands, index, options.errexit) : undefined;
      if (fate) return verdict(fate, judged!.subject!);
      continue;
    }
    const group = groupBody(text);
    if (group !== undefined) {
      // A subshell gets a copy of the options; a { } group shares them.
      const inside = judgeList(group.body, shell, group.isSubshell ? { ...options } : options, judging);
      if (inside) return inside;
      const subject = hasPipe(group.body) ? 'pipe' : watched.find((name) => namesWatched(group.body, [name]));
      if (subject === undefined) continue;
      const fate = whenThePipeFails(commands, index, options.errexit);
      if (fate) return verdict(fate, subject);
      continue;
    }
    const inner = hasPipe(text) ? undefined : (innerShellRun(text) ?? stdinShellRun(text, heredocs));
    if (inner) {
      // `bash -c 'make | tee log'` or `bash <<EOF`: the pipe runs in a shell of its own, with that shell's options.
      const innerVerdict = judgePipes(inner, judging);
      if (innerVerdict) return innerVerdict;
      // Its script's failure is this command's exit code, which what follows may still swallow.
      const subject = hasPipe(inner.command) || innerShellWord.test(inner.command) ? 'pipe' : watched.find((name) => namesWatched(inner.command, [name]));
      const fate = subject !== undefined ? whenThePipeFails(commands, index, options.errexit) : undefined;
      if (fate) return verdict(fate, subject!);
      continue;
    }
    const script = hasPipe(text) ? undefined : scriptRun(text, judging.scripts);
    if (script) {
      // `./build.sh` or `sh build.sh`: the script's lists run in the shell that reads it.
      const inside = judgePipes(script.run, judging);
      if (inside) return { ...inside, script: inside.script ?? script.path };
      const subject = subjectOf(script.run.command, watched);
      const fate = subject !== undefined ? whenThePipeFails(commands, index, options.errexit) : undefined;
      if (fate) return verdict(fate, subject!);
      continue;
    }
    if (!hasPipe(text)) {
      const command = watchedCommand(text, watched);
      const fate = command !== undefined ? whenThePipeFails(commands, index, options.errexit) : undefined;
      if (fate) return verdict(fate, command!);
      continue;
    }
    // `(make || true) | tee log`: a group in the pipe can swallow the failure before the pipe sees it.
    for (const element of pipeElements(text)) {
      const elementGroup = groupBody(element);
      const inside = elementGroup ? judgeList(elementGroup.body, shell, { ...options }, judging) : undefined;
      if (inside) return inside;
    }
    const next = commands[index + 1];
    // bash's idioms without pipefail read the first command's code from PIPESTATUS right after the pipe.
    const statusCheck = isBash && next !== undefined && next.before !== '||' ? pipeStatusCheck(next.text) : undefined;
    if (statusCheck === 'exits') continue;
    if (!options.pipefail && statusCheck === undefined) return verdict('no-pipefail', 'pipe');
    // A failure now shows as the pipe's exit code, or as the status check's: what follows decides whether it ends the step.
    const fate = whenThePipeFails(commands, statusCheck ? index + 1 : index, options.errexit);
    if (fate) return verdict(fate, 'pipe');
  }
  return undefined;
}

/**
 * A command that runs one of the exercise folder's scripts (`./build.sh`, `/src/build.sh`,
 * `sh -e build.sh`, `bash scripts/build.sh`), found by its path's last names: the script as a
 * RUN row would give it, run by the shell named before it, or else by its #! line (/bin/sh
 * without one). Undefined for any other command.
 */
export function scriptRun(text: string, scripts: ReadonlyMap<string, string>): { path: string; run: RunRow } | undefined {
  if (!scripts.size) return undefined;
  let words = text.trim().split(/\s+/);
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
  words = withoutLaunchers(words);
  if (words[0] === 'exec' || words[0] === 'time') words.shift();
  let shell: string | undefined;
  if (/^(?:\S*\/)?(?:ba|da|a|k|z|mk)?sh$/.test(words[0] ?? '')) {
    const options: string[] = [];
    let at = 1;
    for (; at < words.length && /^[-+]/.test(words[at]!); at++) {
      // A -c script is an inner shell's (innerShellRun), not a file.
      if (/^-[a-zA-Z]*c/.test(words[at]!)) return undefined;
      options.push(words[at]!);
      if (/^[-+][a-zA-Z]*[oO]$/.test(words[at]!) && at + 1 < words.length) options.push(words[++at]!);
    }
    shell = [words[0]!, ...options].join(' ');
    words = words.slice(at);
  } else if (!words[0]?.includes('/')) return undefined;
  const named = (words[0] ?? '').replace(/^\.\//, '');
  if (!named) return undefined;
  const found = [...scripts.keys()].find((candidate) => candidate === named || named.endsWith(`/${candidate}`) || candidate.endsWith(`/${named}`));
  if (found === undefined) return undefined;
  const content = scripts.get(found)!;
  const shebang = /^#!\s*(\S[^\n]*)/.exec(content)?.[1]?.trim();
  return { path: found, run: { shell: shell ?? shebang ?? '/bin/sh', command: shebang ? content.slice(content.indexOf('\n') + 1) : content } };
}

/** What may fail unseen in a list: "pipe", a watched command's name, or undefined for neither. */
function subjectOf(list: string, watched: readonly string[]): string | undefined {
  return hasPipe(list) || innerShellWord.test(list) ? 'pipe' : watched.find((name) => namesWatched(list, [name]));
}

interface IfCompound {
  clauses: Array<{ condition: string; body: string }>;
  elseBody?: string;
}

/** The clauses of `if C; then B; [elif C; then B;]… [else B;] fi`, or undefined for any other command. */
export function ifCompound(text: string): IfCompound | undefined {
  const match = /^if\s([\s\S]*[\s;])fi(?:\s*\d*[<>]&?\s*[^\s()]+)*$/.exec(text.trim());
  if (!match) return undefined;
  const clauses: IfCompound['clauses'] = [];
  let elseBody: string[] | undefined;
  let condition: string[] = [];
  let body: string[] | undefined;
  for (const { before, text: part } of topLevelCommands(match[1]!)) {
    const keyword = /^(then|elif|else)(?=$|\s)\s*([\s\S]*)$/.exec(part);
    if (keyword?.[1] === 'then') body = [];
    else if (keyword) {
      if (body === undefined) return undefined;
      clauses.push({ condition: condition.join(''), body: body.join('') });
      condition = [];
      body = undefined;
      if (keyword[1] === 'else') elseBody = [];
    }
    const piece = keyword ? keyword[2]! : part;
    if (!piece.trim()) continue;
    const into = elseBody ?? body ?? condition;
    into.push(`${into.length ? (before === ';' ? '; ' : ` ${before} `) : ''}${piece}`);
  }
  if (elseBody === undefined) {
    if (body === undefined) return undefined;
    clauses.push({ condition: condition.join(''), body: body.join('') });
  }
  return { clauses, ...(elseBody ? { elseBody: elseBody.join('') } : {}) };
}

/**
 * An `if` judged: a pipe or watched command in a condition has its failure taken by the
 * branch that runs when it fails (`else`, or `then` after `!`), which must fail in its turn
 * (errexit does not apply in a condition); the branches are judged as lists. Returns a
 * verdict, or what may still fail unseen through the compound's exit code and whether every
 * such failure ends the shell (`exit 1`) instead.
 */
function judgeIf(compound: IfCompound, shell: string, options: ShellOptionState, judging: Judging): Verdict | { subject?: string; exits: boolean } | undefined {
  const { watched } = judging;
  let subject: string | undefined;
  let exits = true;
  for (const [index, { condition, body }] of compound.clauses.entries()) {
    const negated = /^!\s/.test(condition.trim());
    const tested = negated ? condition.trim().slice(1) : condition;
    const inside = judgeList(tested, shell, { ...options, errexit: false }, judging);
    if (inside) return inside;
    const failing = subjectOf(tested, watched);
    if (failing !== undefined) {
      // When the condition fails, `then` runs after `!`; otherwise the next branch, which must be the else.
      const handler = negated ? body : index === compound.clauses.length - 1 ? compound.elseBody : undefined;
      const kept = handler === undefined ? undefined : branchFails(handler, !negated);
      if (!kept) return { why: 'swallowed', shell, subject: failing };
      subject = failing;
      exits &&= kept === 'exits';
    }
  }
  for (const body of [...compound.clauses.map((clause) => clause.body), ...(compound.elseBody !== undefined ? [compound.elseBody] : [])]) {
    const inside = judgeList(body, shell, { ...options }, judging);
    if (inside) return inside;
    const failing = subjectOf(body, watched);
    if (failing !== undefined) {
      subject ??= failing;
      exits = false;
    }
  }
  return { ...(subject !== undefined ? { subject } : {}), exits };
}

/** How a branch ends when it runs: 'exits' with a failure (`exit 1`), 'fails' (`false` last), or undefined. */
function branchFails(body: string, keepsStatus: boolean): 'exits' | 'fails' | undefined {
  const commands = topLevelCommands(body);
  const last = commands.at(-1)?.text.trim() ?? '';
  if (/^exit\s+[1-9]\d*$/.test(last)) return 'exits';
  // `exit` and `exit $?` keep the failed condition's status only as the branch's first command.
  if (keepsStatus && commands.length === 1 && /^exit(?:\s+"?\$\?"?)?$/.test(last)) return 'exits';
  return last === 'false' ? 'fails' : undefined;
}

/** Words a command may start with that set something up and run the rest: `VAR=1 make`, `time make`, `exec make`. */
const commandPrefixes = new Set(['time', 'exec', 'command']);

/** The watched command a simple command runs (`make`, `/usr/bin/make -C src`, `env CC=gcc make`), or undefined. */
export function watchedCommand(text: string, watched: readonly string[]): string | undefined {
  if (!watched.length) return undefined;
  let words = text.trim().split(/\s+/);
  for (;;) {
    const before = words.length;
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
    words = withoutLaunchers(words);
    while (words.length && commandPrefixes.has(words[0]!)) words.shift();
    if (words.length === before) break;
  }
  const name = words[0]?.split('/').at(-1);
  if (name === 'make' && onlyCleans(words.slice(1))) return undefined;
  return name !== undefined && watched.includes(name) ? name : undefined;
}

/** make's targets that only remove what an earlier build made: `make clean || true` before a build leaves nothing unbuilt when it fails. */
const cleaningTargets = new Set(['clean', 'distclean', 'mostlyclean', 'maintainer-clean', 'realclean']);
/** make's options that take the next word as their value (`-j` and `-l` only when it is a number). */
const makeOptionsWithValue = new Set(['-C', '-f', '-I', '-o', '-W', '--directory', '--file', '--makefile', '--include-dir', '--old-file', '--what-if']);

/** Whether make's arguments name cleaning targets and nothing else to build (options, variables and redirections aside). */
export function onlyCleans(args: readonly string[]): boolean {
  const targets: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const word = args[index]!;
    if (/^\d*(?:[<>]|&>)/.test(word)) {
      // A redirection: `> log` takes the next word, `>log` and `2>&1` do not.
      if (/^\d*(?:>>?|<|&>)$/.test(word)) index++;
    } else if (makeOptionsWithValue.has(word) || (/^-[jl]$/.test(word) && /^\d+$/.test(args[index + 1] ?? ''))) {
      index++;
    } else if (!word.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      targets.push(word);
    }
  }
  return targets.length > 0 && targets.every((target) => cleaningTargets.has(target));
}

/** Whether a watched command's name appears as a word anywhere in the text (a quick test before the real one). */
function namesWatched(text: string, watched: readonly string[]): boolean {
  return watched.some((name) => new RegExp(String.raw`(?:^|[\s/;&|(\`{])${name.replace(/[.+]/g, '\\$&')}(?:$|[\s;&|)}])`).test(text));
}

/** The body of a command that is one `( … )` or `{ …; }` group (redirections after it allowed), or undefined. */
export function groupBody(text: string): { body: string; isSubshell: boolean } | undefined {
  const trimmed = text.trim().replace(/(?:\s*\d*[<>]&?\s*[^\s()]+)+$/, '');
  const subshell = /^\(([\s\S]*)\)$/.exec(trimmed);
  // A command substitution or arithmetic `(( … ))` is no group.
  if (subshell && !trimmed.startsWith('((') && closingParen(trimmed, 0) === trimmed.length - 1) return { body: subshell[1]!, isSubshell: true };
  const braces = /^\{\s([\s\S]*?);?\s*\}$/.exec(trimmed);
  return braces && closingParen(trimmed, 0, '{', '}') === trimmed.length - 1 ? { body: braces[1]!, isSubshell: false } : undefined;
}

/** The index of the ")" (or other closer) that closes the "(" at `open`, quotes skipped; -1 when none does. */
function closingParen(text: string, open: number, opener = '(', closer = ')'): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = open; index < text.length; index++) {
    const char = text[index]!;
    if (quote) {
      if (char === '\\' && quote === '"') index++;
      else if (char === quote) quote = undefined;
    } else if (char === '\\') index++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === opener) depth++;
    else if (char === closer && --depth === 0) return index;
  }
  return -1;
}

/** The commands of a pipe, split at each top-level `|` or `|&` (not `||`), quotes and groups kept whole. */
export function pipeElements(text: string): string[] {
  const elements: string[] = [];
  let current = '';
  let quote: string | undefined;
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote) {
      current += char;
      if (char === '\\' && quote === '"') current += text[++index] ?? '';
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '\\') {
      current += char + (text[++index] ?? '');
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    if (char === '(' || char === '{') depth++;
    if ((char === ')' || char === '}') && depth > 0) depth--;
    if (char === '|' && depth === 0) {
      if (text[index + 1] === '|') {
        current += '||';
        index++;
        continue;
      }
      elements.push(current.trim());
      current = '';
      if (text[index + 1] === '&') index++;
      continue;
    }
    current += char;
  }
  elements.push(current.trim());
  return elements;
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
  const match = /^(?:(?:\S*\/)?env\s+)?((?:\S*\/)?(?:ba|da|a|k|z|mk)?sh)((?:\s+[-+][a-zA-Z]*[oO]\s+\w+|\s+--[a-z][\w-]*|\s+[-+][a-zA-Z]+)*?)\s+-([a-zA-Z]*)c([a-zA-Z]*)\s+(?:'([^']*)'|"((?:[^"\\]|\\[\s\S])*)")(?:\s+\S+)*\s*$/.exec(command.trim());
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
  const match = /^(?:(?:\S*\/)?env\s+)?((?:\S*\/)?(?:ba|da|a|k|z|mk)?sh)((?:\s+[-+][abd-zA-Z]*[oO]\s+\w+|\s+--[a-z][\w-]*|\s+[-+][abd-zA-Z]+)*?)\s*<<-?\s*(["']?)[A-Za-z_][\w.-]*\3$/.exec(command.trim());
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
  // A bare `exit` keeps the status of the command before it: the failure, when nothing ran in between.
  let isFirst = true;
  const group = /^\(([\s\S]*)\)$/.exec(text) ?? /^\{([\s\S]*?);?\s*\}$/.exec(text);
  if (group) {
    const inner = topLevelCommands(group[1]!);
    isFirst = inner.length === 1;
    text = inner.at(-1)?.text.trim() ?? '';
  }
  text = text.replace(/;\s*$/, '').trim();
  return /^(?:exit\s+(?:[1-9]\d*|"?\$\?"?)|false)$/.test(text) || (isFirst && text === 'exit');
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
  // bash's long options (--noprofile, --norc, as CI runners start it) change neither.
  applySetOptions(words.slice(program + 1).filter((word) => !/^--[a-z]/.test(word)), options);
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
      // -O takes a shopt name (bash's command line), which sets neither option.
      if (letter === 'O') index++;
      if (letter === 'o') {
        const name = words[++index];
        if (name === 'pipefail') options.pipefail = on;
        if (name === 'errexit') options.errexit = on;
      }
    }
  }
}

/** Whether a word after `before` (the command so far) stands where a command starts, so a reserved word counts. */
function isCommandPosition(before: string): boolean {
  const text = before.trimEnd();
  return text === '' || /[;&|(\n]$/.test(text) || /(?:^|[\s;&|(])(?:then|do|else|elif|if|while|until|!|\{)$/.test(text);
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
  // if … fi, case … esac and loops … done: one command, their ; and new lines inside them.
  let compound = 0;
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
      if (depth === 0 && compound === 0) push(';');
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
    if (depth === 0 && atWordStart && isCommandPosition(current)) {
      const word = /^(if|case|for|while|until|select|fi|esac|done)(?=$|[\s;&|()])/.exec(rest)?.[1];
      if (word === 'fi' || word === 'esac' || word === 'done') compound = Math.max(0, compound - 1);
      else if (word) compound++;
    }
    if (char === '(' || (char === '{' && atWordStart && /^\{\s/.test(rest))) depth++;
    if ((char === ')' || (char === '}' && atWordStart)) && depth > 0) depth--;
    if (depth === 0 && compound === 0) {
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
