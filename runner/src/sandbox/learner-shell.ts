/**
 * The learner's login shell in the sandbox, as `docker exec` arguments (after the flags,
 * before nothing): bash started by layerlab-learner (runner/images/sandbox/learner.sh),
 * which puts it in the shells' cgroup (a process cap below the sandbox's), in a mount
 * namespace where only the learner's folders are writable and containerd's sockets are
 * hidden, and under a bounding set without the capabilities only the engine needs
 * (`learnerDroppedCapabilities`). Everything the learner does with Docker still works: it
 * goes through the nested engine's socket, and its authorization plugin.
 */
export function learnerShellCommand(): string[] {
  return asLearner(['bash', '-l']);
}

/** Any command as the learner's shells run it (for tests that act as a learner would). */
export function asLearner(command: string[]): string[] {
  return [learnerWrapper, ...command];
}

/** In the sandbox image; it drops exactly `learnerDroppedCapabilities` (a unit test holds the two together). */
export const learnerWrapper = '/usr/local/sbin/layerlab-learner';

/**
 * `docker exec` flags that turn Docker's detach keys (Ctrl-P Ctrl-Q) into a sequence nobody
 * types: in a course terminal Ctrl-P is "previous command", and a detach would leave the
 * shell running with nobody attached. Docker has no way to switch them off entirely.
 */
export const noDetachKeys = ['--detach-keys', 'ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@,ctrl-@'];
