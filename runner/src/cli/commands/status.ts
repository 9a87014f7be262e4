import { formatSize } from '../../contract/index.js';
import { connectEngine } from '../../engine.js';
import { ExitCode } from '../../errors.js';
import { readSandboxStatus } from '../../sandbox/status.js';
import { formatBytes, resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

const privilegeModeText = {
  'least-privilege': 'least privilege (Docker\'s default capabilities plus SYS_ADMIN, NET_ADMIN and SYS_PTRACE; /proc/sys read-only but for networking; the inner engine refuses containers more privileged than Docker\'s defaults)',
  privileged: 'privileged (--privileged: this engine refused the narrower set)',
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the Docker engine, the sandbox and its images',
  usage: 'course status [--json]',
  optionHelp: ['--json  print the status as JSON'],
  options: { json: { type: 'boolean' } },
  maxPositionals: 0,
  async run({ values }, { stdout, paint }) {
    const engine = await connectEngine();
    const status = await readSandboxStatus(engine, resolveInstance());
    if (values.json) {
      stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return ExitCode.ok;
    }
    const { sandbox, nestedEngine } = status;
    const stateText = { running: paint.green('running'), stopped: paint.yellow('stopped'), absent: paint.yellow('not created') }[sandbox.state];
    const lines = [
      `Docker engine   ${status.engine.version} at ${status.engine.address}`,
      `Sandbox         ${stateText} (container ${sandbox.container})`,
    ];
    if (sandbox.privilegeMode) lines.push(`Privileges      ${privilegeModeText[sandbox.privilegeMode]}`);
    if (sandbox.limits) {
      lines.push(`Limits          ${formatBytes(sandbox.limits.memoryBytes)} memory, ${sandbox.limits.cpus} CPUs, ${sandbox.limits.pids} processes`);
    }
    lines.push(`Storage         volumes ${sandbox.volumes.join(', ')}`);
    if (sandbox.state === 'running') {
      const { health, processes, disk } = status;
      lines.push(`Health          ${health.word === 'healthy' ? paint.green(health.label) : paint.red(health.label)}`);
      for (const problem of health.word === 'healthy' ? [] : health.problems) lines.push(`                ${problem}`);
      if (health.advice) lines.push(`                ${health.advice}`);
      if (processes) {
        const count = (entry: { current: number; max: number } | undefined, what: string) => (entry ? `${what} ${entry.current} of ${entry.max}` : undefined);
        const parts = [count(processes.sandbox, 'sandbox'), count(processes.containers, 'containers'), count(processes.shells, 'shells')].filter(Boolean);
        lines.push(`Processes       ${parts.join(', ')}`);
      }
      if (disk) {
        const stored = disk.dockerDataBytes === null ? 'the sandbox stores an unknown amount' : `the sandbox stores ${formatSize(disk.dockerDataBytes)}`;
        lines.push(`Disk            ${stored}; ${formatSize(disk.hostFreeBytes)} of ${formatSize(disk.hostTotalBytes)} free on the disk that holds it`);
        lines.push(`                ${disk.capNote}`);
      }
      lines.push(
        nestedEngine.isAnswering
          ? `Inner engine    Docker ${nestedEngine.version}, socket ${nestedEngine.socket}`
          : `Inner engine    ${paint.red('not answering')} (run \`course up\`)`,
      );
      const images = nestedEngine.baseImages.map((image) => (image.isPresent ? image.name : paint.red(`${image.name} (missing)`)));
      lines.push(`Base images     ${images.join(', ')}`);
    } else {
      lines.push(sandbox.state === 'stopped' ? 'Run `course up` to start it.' : 'Run `course up` to create it.');
    }
    stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.ok;
  },
};
