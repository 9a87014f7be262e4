import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine.js';
import type { Instance } from '../settings.js';
import { runSandboxScript } from '../sandbox/sandbox-script.js';

/**
 * Every terminal's processes in the sandbox carry two environment variables, inherited by
 * whatever the shell starts: the session they belong to, and the runner that opened it. A
 * session's processes can then be ended together, and a starting runner can find what a
 * runner that died (kill -9, a crash, a closed laptop lid) left behind.
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

/**
 * Sends SIGHUP (what a closed terminal sends) to the processes `selectPids` puts in $pids,
 * waits up to a second for them to go, then SIGKILLs the rest.
 */
function endProcessesScript(selectPids: string): string {
  return [
    selectPids,
    '[ -z "$pids" ] && exit 0',
    'kill -HUP $pids 2>/dev/null',
    'for i in 1 2 3 4 5 6 7 8 9 10; do',
    '  alive=""; for p in $pids; do [ -d /proc/$p ] && alive="$alive $p"; done',
    '  [ -z "$alive" ] && exit 0',
    '  sleep 0.1',
    'done',
    'kill -KILL $alive 2>/dev/null; exit 0',
  ].join('\n');
}

/** Ends every process of one terminal session. */
export async function endSessionProcesses(engine: Engine, instance: Instance, sessionId: string): Promise<void> {
  await runSandboxScript(engine, instance, endProcessesScript(`pids=$(grep -lxzs '${sessionEnvName}=${sessionId}' /proc/[0-9]*/environ | cut -d/ -f3)`));
}

export interface TerminalProcess {
  pid: number;
  /** The runner that opened its terminal; undefined for a terminal of a runner older than tags. */
  runnerTag: string | undefined;
}

/** Every process in the sandbox that belongs to a course terminal, with its runner's tag. */
export async function listTerminalProcesses(engine: Engine, instance: Instance): Promise<TerminalProcess[]> {
  // One line per process: "<pid> <runner tag or ->". grep -z reads the NUL-separated
  // environment; a process that ends meanwhile is skipped (-s).
  const script = [
    `for f in $(grep -lzs '^${sessionEnvName}=' /proc/[0-9]*/environ); do`,
    '  p=${f#/proc/}; p=${p%/environ}',
    `  tag=$(grep -azs '^${runnerEnvName}=' "$f" | tr -d '\\0'); tag=\${tag#${runnerEnvName}=}`,
    '  [ -d /proc/$p ] && echo "$p ${tag:--}"',
    'done; exit 0',
  ].join('\n');
  const output = await runSandboxScript(engine, instance, script);
  return output
    .split('\n')
    .map((line) => /^(\d+) (\S+)$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => ({ pid: Number(match[1]), runnerTag: match[2] === '-' ? undefined : match[2] }));
}

/**
 * Ends the terminals' processes whose runner is gone: shells and everything they started
 * that a runner killed with -9 (or crashed) could not end itself. Resolves with how many
 * processes were ended.
 */
export async function reapOrphanedTerminals(engine: Engine, instance: Instance): Promise<number> {
  const orphans = (await listTerminalProcesses(engine, instance)).filter((process) => process.runnerTag === undefined || !isRunnerAlive(process.runnerTag));
  if (orphans.length === 0) return 0;
  // The ids are checked again for the marker, so an id reused meanwhile is never hit.
  const ids = orphans.map((orphan) => orphan.pid).join(' ');
  await runSandboxScript(engine, instance, endProcessesScript(`pids=""; for p in ${ids}; do grep -qzs '^${sessionEnvName}=' /proc/$p/environ && pids="$pids $p"; done`));
  return orphans.length;
}
