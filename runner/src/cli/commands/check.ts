import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exercises, findExercise } from '../../../../exercises/index.js';
import { connectEngine, type Engine } from '../../engine.js';
import { parseJoinLink } from '../../class/join-link.js';
import { reportRun, type DeliveryReport } from '../../class/membership.js';
import { describeZodError, learnerNameSchema } from '../../class/submission.js';
import { ExitCode, usageError, UserError } from '../../errors.js';
import { gradeAndRecord, sandboxAddress } from '../../grade-and-record.js';
import { publishedPortHostOf } from '../../grader/facts/published-port-host.js';
import { gradeExercise } from '../../grader/grade.js';
import { renderJson } from '../../grader/report/json.js';
import { renderJunit } from '../../grader/report/junit.js';
import { renderText } from '../../grader/report/text.js';
import type { CheckRun, ExerciseFolder } from '../../grader/types.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';
import { paintFor } from '../style.js';

const formats = ['text', 'json', 'junit'] as const;
type Format = (typeof formats)[number];

/** What shells report for a process stopped by Ctrl-C (128 + SIGINT). */
const interruptedExitCode = 130;

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check an exercise\'s image: size, layers, build tools, and that it runs',
  usage: 'course check <exercise> [--image NAME] [--docker-host URL] [--exercise-folder DIR] [--format text|json|junit] [--output FILE] [--report-to JOIN_LINK --learner NAME]',
  optionHelp: [
    '--image NAME       the image to check (default: the exercise\'s tag, e.g. lesson-7)',
    '--docker-host URL  check on this engine instead of the sandbox, e.g. a CI\'s own',
    '                   (unix:///path/docker.sock or tcp://host:2375; DOCKER_HOST does the same);',
    '                   your progress is not recorded',
    '--exercise-folder DIR  the exercise\'s project on this machine, for checks that rebuild it',
    '                   (lesson 5); default: ~/exercises/<exercise> in the sandbox',
    '--format FORMAT    text (default), json, or junit (for CI test reports)',
    '--output FILE      write the report to FILE; a summary still goes to the terminal',
    '--report-to LINK   also send the result to a class (its join link), for CI jobs;',
    '                   needs --learner NAME (a learner who joined sends without this)',
    '--learner NAME     the learner the result belongs to, with --report-to',
  ],
  options: {
    image: { type: 'string' },
    'docker-host': { type: 'string' },
    'exercise-folder': { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string' },
    'report-to': { type: 'string' },
    learner: { type: 'string' },
  },
  maxPositionals: 1,
  async run({ values, positionals }, { stdout, stderr, progress }) {
    const exerciseId = positionals[0];
    if (!exerciseId) {
      throw usageError('Which exercise should be checked?', `Name one: ${exercises.map((exercise) => `\`course check ${exercise.id}\``).join(', ')}.`);
    }
    const exercise = findExercise(exerciseId);
    const format = parseFormat(values.format);
    const image = typeof values.image === 'string' ? parseImage(values.image) : undefined;
    const output = typeof values.output === 'string' ? path.resolve(values.output) : undefined;
    // Before grading, so a typo in the path does not cost a whole check.
    if (output) await ensureWritableFolder(output);
    const reportTo = parseReportTo(values['report-to'], values.learner);
    const dockerHost = typeof values['docker-host'] === 'string' ? values['docker-host'] : process.env.DOCKER_HOST || undefined;
    const exerciseFolder = typeof values['exercise-folder'] === 'string' ? await parseExerciseFolder(values['exercise-folder']) : undefined;
    const instance = resolveInstance();
    // Another engine (a CI's): graded the same way, and nothing is written to the learner's progress.
    const engine: Engine | undefined = dockerHost ? await connectEngine(dockerHost) : undefined;
    // The sandbox's own socket, named as another engine: its ports are published inside the sandbox.
    const isSandboxSocket = dockerHost === `unix://${instance.socketPath}`;
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => controller.abort(new Interrupted(signal));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let run: CheckRun;
    let classDelivery: Promise<DeliveryReport> | undefined;
    try {
      const graded = await progress.step(`Checking ${exercise.id} (image ${image ?? exercise.image})`, async (detail): Promise<{ run: CheckRun; classDelivery?: Promise<DeliveryReport> }> =>
        engine
          ? gradeExercise({
              exercise,
              engine,
              ...(image ? { image } : {}),
              publishedPortHost: isSandboxSocket ? await sandboxAddress(instance) : publishedPortHostOf(engine.address),
              ...(exerciseFolder ? { exerciseFolder } : {}),
              labels: instance.labels,
              signal: controller.signal,
              onProgress: detail,
            }).then((checked) => ({ run: checked }))
          : gradeAndRecord({ exercise: exercise.id, ...(image ? { image } : {}), ...(exerciseFolder ? { exerciseFolder } : {}), instance, signal: controller.signal, report: detail }),
      );
      run = graded.run;
      classDelivery = graded.classDelivery;
    } catch (error) {
      if (error instanceof Interrupted) {
        stderr.write('Stopped. Any container the check started has been removed.\n');
        return interruptedExitCode;
      }
      throw error;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }

    const report = format === 'json' ? renderJson(run) : format === 'junit' ? renderJunit(run) : renderText(run, paintFor(stdout));
    if (output) {
      await writeAtomically(output, format === 'text' ? renderText(run) : report);
      stdout.write(renderText(run, paintFor(stdout)));
      stdout.write(`The ${format} report is in ${output}.\n`);
    } else {
      stdout.write(report);
    }
    if (engine && !run.imageId) {
      stderr.write(`Note: this checked the engine at ${engine.address}${values['docker-host'] ? '' : ' (from DOCKER_HOST)'}, not your sandbox.\n`);
    }
    // After the report: the class hears of the result, but the learner never waits on it first.
    if (classDelivery) {
      const delivery = await classDelivery;
      if (delivery.delivered) stderr.write('Sent to your class.\n');
      else if (delivery.problem) stderr.write(`Not sent to your class yet (${delivery.problem}); it waits on this machine and goes with your next check or \`course class status\`.\n`);
    }
    if (reportTo) {
      try {
        await reportRun(reportTo.link, reportTo.learner, run);
        stderr.write(`Reported to the class as ${reportTo.learner}.\n`);
      } catch (error) {
        // The check's verdict stands; the job's log says the class did not get it.
        if (!(error instanceof UserError)) throw error;
        stderr.write(`${paintFor(stderr).yellow('warning:')} the result was not reported to the class: ${error.message}\n  ${error.nextStep}\n`);
      }
    }
    return run.passed ? ExitCode.ok : ExitCode.checksFailed;
  },
};

function parseReportTo(link: string | boolean | undefined, learner: string | boolean | undefined): { link: string; learner: string } | undefined {
  if (link === undefined && learner === undefined) return undefined;
  if (typeof link !== 'string') throw usageError('--learner goes with --report-to JOIN_LINK.', 'Give both: --report-to JOIN_LINK --learner NAME.');
  if (typeof learner !== 'string') throw usageError('--report-to needs the learner\'s name too.', 'Add --learner NAME, e.g. --learner "Ada Lovelace".');
  // Checked now, so a typo in the link does not wait for a whole check to be found.
  parseJoinLink(link);
  const name = learnerNameSchema.safeParse(learner);
  if (!name.success) throw usageError(`--learner "${learner}" cannot be used: ${describeZodError(name.error)}.`, 'Give the learner\'s name as the class should show it.');
  return { link, learner: name.data };
}

class Interrupted extends Error {
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

function parseFormat(value: string | boolean | undefined): Format {
  if (value === undefined) return 'text';
  if (typeof value === 'string' && (formats as readonly string[]).includes(value)) return value as Format;
  throw usageError(`--format ${String(value)} is not a report format.`, `Use one of: ${formats.join(', ')}.`);
}

/** A folder on this machine, checked before grading so a typo does not cost a whole check. */
async function parseExerciseFolder(value: string): Promise<ExerciseFolder> {
  const folder = path.resolve(value);
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw usageError(`--exercise-folder ${value}: ${info ? 'not a folder' : 'no such folder'}.`, "Give the folder that holds the exercise's Dockerfile, for example --exercise-folder exercises/lesson-5/solution.");
  }
  return { where: 'here', path: folder };
}

function parseImage(value: string): string {
  // The engine's own reference grammar is more lenient; this only rejects what can never work.
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/.test(value) || value.length > 512) {
    throw usageError(`--image "${value}" is not an image name.`, 'Give a name such as lesson-7, lesson-7:v2 or an image id.');
  }
  return value;
}

async function ensureWritableFolder(file: string): Promise<void> {
  const folder = path.dirname(file);
  try {
    if (!(await stat(folder)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await access(folder, constants.W_OK);
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
  } catch (error) {
    throw usageError(`Cannot write the report to ${file}: ${describeFileError(error)}.`, 'Choose a file in a folder you can write to, for example --output report.xml.');
  }
}

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'its folder does not exist';
  if (code === 'ENOTDIR') return 'its folder is not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (error as Error).message;
}

/** Temp file in the same folder, then rename: a reader never sees half a report. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw usageError(`Cannot write the report to ${file}: ${describeFileError(error)}.`, 'Choose a file in a folder you can write to, for example --output report.xml.');
  }
}
