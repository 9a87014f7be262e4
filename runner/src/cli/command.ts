import type { ParseArgsConfig } from 'node:util';
import type { Progress } from '../progress.js';
import type { Paint } from './style.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command gets to work with; main.ts builds it once per run. */
export interface CommandContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  progress: Progress;
  paint: Paint;
  /** Aborted on the first Ctrl-C: stop, clean up (containers, temp files), then return. */
  signal: AbortSignal;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One `course` subcommand. Adding one means a file in commands/ and a line in main.ts. */
export interface Command {
  name: string;
  /** One line for `course --help`. */
  summary: string;
  /** The synopsis, e.g. "course up [--memory SIZE]". */
  usage: string;
  /** Option lines for `course <name> --help`. */
  optionHelp: string[];
  options: OptionSpec;
  /** The most positional arguments the command takes. */
  maxPositionals: number;
  /** Resolves to the exit code. Throws UserError for mistakes a person can fix. */
  run(args: ParsedArgs, context: CommandContext): Promise<number>;
}
