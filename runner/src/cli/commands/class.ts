import path from 'node:path';
import { exercises } from '../../../../exercises/index.js';
import { describeExercises } from '../../class/exercise-descriptions.js';
import { checkInWithClass } from '../../class/membership.js';
import { defaultClassDb, defaultClassPort, isLoopbackOnly, openClass, parseListenAddress } from '../../class/open-class.js';
import { resolveSiteDir } from '../../course-catalog.js';
import { ExitCode, usageError } from '../../errors.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';
import { openBrowser } from './start.js';

const subcommands = ['serve', 'status'] as const;

export const classCommand: Command = {
  name: 'class',
  summary: 'Teach a class (`course class serve`) or see the class you joined (`course class status`)',
  usage: 'course class serve [--port N] [--listen ADDR] [--db FILE] [--no-open] | course class status',
  optionHelp: [
    'serve            (the instructor) keep a class and serve its dashboard; Ctrl-C stops it',
    `  --port N       port to serve on (default: ${defaultClassPort}; 0 picks a free one)`,
    '  --listen ADDR  address to listen on (default 127.0.0.1, this machine only); any other',
    '                 address, e.g. 0.0.0.0 for a classroom, is served over HTTPS',
    '  --db FILE      the class database (default: class-server/class.sqlite in the data folder)',
    '  --no-open      print the links but do not open a browser',
    'status           (a learner) the class you joined, your name, and what waits to be sent;',
    '                 sends what waits',
  ],
  options: {
    port: { type: 'string' },
    listen: { type: 'string' },
    db: { type: 'string' },
    'no-open': { type: 'boolean' },
  },
  maxPositionals: 1,
  async run({ values, positionals }, context) {
    const which = positionals[0];
    if (which === 'serve') return await serve(values, context);
    if (which === 'status') {
      const used = ['port', 'listen', 'db', 'no-open'].filter((option) => values[option] !== undefined);
      if (used.length) throw usageError(`--${used[0]} is for \`course class serve\`, not \`course class status\`.`, 'Run `course class status` without options.');
      return await status(context);
    }
    throw usageError(
      which ? `There is no \`course class ${which}\`.` : 'Which one: `course class serve` or `course class status`?',
      `Use \`course class ${subcommands.join('` or `course class ')}\`; learners join with \`course join JOIN_LINK --name NAME\`.`,
    );
  },
};

async function serve(values: Record<string, string | boolean | undefined>, { stdout, stderr, paint, signal }: Parameters<Command['run']>[1]): Promise<number> {
  const port = parsePort(values.port);
  const listen = typeof values.listen === 'string' ? parseListenAddress(values.listen) : '127.0.0.1';
  const dbFile = typeof values.db === 'string' ? path.resolve(values.db) : defaultClassDb(resolveInstance().dataDir);
  const opened = await openClass({
    dbFile,
    listen,
    port,
    siteDir: resolveSiteDir(),
    exercises: describeExercises(exercises),
    log: (text) => stderr.write(`${paint.red('class server:')} ${text}\n`),
  });
  const learners = opened.store.learners().length;
  const results = opened.store.submissionCount();
  const lines = [
    '',
    `${paint.green('The class is open')} (${learners} ${learners === 1 ? 'learner' : 'learners'}, ${results} ${results === 1 ? 'result' : 'results'} so far; kept in ${dbFile}).`,
    '',
    'Instructor: the dashboard (this link holds your secret token; keep it to yourself):',
    '',
    `    ${paint.bold(opened.server.instructorUrl)}`,
    '',
    'Learners: each runs, with their own name:',
    '',
    `    ${paint.bold(`course join '${opened.server.joinLink}' --name "Their Name"`)}`,
    '',
  ];
  if (opened.fingerprint) {
    lines.push(
      `Served over HTTPS with a certificate made on this machine. Its SHA-256 fingerprint is in the join link,`,
      `so learners' runners refuse any other server:`,
      `    ${opened.fingerprint}`,
      'Your browser will warn that the certificate is self-signed: compare the fingerprint, then continue.',
      '',
    );
  } else if (isLoopbackOnly(listen)) {
    lines.push(paint.dim('Only this machine can join (127.0.0.1). For a classroom: course class serve --listen 0.0.0.0'), '');
  }
  lines.push('Press Ctrl-C to stop; the class is kept, and the same command opens it again with the same links.', '');
  stdout.write(lines.join('\n'));
  if (values['no-open'] !== true) openBrowser(opened.server.instructorUrl, (line) => stderr.write(`${line}\n`));

  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await opened.close();
  stdout.write('Stopped the class server. The class is kept; `course class serve` opens it again.\n');
  return ExitCode.ok;
}

async function status({ stdout, paint }: Parameters<Command['run']>[1]): Promise<number> {
  const checkIn = await checkInWithClass(resolveInstance().dataDir);
  if (!checkIn) {
    stdout.write('You are not in a class. Join one with the link your instructor gives you:\n    course join JOIN_LINK --name "Your Name"\n');
    return ExitCode.ok;
  }
  const { status: now, delivery } = checkIn;
  const lines = [
    `Class      ${now.origin}`,
    `You are    ${now.membership.name} (joined ${now.membership.joinedAt.slice(0, 16).replace('T', ' ')} UTC)`,
    `Connection ${checkIn.reachable ? paint.green('the class answers') : paint.yellow(`not reachable: ${checkIn.problem ?? ''}`)}`,
  ];
  if (delivery.delivered) lines.push(`Sent now   ${delivery.delivered} ${delivery.delivered === 1 ? 'result' : 'results'} that were waiting`);
  lines.push(
    now.waiting
      ? `Waiting    ${paint.yellow(`${now.waiting} ${now.waiting === 1 ? 'result' : 'results'}`)} since ${now.oldestWaitingSince?.slice(0, 16).replace('T', ' ')} UTC; they are sent with your next check or \`course class status\``
      : 'Waiting    nothing: the class has every result',
  );
  if (now.rejected) lines.push(`Refused    ${now.rejected} ${now.rejected === 1 ? 'result' : 'results'} the class would not take (kept in the class/rejected folder of your data folder)`);
  stdout.write(`${lines.join('\n')}\n`);
  return checkIn.reachable ? ExitCode.ok : ExitCode.environment;
}

function parsePort(text: string | boolean | undefined): number {
  if (text === undefined || typeof text === 'boolean') return defaultClassPort;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw usageError(`--port "${text}" is not a port number.`, `Give a whole number from 1024 to 65535, e.g. --port ${defaultClassPort} (0 picks a free port).`);
  }
  return port;
}
