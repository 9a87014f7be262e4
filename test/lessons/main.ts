/**
 * `npm run lessons:verify [lesson-N …] [--keep] [--dump DIR]`: replays lessons in fresh
 * sandboxes and compares every shown output with what the sandbox prints.
 * Exit codes: 0 every lesson true, 1 some output or command differs, 2 usage, 3 environment.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectEngine } from '../../runner/src/engine.js';
import { UserError } from '../../runner/src/errors.js';
import { removeTestObjects } from '../support/cleanup.js';
import { newTestRunId } from '../support/test-run.js';
import { LessonFormatError } from './lesson-blocks.js';
import { isFailure, lessonsDir, verifyLesson, type LessonReport, type StepReport } from './verify-lesson.js';

const usage = 'usage: npm run lessons:verify [lesson-N …] [--keep] [--dump DIR]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { keep: { type: 'boolean' }, dump: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n  ${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(`${usage}\n\nReplays each lesson's shell blocks in a fresh sandbox and compares the outputs it shows.\n--keep leaves the sandbox running; --dump DIR writes what every block printed.`);
    return 0;
  }
  const all = await allLessons();
  const wanted = parsed.positionals.length ? parsed.positionals : all;
  const unknown = wanted.filter((lesson) => !all.includes(lesson));
  if (unknown.length) {
    console.error(`error: there is no lesson ${unknown.map((name) => `"${name}"`).join(', ')}.\n  The lessons are ${all.join(', ')}.`);
    return 2;
  }

  let engine;
  try {
    engine = await connectEngine();
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`error: ${error.message}\n  ${error.nextStep}`);
      return 3;
    }
    throw error;
  }
  const runId = newTestRunId();
  const reports: LessonReport[] = [];
  try {
    for (const lesson of wanted) {
      console.log(`${lesson}: starting a fresh sandbox`);
      let report: LessonReport;
      try {
        report = await verifyLesson(lesson, { engine, runId, keepSandbox: parsed.values.keep, onStep: (step) => console.log(formatStep(lesson, step)) });
      } catch (error) {
        if (error instanceof LessonFormatError) {
          console.error(`error: ${error.message}`);
          return 2;
        }
        throw error;
      }
      reports.push(report);
      if (parsed.values.dump) await dump(parsed.values.dump, report);
    }
  } finally {
    if (!parsed.values.keep) await removeTestObjects(engine.docker, runId);
  }
  console.log(`\n${summary(reports)}`);
  return reports.some((report) => report.steps.some(isFailure)) ? 1 : 0;
}

async function allLessons(): Promise<string[]> {
  const names = (await readdir(lessonsDir)).filter((name) => /^lesson-\d+\.mdx$/.test(name)).map((name) => name.replace(/\.mdx$/, ''));
  return names.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
}

const marks: Record<StepReport['status'], string> = { matched: '✓', ran: '·', skipped: '-', mismatch: '✗', failed: '✗' };

function formatStep(lesson: string, step: StepReport): string {
  const firstLine = step.command.split('\n')[0]!;
  const command = firstLine.length > 70 ? `${firstLine.slice(0, 69)}…` : firstLine;
  let text = `  ${marks[step.status]} ${lesson}.mdx:${step.line} ${command} (${step.seconds.toFixed(1)} s)`;
  if (step.status === 'skipped') text += `\n      not in the sandbox: ${step.detail}`;
  if (isFailure(step)) {
    text += `\n      ${step.detail!.replace(/\n/g, '\n      ')}`;
    if (step.output !== undefined) text += `\n      what the sandbox printed:\n${indent(step.output.slice(0, 4000), '        | ')}`;
  }
  return text;
}

function indent(text: string, prefix: string): string {
  return text.replace(/\n$/, '').split('\n').map((line) => prefix + line).join('\n');
}

function summary(reports: LessonReport[]): string {
  const rows = reports.map((report) => {
    const counted = (status: StepReport['status']) => report.steps.filter((step) => step.status === status).length;
    const failures = report.steps.filter(isFailure).length;
    const slow = report.steps.filter((step) => step.seconds >= 10).map((step) => `${step.line}: ${step.seconds.toFixed(0)} s`);
    return `${failures ? 'FAIL' : 'ok  '} ${report.lesson.padEnd(10)} ${counted('matched')} outputs matched, ${counted('ran')} commands ran, ${counted('skipped')} not in the sandbox, ${failures} failed; ${report.seconds.toFixed(0)} s (sandbox ${report.setupSeconds.toFixed(0)} s)${slow.length ? `; slow blocks at lines ${slow.join(', ')}` : ''}`;
  });
  const total = reports.reduce((sum, report) => sum + report.seconds, 0);
  return `${rows.join('\n')}\ntotal ${total.toFixed(0)} s`;
}

async function dump(folder: string, report: LessonReport): Promise<void> {
  await mkdir(folder, { recursive: true });
  const text = report.steps
    .map((step) => `### line ${step.line} [${step.status}] (${step.seconds.toFixed(1)} s)\n$ ${step.command}\n${step.output ?? ''}${step.detail ? `\n!! ${step.detail}` : ''}\n`)
    .join('\n');
  await writeFile(path.join(folder, `${report.lesson}.txt`), text);
}

process.exitCode = await main();
