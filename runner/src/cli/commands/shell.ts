import { spawn } from 'node:child_process';
import { connectEngine } from '../../engine.js';
import { environmentError } from '../../errors.js';
import { learnerShellCommand, noDetachKeys } from '../../sandbox/learner-shell.js';
import { inspectContainer } from '../../sandbox/sandbox.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

export const shellCommand: Command = {
  name: 'shell',
  summary: 'Open a shell inside the sandbox',
  usage: 'course shell',
  optionHelp: [],
  options: {},
  maxPositionals: 0,
  async run(_args, { stdin }) {
    const instance = resolveInstance();
    const engine = await connectEngine();
    const container = await inspectContainer(engine, instance);
    if (!container?.State.Running) {
      throw environmentError('The sandbox is not running.', 'Run `course up` to start it, then `course shell` again.');
    }
    // The docker CLI already does what an interactive terminal needs (raw mode, resizes,
    // signals), and it honours DOCKER_HOST as we do. Without a terminal, stdin is still piped,
    // so `echo 'docker ps' | course shell` works.
    const flags = stdin.isTTY ? ['-it', '-e', `TERM=${process.env.TERM ?? 'xterm-256color'}`] : ['-i'];
    const child = spawn('docker', ['exec', ...flags, ...noDetachKeys, '-w', '/root', instance.containerName, ...learnerShellCommand()], { stdio: 'inherit' });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? environmentError('`course shell` needs the docker command-line client, and it is not on PATH.', 'Install it (Debian: `apt-get install docker-cli` or docker.io), then try again.')
            : error,
        ),
      );
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
    });
  },
};
