import { joinClass, leaveClass, deliverQueue } from '../../class/membership.js';
import { ExitCode, usageError, UserError } from '../../errors.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

export const joinCommand: Command = {
  name: 'join',
  summary: 'Join your instructor\'s class: every check you run is also sent to it',
  usage: 'course join JOIN_LINK --name NAME',
  optionHelp: ['--name NAME   the name your instructor sees (put it in quotes if it has spaces)'],
  options: { name: { type: 'string' } },
  maxPositionals: 1,
  async run({ values, positionals }, { stdout, paint }) {
    const link = positionals[0];
    if (!link) throw usageError('Which class? Give the join link your instructor gave you.', 'Run `course join JOIN_LINK --name "Your Name"`.');
    if (typeof values.name !== 'string') throw usageError('Give your name with --name.', `Run \`course join '${link}' --name "Your Name"\`.`);
    const { membership, origin } = await joinClass(resolveInstance().dataDir, link, values.name);
    stdout.write(
      [
        `${paint.green('Joined')} the class at ${origin} as ${paint.bold(membership.name)}.`,
        'From now on every check you run (`course check` or the Check button) is also sent to the class.',
        'When the class cannot be reached, results wait on this machine and are sent later.',
        '`course class status` shows what waits; `course leave` leaves the class.',
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  },
};

export const leaveCommand: Command = {
  name: 'leave',
  summary: 'Leave the class you joined: checks are no longer sent',
  usage: 'course leave [--discard]',
  optionHelp: ['--discard   leave even when results could not be sent yet (they are deleted)'],
  options: { discard: { type: 'boolean' } },
  maxPositionals: 0,
  async run({ values }, { stdout, paint }) {
    const dataDir = resolveInstance().dataDir;
    // Whatever still waits gets one last chance to reach the class.
    const delivery = await deliverQueue(dataDir, { timeoutMs: 3000 }).catch((error: unknown) => ({ delivered: 0, waiting: 1, rejected: 0, problem: (error as Error).message }));
    if (delivery.waiting && values.discard !== true) {
      throw new UserError(
        `${delivery.waiting} ${delivery.waiting === 1 ? 'result has' : 'results have'} not reached the class yet${delivery.problem ? `: ${delivery.problem}` : '.'}`,
        'Run `course class status` when the class is reachable to send them, or `course leave --discard` to leave anyway and delete them.',
        ExitCode.environment,
      );
    }
    const left = await leaveClass(dataDir);
    if (!left) {
      stdout.write('You are not in a class; there is nothing to leave.\n');
      return ExitCode.ok;
    }
    const lines = [`Left the class at ${new URL(left.membership.link).origin}; your checks are no longer sent.`];
    if (delivery.delivered) lines.push(`Sent ${delivery.delivered} waiting ${delivery.delivered === 1 ? 'result' : 'results'} first.`);
    if (left.discarded) lines.push(paint.yellow(`${left.discarded} ${left.discarded === 1 ? 'result' : 'results'} could not be sent and ${left.discarded === 1 ? 'was' : 'were'} discarded${delivery.problem ? ` (${delivery.problem})` : ''}.`));
    stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.ok;
  },
};
