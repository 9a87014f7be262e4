import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { Engine } from '../engine.js';
import { learnerShellCommand, noDetachKeys } from '../sandbox/learner-shell.js';
import type { Instance } from '../settings.js';
import { ReplayBuffer } from './replay-buffer.js';
import { endSessionProcesses, ownRunnerTag, runnerEnvName, sessionEnvName } from './sandbox-processes.js';

/** Output kept for reattaching: a few screens of a build log, never more. */
export const replayCapacityBytes = 256 * 1024;

export type PauseReason = 'browser' | 'socket';

export interface ShellExit {
  code: number | null;
  signal: number | null;
}

export interface ShellSessionOptions {
  engine: Engine;
  instance: Instance;
  cols: number;
  rows: number;
}

/**
 * One login shell in the sandbox: an Engine API exec with a terminal, whose hijacked
 * connection carries the keystrokes in and the output out (what `docker exec -it` does,
 * without a docker CLI process per terminal on this machine). The shell outlives any one
 * browser socket; its output goes to the replay buffer and to whoever is listening.
 *
 * Back-pressure both ways rides on that connection: not reading it (pause) stops the
 * engine, then the program in the sandbox, at its terminal; input that the connection cannot
 * take yet makes `write` return false until `onDrain`.
 */
export class ShellSession {
  readonly id: string;
  readonly replay = new ReplayBuffer(replayCapacityBytes);
  readonly #engine: Engine;
  readonly #instance: Instance;
  readonly #exec: Docker.Exec;
  readonly #stream: Duplex;
  readonly #pauseReasons = new Set<PauseReason>();
  #outputListener: ((chunk: Buffer) => void) | undefined;
  readonly #exitListeners: Array<(exit: ShellExit) => void> = [];
  #exit: ShellExit | undefined;
  #isEnding = false;
  #size: { cols: number; rows: number };

  /** Starts the shell; resolves once it runs, at the given size. */
  static async start(options: ShellSessionOptions): Promise<ShellSession> {
    const id = randomBytes(12).toString('base64url');
    const exec = await options.engine.docker.getContainer(options.instance.containerName).exec({
      Cmd: learnerShellCommand(),
      Env: ['TERM=xterm-256color', `${sessionEnvName}=${id}`, `${runnerEnvName}=${ownRunnerTag}`],
      WorkingDir: '/root',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      DetachKeys: detachKeysValue(),
    });
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    const session = new ShellSession(id, options, exec, stream);
    await session.#applySize();
    return session;
  }

  private constructor(id: string, options: ShellSessionOptions, exec: Docker.Exec, stream: Duplex) {
    this.id = id;
    this.#engine = options.engine;
    this.#instance = options.instance;
    this.#exec = exec;
    this.#stream = stream;
    this.#size = { cols: options.cols, rows: options.rows };
    stream.on('data', (chunk: Buffer) => {
      this.replay.append(chunk);
      this.#outputListener?.(chunk);
    });
    // A write after the shell ended, or a connection reset, must not become an uncaught error.
    stream.on('error', () => stream.destroy());
    // The engine closes the connection when the shell ends.
    stream.on('end', () => stream.destroy());
    stream.on('close', () => void this.#noteExit());
  }

  async #noteExit(): Promise<void> {
    let code: number | null = null;
    if (!this.#isEnding) {
      try {
        code = (await this.#exec.inspect()).ExitCode;
      } catch {
        // The engine is gone too: the code is unknown.
      }
    }
    this.#exit = { code, signal: null };
    for (const listener of this.#exitListeners.splice(0)) listener(this.#exit);
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
      this.#stream.resume();
    }
  }

  onExit(listener: (exit: ShellExit) => void): void {
    if (this.#exit) listener(this.#exit);
    else this.#exitListeners.push(listener);
  }

  /** Writes input; false when the connection holds enough for now (wait for `onDrain`). */
  write(data: string | Buffer): boolean {
    if (this.hasExited || this.#stream.destroyed) return true;
    return this.#stream.write(data);
  }

  /** Runs `listener` once the input written so far has gone on (at once when nothing waits). */
  onDrain(listener: () => void): void {
    if (!this.#stream.writableNeedDrain || this.#stream.destroyed) return listener();
    const done = () => {
      this.#stream.off('drain', done);
      this.#stream.off('close', done);
      listener();
    };
    this.#stream.on('drain', done);
    this.#stream.on('close', done);
  }

  resize(cols: number, rows: number): void {
    if (this.hasExited) return;
    if (this.#size.cols === cols && this.#size.rows === rows) return;
    this.#size = { cols, rows };
    void this.#applySize();
  }

  async #applySize(): Promise<void> {
    try {
      await this.#exec.resize({ w: this.#size.cols, h: this.#size.rows });
    } catch {
      // The shell has just ended; there is nothing left to resize.
    }
  }

  /**
   * Stops reading the shell's output while any reason holds. The connection's buffers then
   * fill, the engine stops reading the shell's terminal, and the program in the sandbox
   * blocks on it: a flood waits instead of filling memory.
   */
  pause(reason: PauseReason): void {
    if (this.#pauseReasons.size === 0) this.#stream.pause();
    this.#pauseReasons.add(reason);
  }

  resume(reason: PauseReason): void {
    if (!this.#pauseReasons.delete(reason)) return;
    if (this.#pauseReasons.size === 0) this.#stream.resume();
  }

  /**
   * Ends the shell and everything started from it. Closing the connection is not enough:
   * the engine keeps an exec's processes running after its client has gone, so they are
   * found by the session's cgroup and sent SIGHUP (as a closed terminal would), then SIGKILL.
   */
  async end(): Promise<void> {
    if (this.#isEnding) return;
    this.#isEnding = true;
    const exited = new Promise<void>((resolve) => this.onExit(() => resolve()));
    this.#stream.resume();
    try {
      await endSessionProcesses(this.#engine, this.#instance, this.id);
    } catch {
      // The sandbox is stopped or gone: its processes went with it.
    }
    this.#stream.destroy();
    await exited;
  }
}

/** The detach keys of `noDetachKeys` (flags for the CLI) as the Engine API takes them. */
function detachKeysValue(): string {
  const index = noDetachKeys.indexOf('--detach-keys');
  return noDetachKeys[index + 1]!;
}
