import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readCourseCatalog, resolveSiteDir } from '../../course-catalog.js';
import { connectEngine } from '../../engine.js';
import { deliverQueue } from '../../class/membership.js';
import { ExitCode, messageOf, usageError } from '../../errors.js';
import { bringUpSandbox } from '../../sandbox/sandbox.js';
import { startCourseServer } from '../../server/index.js';
import { resolveInstance } from '../../settings.js';
import { reapOrphanedTerminals } from '../../terminal/sandbox-processes.js';
import type { Command } from '../command.js';

export const defaultPort = 4747;

export const startCommand: Command = {
  name: 'start',
  summary: 'Start your sandbox and open the course in your browser (Ctrl-C stops it)',
  usage: 'course start [--port N] [--no-open]',
  optionHelp: [
    `--port N     port on 127.0.0.1 to serve the course on (default: ${defaultPort}; 0 picks a free one)`,
    '--no-open    print the link but do not open a browser',
    '--verbose    print every line of the image builds',
  ],
  options: {
    port: { type: 'string' },
    'no-open': { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  maxPositionals: 0,
  async run({ values }, { stdout, stderr, progress, paint, signal }) {
    const port = parsePort(values.port);
    const instance = resolveInstance();
    // Before the sandbox: without the built site there is nothing to serve.
    const siteDir = resolveSiteDir();
    const catalog = await readCourseCatalog(siteDir);
    const engine = await connectEngine();
    const token = randomBytes(24).toString('base64url');
    const server = await startCourseServer({
      instance,
      engine,
      siteDir,
      token,
      port,
      // The grader loads on the first Check, so the server starts quickly and idles small.
      runCheck: async (exercise, report, checkSignal) => {
        const { gradeAndRecord } = await import('../../grade-and-record.js');
        return await gradeAndRecord({ exercise, instance, signal: checkSignal, report });
      },
      log: (text) => stderr.write(`${paint.red('runner:')} ${text}\n`),
    });
    // Listening first: a taken port is reported at once, not after the sandbox has started.
    try {
      await bringUpSandbox(engine, instance, progress);
    } catch (error) {
      await server.close();
      throw error;
    }
    if (signal.aborted) {
      await server.close();
      return ExitCode.ok;
    }
    // Shells a course server that died (kill -9, a crash) could not end are still running
    // in the sandbox; end them before serving new ones.
    const reaped = await reapOrphanedTerminals(engine, instance).catch((error: unknown) => {
      stderr.write(`${paint.red('runner:')} could not look for shells left by an earlier course server: ${messageOf(error)}\n`);
      return 0;
    });
    if (reaped > 0) stdout.write(`Ended ${reaped} ${reaped === 1 ? 'process' : 'processes'} left in the sandbox's terminals by a course server that stopped without ending them.\n`);
    // Results that waited for the learner's class (it was unreachable) get another chance now,
    // in the background; a problem is reported by `course class status`, never here.
    void deliverQueue(instance.dataDir).catch(() => undefined);
    stdout.write(
      [
        '',
        `${paint.green('Layerlab is running')} with ${catalog.lessons.length} ${catalog.lessons.length === 1 ? 'lesson' : 'lessons'}. Open this link in your browser:`,
        '',
        `    ${paint.bold(server.url)}`,
        '',
        `The link holds a secret: it is only for you. Press Ctrl-C to stop; your sandbox keeps its state.`,
        '',
      ].join('\n'),
    );
    if (values['no-open'] !== true) openBrowser(server.url, (line) => stderr.write(`${line}\n`));

    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    stdout.write(`Stopped the course server. Your sandbox is still running (${paint.bold('course stop')} stops it).\n`);
    return ExitCode.ok;
  },
};

function parsePort(text: string | boolean | undefined): number {
  if (text === undefined || typeof text === 'boolean') return defaultPort;
  const port = Number(text);
  // No leading zeros ("0080" is not 8080, and would bind port 80) and no privileged ports.
  if (!/^(0|[1-9]\d*)$/.test(text) || (port !== 0 && port < 1024) || port > 65535) {
    throw usageError(`--port "${text}" is not a port number.`, `Give a whole number from 1024 to 65535, e.g. --port ${defaultPort} (0 picks a free port).`);
  }
  return port;
}

/** Opens the default browser where there is a desktop; a headless machine just gets the link. */
export function openBrowser(url: string, say: (line: string) => void): void {
  const opener =
    process.platform === 'darwin'
      ? { command: 'open', args: [url] }
      : process.platform === 'win32'
        ? { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] }
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? { command: 'xdg-open', args: [url] }
          : undefined;
  if (!opener) {
    say('(No desktop here to open a browser on; open the link above yourself.)');
    return;
  }
  const child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore' });
  child.on('error', () => say(`(Could not start ${opener.command} to open a browser; open the link above yourself.)`));
  child.unref();
}
