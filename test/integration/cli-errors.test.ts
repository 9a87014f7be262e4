import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, runCourse } from '../support/run-course.js';

/** Mistakes get two lines (what went wrong, what to do), the right exit code, no stack. */
describe('`course` on bad input', () => {
  it('exits 3 and says how to start Docker when no engine answers', async () => {
    const { exitCode, stderr } = await runCourse(['status'], { DOCKER_HOST: 'unix:///tmp/layerlab-no-such-engine.sock' });
    expect(exitCode).toBe(3);
    expect(stderr).toContain('Docker is not answering on unix:///tmp/layerlab-no-such-engine.sock (no socket there)');
    expect(stderr).toContain('Start the Docker engine');
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it('exits 3 for `course up` too when no engine answers, before touching anything', async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { exitCode, stderr } = await runCourse(['up'], { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
    expect(exitCode).toBe(3);
    expect(stderr).toContain('connection refused');
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it.each([
    [['frobnicate'], 'There is no command "frobnicate".'],
    [['up', '--bogus'], "Unknown option '--bogus'."],
    [['up', '--memory', 'lots'], '--memory "lots" is not a size.'],
    [['up', '--memory', '100m'], 'too small'],
    [['up', '--cpus', 'many'], '--cpus "many" is not a CPU count.'],
    [['up', 'extra'], 'Too many arguments: extra.'],
    [['status', '--json=yes'], "Option '--json' does not take an argument"],
    [['--memory', '4g'], 'must come after a command'],
    [['check', 'lesson-7', '--image', '-x'], '--image needs a value, and the word after it starts with "-".'],
    [['up', '--cpus', '-2'], '--cpus needs a value, and the word after it starts with "-".'],
    [['up', '--cpus=-2'], '--cpus "-2" is not a CPU count.'],
    [['up', '--pids', '99999999999'], '--pids "99999999999" is not a usable process limit.'],
    [['start', '--port', '0080'], '--port "0080" is not a port number.'],
    [['start', '--port', '80'], '--port "80" is not a port number.'],
  ])('exits 2 for `course %s`', async (args, message) => {
    const { exitCode, stderr, stdout } = await runCourse(args);
    expect(exitCode).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(2);
    expect(stdout).toBe('');
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it('exits 2 for a bad DOCKER_HOST address', async () => {
    const { exitCode, stderr } = await runCourse(['status'], { DOCKER_HOST: 'ftp://example' });
    expect(exitCode).toBe(2);
    expect(stderr).toContain('not supported');
  });

  it('prints help with every command and the exit codes', async () => {
    const { exitCode, stdout } = await runCourse(['--help']);
    expect(exitCode).toBe(0);
    for (const command of ['up', 'status', 'shell', 'stop', 'reset']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toContain('70  internal error');
    const upHelp = await runCourse(['up', '--help']);
    expect(upHelp.stdout).toContain('--memory SIZE');
  });

  it('exits 70 on a bug, naming a crash report that holds the command and the stack, with no stack on screen', async () => {
    // A bug injected before the CLI loads: writing the help text throws, as no user can cause.
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'll-crash-'));
    try {
      const fault = path.join(workDir, 'fault.mjs');
      await writeFile(fault, "process.stdout.write = () => { throw new TypeError('injected fault 4711'); };\n");
      const crash = await runCourse(['help', 'up'], { TMPDIR: workDir }, { nodeOptions: ['--import', fault] });
      expect(crash.exitCode).toBe(70);
      const lines = crash.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe('internal error: injected fault 4711');
      const reportFile = /The details are in (\S+); please include that file/.exec(lines[1] ?? '')?.[1];
      expect(reportFile, crash.stderr).toBeDefined();
      expect(path.dirname(reportFile!)).toBe(workDir);
      expect(hasStackTrace(crash.stderr)).toBe(false);
      const report = await readFile(reportFile!, 'utf8');
      expect(report.split('\n')[0]).toBe('course help up');
      expect(report).toContain('TypeError: injected fault 4711');
      expect(report).toMatch(/\n\s+at .+:\d+:\d+/);
      expect((await readdir(workDir)).filter((name) => name.startsWith('layerlab-crash-'))).toHaveLength(1);

      const debug = await runCourse(['help', 'up', '--debug'], { TMPDIR: workDir }, { nodeOptions: ['--import', fault] });
      expect(debug.exitCode).toBe(70);
      expect(hasStackTrace(debug.stderr)).toBe(true);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
