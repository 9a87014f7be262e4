import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { terminalsTool } from '../../runner/src/terminal/sandbox-processes.js';
import type { Instance } from '../../runner/src/settings.js';

const execFileAsync = promisify(execFile);

/**
 * The processes of course terminals in a sandbox, as the sandbox's own layerlab-terminals
 * sees them: each terminal's shell and all it started live in a cgroup of their own
 * (shells/<runner>/<session>), which no environment change at the prompt can leave.
 */
async function pidsOf(instance: Instance, script: string): Promise<string[]> {
  const { stdout } = await execFileAsync('docker', ['exec', instance.containerName, 'sh', '-c', `${script}; true`]);
  return stdout.split('\n').filter(Boolean);
}

/** The processes of every terminal opened by a runner whose tag starts with `prefix`. */
export function processesOfRunner(instance: Instance, prefix: string): Promise<string[]> {
  return pidsOf(instance, `for r in $(${terminalsTool} runners); do case "$r" in '${prefix}'*) ${terminalsTool} pids "$r" ;; esac; done`);
}

/** The processes of one terminal session. */
export function processesOfSession(instance: Instance, sessionId: string): Promise<string[]> {
  return pidsOf(instance, `for r in $(${terminalsTool} runners); do ${terminalsTool} pids "$r" '${sessionId}'; done`);
}
