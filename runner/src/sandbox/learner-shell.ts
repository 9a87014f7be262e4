import { learnerDroppedCapabilities } from './host-config.js';

/**
 * The learner's login shell in the sandbox, as `docker exec` arguments (after the flags,
 * before nothing): bash under a bounding set without the capabilities only the engine
 * needs (host-config.ts says which and why), so neither the shell nor anything it starts
 * can ever hold them. Everything the learner does with Docker still works: it goes through
 * the nested engine's socket.
 */
export function learnerShellCommand(): string[] {
  return asLearner(['bash', '-l']);
}

/** Any command as the learner's shells run it (for tests that act as a learner would). */
export function asLearner(command: string[]): string[] {
  const dropped = learnerDroppedCapabilities.map((capability) => `-${capability.toLowerCase()}`).join(',');
  return ['setpriv', `--bounding-set=${dropped}`, '--', ...command];
}

/**
 * `docker exec` flags that turn Docker's detach keys (Ctrl-P Ctrl-Q) into a sequence nobody
 * types: in a course terminal Ctrl-P is "previous command", and a detach would leave the
 * shell running with nobody attached. Docker has no way to switch them off entirely.
 */
export const noDetachKeys = ['--detach-keys', 'ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@'];
