import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine.js';
import type { Instance } from '../settings.js';
import { runSandboxScript } from '../sandbox/sandbox-script.js';

/**
 * Each terminal's shell starts with two environment variables: the session it belongs to,
 * and the runner that opened it. Its wrapper (layerlab-learner) turns them into a cgroup of
 * its own, shells/<runner>/<session>, before the learner types anything, and removes them
 * from the environment: the cgroup, which a learner's shell cannot leave, is what finds a
 * session's processes, and what a starting runner finds of a runner that died (kill -9, a
 * crash, a closed laptop lid).
 */
export const sessionEnvName = 'LAYERLAB_TERMINAL';
export const runnerEnvName = 'LAYERLAB_RUNNER';

/**
 * This runner's tag: its process id on this machine (so a later runner can tell whether it
 * still lives) and a random part (so a reused process id is not taken for this runner).
 */
export const ownRunnerTag = `${process.pid}.${randomBytes(6).toString('hex')}`;

/** Whether the runner that wrote `tag` still runs on this machine. */
export function isRunnerAlive(tag: string): boolean {
  if (tag === ownRunnerTag) return true;
  const pid = Number(/^(\d+)\./.exec(tag)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: a process of another user has that id; it may be a runner, so leave its shells.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** In the sandbox image (runner/images/sandbox/terminals.sh). */
export const terminalsTool = '/usr/local/sbin/layerlab-terminals';

/** How many processes an end reported; the tool prints just that number. */
function endedCount(output: string): number {
  const count = Number(output.trim());
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`layerlab-terminals answered "${output.trim().slice(0, 80)}" instead of a count`);
  return count;
}

/**
 * Ends every process of one of this runner's terminal sessions: everything in its cgroup,
 * whatever the learner did to its environment. Resolves with how many processes ended.
 */
export async function endSessionProcesses(engine: Engine, instance: Instance, sessionId: string): Promise<number> {
  return endedCount(await runSandboxScript(engine, instance, `exec ${terminalsTool} end '${ownRunnerTag}' '${sessionId}'`));
}

/** The tags of the runners that have terminals in the sandbox (live or not). */
export async function listTerminalRunners(engine: Engine, instance: Instance): Promise<string[]> {
  const output = await runSandboxScript(engine, instance, `exec ${terminalsTool} runners`);
  return output.split('\n').map((line) => line.trim()).filter((line) => /^[0-9a-f.]+$/.test(line));
}

/**
 * Ends the terminals whose runner is gone: shells and everything they started that a
 * runner killed with -9 (or crashed) could not end itself. Resolves with how many
 * processes were actually ended (a process that ended by itself meanwhile is not counted).
 */
export async function reapOrphanedTerminals(engine: Engine, instance: Instance): Promise<number> {
  let ended = 0;
  for (const tag of await listTerminalRunners(engine, instance)) {
    if (isRunnerAlive(tag)) continue;
    ended += endedCount(await runSandboxScript(engine, instance, `exec ${terminalsTool} end '${tag}'`));
  }
  return ended;
}
