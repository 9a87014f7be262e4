import { createInterface } from 'node:readline/promises';
import { connectEngine } from '../../engine.js';
import { ExitCode, usageError } from '../../errors.js';
import { resetSandbox } from '../../sandbox/sandbox.js';
import { resolveInstance } from '../../settings.js';
import type { Command, CommandContext } from '../command.js';

export const resetCommand: Command = {
  name: 'reset',
  summary: 'Delete the sandbox and everything in it, to start over',
  usage: 'course reset [--yes]',
  optionHelp: ['--yes  do not ask first (needed when there is no terminal to ask on)'],
  options: { yes: { type: 'boolean' } },
  maxPositionals: 0,
  async run({ values }, context) {
    const instance = resolveInstance();
    const engine = await connectEngine();
    if (!values.yes && !(await confirm(context, instance.containerName))) {
      context.stdout.write('Nothing was deleted.\n');
      return ExitCode.ok;
    }
    const result = await resetSandbox(engine, instance, context.progress);
    context.stdout.write(
      result.removedContainer || result.removedVolumes.length
        ? 'The sandbox and everything in it are deleted. `course up` creates a fresh one.\n'
        : 'There was no sandbox to delete.\n',
    );
    return ExitCode.ok;
  },
};

async function confirm({ stdin, stderr }: CommandContext, containerName: string): Promise<boolean> {
  if (!stdin.isTTY) {
    throw usageError('`course reset` deletes the sandbox and needs a yes, but there is no terminal to ask on.', 'Run `course reset --yes` to delete it without asking.');
  }
  const prompt = createInterface({ input: stdin, output: stderr });
  try {
    const answer = await prompt.question(
      `This deletes the sandbox (${containerName}) with every image, container and file you made in it.\nType "yes" to delete it: `,
    );
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    prompt.close();
  }
}
