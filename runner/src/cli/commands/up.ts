import { connectEngine } from '../../engine.js';
import { ExitCode } from '../../errors.js';
import { bringUpSandbox } from '../../sandbox/sandbox.js';
import { formatBytes, parseCpus, parseMemory, parsePids, resolveInstance, type SandboxLimits } from '../../settings.js';
import type { Command } from '../command.js';

export const upCommand: Command = {
  name: 'up',
  summary: 'Prepare and start your sandbox (a Docker host of your own); safe to run again',
  usage: 'course up [--memory SIZE] [--cpus N] [--pids N] [--verbose]',
  optionHelp: [
    '--memory SIZE  memory limit of the sandbox, e.g. 4g (default: 4g, at most half of this machine)',
    '--cpus N       CPUs the sandbox may use (default: 2, at most what this machine has)',
    '--pids N       process limit of the sandbox (default: 4096)',
    '--verbose      print every line of the image builds',
  ],
  options: {
    memory: { type: 'string' },
    cpus: { type: 'string' },
    pids: { type: 'string' },
    verbose: { type: 'boolean' },
  },
  maxPositionals: 0,
  async run({ values }, { stdout, progress, paint, signal }) {
    const limits: Partial<SandboxLimits> = {
      ...(typeof values.memory === 'string' ? { memoryBytes: parseMemory(values.memory) } : {}),
      ...(typeof values.cpus === 'string' ? { cpus: parseCpus(values.cpus) } : {}),
      ...(typeof values.pids === 'string' ? { pids: parsePids(values.pids) } : {}),
    };
    const instance = resolveInstance();
    const engine = await connectEngine();
    const result = await bringUpSandbox(engine, instance, progress, { limits, signal });
    stdout.write(
      [
        `${paint.green('The sandbox is up.')} Docker ${result.nestedEngineVersion} inside, ` +
          `${formatBytes(result.limits.memoryBytes)} memory, ${result.limits.cpus} CPUs, ${result.limits.pids} processes.`,
        `Open a shell in it with ${paint.bold('course shell')}.`,
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  },
};
