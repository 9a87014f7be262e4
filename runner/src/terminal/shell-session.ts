import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as pty from 'node-pty';
import { learnerShellCommand, noDetachKeys } from '../sandbox/learner-shell.js';
import type { Instance } from '../settings.js';
import { ReplayBuffer } from './replay-buffer.js';

const execFileAsync = promisify(execFile);

/** Output kept for reattaching: a few screens of a build log, never more. */
export const replayCapacityBytes = 256 * 1024;

/** Marks every process of a session inside the sandbox, so it can be found and ended. */
const sessionEnvName = 'LAYERLAB_TERMINAL';

export type PauseReason = 'browser' | 'socket';

export interface ShellExit {
  code: number | null;
  signal: number | null;
}

export interface ShellSessionOptions {
  instance: Instance;
  cols: number;
  rows: number;
}

/**
 * One login shell in the sandbox, behind a pseudo-terminal on this machine: node-pty runs
 * `docker exec -it`, so the docker CLI handles raw mode, resizes and signals as it does in
 * `course shell`. The shell outlives any one browser socket; its output goes to the replay
 * buffer and to whoever is listening.
 */
export class ShellSession {
  readonly id = randomBytes(12).toString('base64url');
  readonly replay = new ReplayBuffer(replayCapacityBytes);
  readonly #pty: pty.IPty;
  readonly #instance: Instance;
  readonly #pauseReasons = new Set<PauseReason>();
  #outputListener: ((chunk: Buffer) => void) | undefined;
  readonly #exitListeners: Array<(exit: ShellExit) => void> = [];
  #exit: ShellExit | undefined;
  #isEnding = false;

  constructor({ instance, cols, rows }: ShellSessionOptions) {
    this.#instance = instance;
    this.#pty = pty.spawn(
      'docker',
      [
        'exec',
        '-it',
        ...noDetachKeys,
        '-e',
        'TERM=xterm-256color',
        '-e',
        `${sessionEnvName}=${this.id}`,
        '-w',
        '/root',
        instance.containerName,
        ...learnerShellCommand(),
      ],
      // encoding null: output arrives as bytes, so a UTF-8 character split across two
      // reads is passed on whole and the replay buffer counts bytes, not characters.
      { name: 'xterm-256color', cols, rows, cwd: instance.dataDir, env: process.env as Record<string, string>, encoding: null },
    );
    this.#pty.onData((data) => {
      const chunk = data as unknown as Buffer;
      this.replay.append(chunk);
      this.#outputListener?.(chunk);
    });
    this.#pty.onExit(({ exitCode, signal }) => {
      this.#exit = { code: this.#isEnding ? null : exitCode, signal: signal ?? null };
      for (const listener of this.#exitListeners.splice(0)) listener(this.#exit);
    });
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  get isPaused(): boolean {
    return this.#pauseReasons.size > 0;
  }

  /** Only one listener: the socket currently attached. `undefined` detaches. */
  setOutputListener(listener: ((chunk: Buffer) => void) | undefined): void {
    this.#outputListener = listener;
    if (!listener) {
      // Nobody is reading: keep the shell running and let the replay buffer drop old output.
      this.#pauseReasons.clear();
      this.#pty.resume();
    }
  }

  onExit(listener: (exit: ShellExit) => void): void {
    if (this.#exit) listener(this.#exit);
    else this.#exitListeners.push(listener);
  }

  write(data: string | Buffer): void {
    if (!this.hasExited) this.#pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.hasExited) return;
    if (this.#pty.cols === cols && this.#pty.rows === rows) return;
    this.#pty.resize(cols, rows);
  }

  /**
   * Stops reading the shell's output while any reason holds. The pty's kernel buffer then
   * fills, the docker CLI blocks on it, and the program in the sandbox blocks on its own
   * terminal: a flood waits instead of filling memory.
   */
  pause(reason: PauseReason): void {
    if (this.#pauseReasons.size === 0) this.#pty.pause();
    this.#pauseReasons.add(reason);
  }

  resume(reason: PauseReason): void {
    if (!this.#pauseReasons.delete(reason)) return;
    if (this.#pauseReasons.size === 0) this.#pty.resume();
  }

  /**
   * Ends the shell and everything started from it. Killing the docker CLI alone is not
   * enough: the engine keeps an exec's processes running after its client has gone, so
   * they are found by the marker in their environment and sent SIGHUP (as a closed
   * terminal would), then SIGKILL.
   */
  async end(): Promise<void> {
    if (this.#isEnding) return;
    this.#isEnding = true;
    const exited = new Promise<void>((resolve) => this.onExit(() => resolve()));
    if (!this.hasExited) {
      this.#pty.resume();
      this.#pty.kill('SIGHUP');
    }
    const script = [
      `pids=$(grep -lxzs '${sessionEnvName}=${this.id}' /proc/[0-9]*/environ | cut -d/ -f3)`,
      '[ -z "$pids" ] && exit 0',
      'kill -HUP $pids 2>/dev/null',
      'for i in 1 2 3 4 5 6 7 8 9 10; do',
      '  alive=""; for p in $pids; do [ -d /proc/$p ] && alive="$alive $p"; done',
      '  [ -z "$alive" ] && exit 0',
      '  sleep 0.1',
      'done',
      'kill -KILL $alive 2>/dev/null; exit 0',
    ].join('\n');
    try {
      await execFileAsync('docker', ['exec', this.#instance.containerName, 'sh', '-c', script], { timeout: 10_000 });
    } catch {
      // The sandbox is stopped or gone: its processes went with it.
    }
    await exited;
  }
}
