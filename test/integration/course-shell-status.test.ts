import { stat } from 'node:fs/promises';
import path from 'node:path';
import { spawn as spawnPty } from 'node-pty';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../runner/src/project-root.js';
import { instanceFor } from '../support/sandbox-env.js';
import { hasStackTrace, runCourse } from '../support/run-course.js';

/** `course status` and `course shell` as a learner runs them, on the run's shared sandbox. */

const sandboxEnv = () => inject('sandboxEnv');

describe('course status', () => {
  it('prints the engine, the running sandbox, its privilege mode, limits, storage, inner engine and images, agreeing with --json', async () => {
    const text = await runCourse(['status'], sandboxEnv());
    const json = await runCourse(['status', '--json'], sandboxEnv());
    expect(text.exitCode, text.stderr).toBe(0);
    expect(json.exitCode, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout);
    const instance = instanceFor(sandboxEnv());
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`Docker engine   ${status.engine.version} at ${status.engine.address}`);
    expect(lines).toContain(`Sandbox         running (container ${instance.containerName})`);
    // The mode the sandbox runs in, in words, with what it grants in brackets.
    const modeWords = { 'least-privilege': 'least privilege', privileged: 'privileged' }[status.sandbox.privilegeMode as string];
    expect(modeWords, `privilege mode ${status.sandbox.privilegeMode}`).toBeDefined();
    expect(lines.filter((line) => line.startsWith('Privileges '))).toEqual([expect.stringMatching(new RegExp(`^Privileges {6}${modeWords} \\(.+\\)$`))]);
    // The limits the test sandbox was created with (test/support/global-setup.ts).
    expect(text.stdout).toMatch(/^Limits {10}3(\.0)? GiB memory, 2 CPUs, 4096 processes$/m);
    expect(lines).toContain(`Storage         volumes ${status.sandbox.volumes.join(', ')}`);
    expect(lines).toContain(`Inner engine    Docker ${status.nestedEngine.version}, socket ${instance.socketPath}`);
    expect(lines).toContain(`Base images     ${status.nestedEngine.baseImages.map((image: { name: string }) => image.name).join(', ')}`);
    expect(status.nestedEngine.baseImages.every((image: { isPresent: boolean }) => image.isPresent)).toBe(true);
    expect(text.stderr).toBe('');
  });

  it('keeps the sandbox socket in a folder only its owner can open', async () => {
    const folder = await stat(instanceFor(sandboxEnv()).socketDir);
    expect(folder.isDirectory()).toBe(true);
    expect((folder.mode & 0o777).toString(8)).toBe('700');
    expect(folder.uid).toBe(process.getuid!());
  });
});

describe('course shell', () => {
  it('runs piped commands in the sandbox and passes on their exit status', async () => {
    const result = await runCourse(['shell'], sandboxEnv(), { input: 'echo "piped-$((6*7))"; pwd; docker version --format "inner {{.Server.Version}}"; exit 3\n' });
    expect(result.stdout).toContain('piped-42\n/root\ninner ');
    expect(result.exitCode, result.stderr).toBe(3);
    expect(hasStackTrace(result.stderr)).toBe(false);
  });

  it('opens an interactive login shell on a terminal, and exits with it', async () => {
    const terminal = spawnPty(process.execPath, [path.join(projectRoot, 'runner', 'bin', 'course.js'), 'shell'], {
      cols: 100,
      rows: 30,
      cwd: projectRoot,
      env: { ...process.env, NO_COLOR: '1', TERM: 'xterm-256color', ...sandboxEnv() } as Record<string, string>,
    });
    let output = '';
    let exitCode: number | undefined;
    const waiters: Array<() => void> = [];
    const wake = () => waiters.splice(0).forEach((waiter) => waiter());
    terminal.onData((data) => {
      output += data;
      wake();
    });
    terminal.onExit((exit) => {
      exitCode = exit.exitCode;
      wake();
    });
    /** Until `condition` holds; the test's timeout bounds the wait. */
    const until = async (condition: () => boolean, what: string) => {
      while (!condition()) {
        if (exitCode !== undefined) throw new Error(`course shell exited ${exitCode} before ${what}:\n${output}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    const seen = (text: string) => until(() => output.includes(text), `printing ${text}`);
    try {
      await seen('sandbox');
      // docker exec hands the terminal's size on a moment after the shell starts: wait for it there.
      terminal.write('echo "tty-$((6*7))"; tty; for i in $(seq 100); do [ "$(stty size)" = "30 100" ] && break; sleep 0.1; done; echo "size $(stty size)"\r');
      await seen('tty-42');
      await seen('size 30 100');
      expect(output).toMatch(/\/dev\/pts\/\d+/);
      terminal.write('exit 5\r');
      await until(() => exitCode !== undefined, 'exiting');
      expect(exitCode).toBe(5);
    } finally {
      terminal.kill();
    }
  });
});
