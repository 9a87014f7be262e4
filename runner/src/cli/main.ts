import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, UserError, usageError, type ExitCodeValue } from '../errors.js';
import type { Command, CommandContext, ParsedArgs } from './command.js';
import { checkCommand } from './commands/check.js';
import { classCommand } from './commands/class.js';
import { compareCommand, resetExerciseCommand } from './commands/exercise-folder.js';
import { inspectCommand } from './commands/inspect.js';
import { joinCommand, leaveCommand } from './commands/join.js';
import { listCommand } from './commands/list.js';
import { resetCommand } from './commands/reset.js';
import { shellCommand } from './commands/shell.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { upCommand } from './commands/up.js';
import { paintFor } from './style.js';
import { terminalProgress } from './terminal-progress.js';

export const commands: readonly Command[] = [startCommand, listCommand, upCommand, statusCommand, checkCommand, inspectCommand, shellCommand, resetExerciseCommand, compareCommand, stopCommand, resetCommand, joinCommand, classCommand, leaveCommand];

/** What shells report for a process stopped by Ctrl-C (128 + SIGINT). */
export const interruptedExitCode = 130;

const exitCodeHelp = [
  'Exit codes:',
  '  0   success',
  '  1   checks ran and at least one failed',
  '  2   usage: an unknown command, flag or exercise',
  '  3   environment: Docker not answering, a missing tool, a port taken',
  '  70  internal error in Layerlab (please report it)',
];

function mainHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'course: a hands-on course about Docker images, on your own machine.',
    '',
    'Usage: course <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options for every command:',
    '  -h, --help   show help for the command',
    '  --debug      on an internal error, print its stack trace',
    '',
    'Environment:',
    '  DOCKER_HOST        the Docker engine to use (default unix:///var/run/docker.sock)',
    '  LAYERLAB_DATA_DIR  where Layerlab keeps its files (default ~/.local/share/layerlab)',
    '  LAYERLAB_INSTANCE  name of the sandbox to use (default layerlab; the tests use their own)',
    '  LAYERLAB_SITE_DIR  serve a site built elsewhere (default: site/dist in this folder)',
    '  NO_COLOR           set to turn colour off',
    '',
    ...exitCodeHelp,
    '',
    'Run `course <command> --help` for the options of one command.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `${command.summary}`,
    '',
    `Usage: ${command.usage}`,
    ...(command.optionHelp.length ? ['', 'Options:', ...command.optionHelp.map((line) => `  ${line}`)] : []),
    '  -h, --help   show this help',
  ].join('\n');
}

/** Runs one `course` invocation and resolves to its exit code. Never exits the process. */
export async function runCli(
  argv: readonly string[],
  io: Pick<CommandContext, 'stdout' | 'stderr' | 'stdin'>,
  signal: AbortSignal = new AbortController().signal,
): Promise<ExitCodeValue | number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((arg) => arg !== '--debug');
  const paint = paintFor(io.stderr);
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      const topic = name === 'help' ? commands.find((command) => command.name === rest[0]) : undefined;
      io.stdout.write(`${topic ? commandHelp(topic) : mainHelp()}\n`);
      return ExitCode.ok;
    }
    if (name === '--version' || name === '-v') {
      io.stdout.write(`${await packageVersion()}\n`);
      return ExitCode.ok;
    }
    const command = commands.find((candidate) => candidate.name === name);
    if (!command) {
      throw usageError(
        name.startsWith('-') ? `"${name}" must come after a command.` : `There is no command "${name}".`,
        `Run \`course --help\` to see the commands (${commands.map((candidate) => candidate.name).join(', ')}).`,
      );
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return ExitCode.ok;
    }
    const parsed = parseCommandArgs(command, rest);
    const verbose = parsed.values.verbose === true;
    return await command.run(parsed, { ...io, paint, signal, progress: terminalProgress(io.stderr, verbose) });
  } catch (error) {
    if (signal.aborted) {
      io.stderr.write('Stopped. Nothing was left half-done; run the command again to finish.\n');
      return interruptedExitCode;
    }
    if (error instanceof UserError) {
      io.stderr.write(`${paint.red('error:')} ${error.message}\n  ${error.nextStep}\n`);
      return error.exitCode;
    }
    const report = writeCrashReport(error);
    io.stderr.write(
      `${paint.red('internal error:')} ${error instanceof Error ? error.message : String(error)}\n` +
        `  This is a bug in Layerlab. The details are in ${report}; please include that file when you report it.\n`,
    );
    if (debug && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return ExitCode.internal;
  }
}

function parseCommandArgs(command: Command, args: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
    if (positionals.length > command.maxPositionals) {
      throw usageError(`Too many arguments: ${positionals.slice(command.maxPositionals).join(' ')}.`, `Usage: ${command.usage}`);
    }
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    if (error instanceof UserError) throw error;
    // node:util parseArgs errors say which flag in their first sentence; the rest suggests
    // Node-level workarounds ("To specify a positional argument…") that do not help here.
    const firstLine = (error as Error).message.split('\n')[0]!;
    const ambiguous = firstLine.match(/^Option '(--[\w-]+)' argument is ambiguous/);
    if (ambiguous) {
      // `--cpus -2`: the value starts with a dash, so it reads like another flag.
      throw usageError(`${ambiguous[1]} needs a value, and the word after it starts with "-".`, `If the value really starts with "-", write ${ambiguous[1]}=VALUE. Usage: ${command.usage}`);
    }
    const message = firstLine.replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
    throw usageError(`${message}.`, `Usage: ${command.usage} (see \`course ${command.name} --help\`)`);
  }
}

async function packageVersion(): Promise<string> {
  const { projectRoot } = await import('../project-root.js');
  const { readFile } = await import('node:fs/promises');
  return JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')).version;
}

function writeCrashReport(error: unknown): string {
  const file = path.join(os.tmpdir(), `layerlab-crash-${Date.now()}.txt`);
  const details = error instanceof Error ? `${error.stack}\n${JSON.stringify(error, null, 2)}` : String(error);
  try {
    writeFileSync(file, `course ${process.argv.slice(2).join(' ')}\nnode ${process.version}\n\n${details}\n`);
    return file;
  } catch {
    return '(could not write a report file; run again with --debug)';
  }
}
