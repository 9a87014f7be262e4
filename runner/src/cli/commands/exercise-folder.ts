import { exercises } from '../../../../exercises/index.js';
import { connectEngine } from '../../engine.js';
import { ExitCode, usageError } from '../../errors.js';
import { compareWithSolution, resetExercise } from '../../exercise-folder.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

function exerciseArgument(positionals: string[], command: string): string {
  const id = positionals[0];
  if (!id) throw usageError('Which exercise?', `Name one: ${exercises.map((exercise) => `\`course ${command} ${exercise.id}\``).join(', ')}.`);
  return id;
}

export const resetExerciseCommand: Command = {
  name: 'reset-exercise',
  summary: 'Put an exercise\'s starter back in ~/exercises/<exercise>, keeping your files beside it',
  usage: 'course reset-exercise <exercise>',
  optionHelp: [],
  options: {},
  maxPositionals: 1,
  async run({ positionals }, { stdout, paint }) {
    const id = exerciseArgument(positionals, 'reset-exercise');
    const result = await resetExercise(id, { engine: await connectEngine(), instance: resolveInstance() });
    stdout.write(`${paint.green('✓')} ${result.folder} holds the starter again.\n`);
    stdout.write(result.keptAs ? `  Your files are kept in ${result.keptAs}.\n` : '  There was no folder to keep.\n');
    return ExitCode.ok;
  },
};

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Show how your Dockerfile differs from the exercise\'s solution (spoiler!)',
  usage: 'course compare <exercise>',
  optionHelp: [],
  options: {},
  maxPositionals: 1,
  async run({ positionals }, { stdout, paint }) {
    const id = exerciseArgument(positionals, 'compare');
    const comparison = await compareWithSolution(id, { engine: await connectEngine(), instance: resolveInstance() });
    if (!comparison.hasLearnerFile) stdout.write(`There is no ${comparison.learnerPath} yet; every line of the solution is new.\n`);
    if (comparison.isSame) {
      stdout.write(`${paint.green('✓')} ${comparison.learnerPath} is the same as the solution.\n`);
      return ExitCode.ok;
    }
    stdout.write(`--- ${comparison.learnerPath}\n+++ the solution of ${comparison.exercise}\n`);
    for (const hunk of comparison.hunks) {
      stdout.write(paint.dim(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`) + '\n');
      for (const line of hunk.lines) stdout.write(`${line.startsWith('+') ? paint.green(line) : line.startsWith('-') ? paint.red(line) : line}\n`);
    }
    return ExitCode.ok;
  },
};
