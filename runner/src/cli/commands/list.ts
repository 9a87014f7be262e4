import { readCourseCatalog } from '../../course-catalog.js';
import { ExitCode } from '../../errors.js';
import { lessonStatus, lessonStatusLabels, readProgress } from '../../progress-store.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'List the lessons and which ones you have completed',
  usage: 'course list',
  optionHelp: [],
  options: {},
  maxPositionals: 0,
  async run(_args, { stdout, stderr, paint }) {
    const instance = resolveInstance();
    const catalog = await readCourseCatalog();
    const { progress, warning } = await readProgress(instance.dataDir);
    if (warning) stderr.write(`${paint.yellow('warning:')} ${warning}\n  The next passing check starts a new file (the old one is kept beside it).\n`);

    const done = catalog.lessons.filter((lesson) => lessonStatus(progress, lesson.id) === 'complete').length;
    const idWidth = Math.max(...catalog.lessons.map((lesson) => lesson.id.length), 2);
    const titleWidth = Math.max(...catalog.lessons.map((lesson) => lesson.title.length), 5);
    const lines = [
      `${paint.bold('Layerlab')}: ${done} of ${catalog.lessons.length} ${catalog.lessons.length === 1 ? 'lesson' : 'lessons'} complete`,
      '',
      ...catalog.lessons.map((lesson) => {
        const status = lessonStatus(progress, lesson.id);
        const colour = { complete: paint.green, checked: paint.yellow, 'not-started': paint.dim }[status];
        return `  ${status === 'complete' ? paint.green('✓') : ' '} ${lesson.id.padEnd(idWidth)}  ${lesson.title.padEnd(titleWidth)}  ${colour(lessonStatusLabels[status])}`;
      }),
      '',
      `Work through a lesson with ${paint.bold('course start')}; grade it with ${paint.bold('course check <lesson>')}.`,
      '',
    ];
    stdout.write(lines.join('\n'));
    return ExitCode.ok;
  },
};
