import { connectEngine } from '../../engine.js';
import { ExitCode } from '../../errors.js';
import { stopSandbox } from '../../sandbox/sandbox.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

export const stopCommand: Command = {
  name: 'stop',
  summary: 'Stop the sandbox; your images, containers and files in it are kept',
  usage: 'course stop',
  optionHelp: [],
  options: {},
  maxPositionals: 0,
  async run(_args, { stdout, progress }) {
    const engine = await connectEngine();
    const { previousState } = await stopSandbox(engine, resolveInstance(), progress);
    const messages = {
      running: 'The sandbox is stopped. Everything in it is kept; `course up` starts it again.',
      stopped: 'The sandbox was already stopped.',
      absent: 'There is no sandbox to stop. `course up` creates one.',
    };
    stdout.write(`${messages[previousState]}\n`);
    return ExitCode.ok;
  },
};
