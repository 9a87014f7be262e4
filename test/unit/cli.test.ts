import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../runner/src/cli/main.js';
import { terminalProgress } from '../../runner/src/cli/terminal-progress.js';

function fakeIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io = {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
  };
  return { io, output: () => ({ out, err }) };
}

describe('runCli', () => {
  it('prints help and exits 0 with no arguments', async () => {
    const { io, output } = fakeIo();
    expect(await runCli([], io)).toBe(0);
    expect(output().out).toContain('Usage: course <command> [options]');
  });

  it('treats `course help up` like `course up --help`', async () => {
    const { io, output } = fakeIo();
    expect(await runCli(['help', 'up'], io)).toBe(0);
    expect(output().out).toContain('Usage: course up');
  });

  it('explains an unknown flag in two lines and exits 2, before any engine is asked', async () => {
    const { io, output } = fakeIo();
    expect(await runCli(['stop', '--force'], io)).toBe(2);
    expect(output().err).toBe("error: Unknown option '--force'.\n  Usage: course stop (see `course stop --help`)\n");
  });
});

describe('terminalProgress', () => {
  it('writes one line when a step starts and one when it ends, where there is no terminal', async () => {
    const { io, output } = fakeIo();
    const progress = terminalProgress(io.stderr);
    const result = await progress.step('Building things', async (detail) => {
      detail('Step 1/2 : RUN make');
      return 42;
    });
    expect(result).toBe(42);
    const lines = output().err.trim().split('\n');
    expect(lines[0]).toBe('• Building things');
    expect(lines[1]).toMatch(/^✓ Building things \(\d+\.\d s\)$/);
  });

  it('marks a failed step and passes the error on', async () => {
    const { io, output } = fakeIo();
    const failing = terminalProgress(io.stderr).step('Breaking', async () => {
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(output().err).toMatch(/✗ Breaking/);
  });
});
