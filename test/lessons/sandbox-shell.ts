import { randomBytes } from 'node:crypto';
import { PassThrough, type Duplex } from 'node:stream';
import type { Engine } from '../../runner/src/engine.js';
import { learnerShellCommand } from '../../runner/src/sandbox/learner-shell.js';
import type { Instance } from '../../runner/src/settings.js';

export interface BlockResult {
  /** stdout and stderr together, in the order the shell wrote them. */
  output: string;
  exitCode: number;
  seconds: number;
  /** The block did not finish within its time; the shell is no longer usable. */
  hasTimedOut: boolean;
}

/**
 * One bash in the sandbox for a whole lesson, as the learner has one terminal: a `cd` or a
 * variable set in one block holds in the next. Each block is evaluated in that shell with
 * stdin from /dev/null (a lesson never waits for typing) and its stderr joined to stdout,
 * then a marker line with a random nonce carries its exit code back.
 */
export class SandboxShell {
  readonly #stream: Duplex;
  readonly #nonce = randomBytes(8).toString('hex');
  #buffer = '';
  #hasEnded = false;
  #wake: (() => void) | undefined;

  private constructor(stream: Duplex, engine: Engine) {
    this.#stream = stream;
    const output = new PassThrough();
    engine.docker.modem.demuxStream(stream, output, output);
    output.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      this.#wake?.();
    });
    stream.on('end', () => {
      this.#hasEnded = true;
      this.#wake?.();
    });
  }

  static async open(hostEngine: Engine, instance: Instance): Promise<SandboxShell> {
    const exec = await hostEngine.docker.getContainer(instance.containerName).exec({
      // A login shell, in the home folder, as the learner's terminal has (course's ShellSession):
      // the same wrapper, so lessons are replayed with a learner's rights, not the sandbox's.
      Cmd: learnerShellCommand(),
      Env: ['HOME=/root', 'LANG=C.UTF-8'],
      WorkingDir: '/root',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    // The learner's `ls` writes to a terminal and lays its names out in columns; this shell
    // has no terminal (so that builds print their plain log, as lessons show), so ask for columns.
    stream.write("ls() { command ls -C \"$@\"; }; export COLUMNS=80\n");
    return new SandboxShell(stream, hostEngine);
  }

  async run(command: string, timeoutSeconds: number): Promise<BlockResult> {
    if (this.#hasEnded) throw new Error('the lesson\'s shell has ended (a block ran `exit`?)');
    const started = performance.now();
    this.#buffer = '';
    const encoded = Buffer.from(command, 'utf8').toString('base64');
    const marker = `__layerlab_verify_${this.#nonce}`;
    this.#stream.write(`eval "$(printf '%s' '${encoded}' | base64 -d)" </dev/null 2>&1; printf '\\n${marker} %d\\n' "$?"\n`);
    const pattern = new RegExp(`\\n${marker} (\\d+)\\n`);
    const deadline = started + timeoutSeconds * 1000;
    for (;;) {
      const match = pattern.exec(this.#buffer);
      if (match) {
        return { output: this.#buffer.slice(0, match.index), exitCode: Number(match[1]), seconds: (performance.now() - started) / 1000, hasTimedOut: false };
      }
      if (this.#hasEnded) throw new Error(`the lesson's shell ended during this block; its output:\n${this.#buffer}`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) return { output: this.#buffer, exitCode: -1, seconds: timeoutSeconds, hasTimedOut: true };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  close(): void {
    this.#stream.end();
    this.#stream.destroy();
  }
}
