import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { glob } from 'astro/loaders';
import { defineCollection } from 'astro:content';
import { lessonSchema } from './lesson-schema';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Tests build a course from their own folder of lessons; everyone else uses lessons/.
const lessonsDir = process.env.LAYERLAB_LESSONS_DIR ?? path.join(projectRoot, 'lessons');

const lessons = defineCollection({
  // Glob patterns may not start with "../"; point `base` at the folder instead.
  loader: glob({ pattern: '*.mdx', base: lessonsDir }),
  // A lesson naming an exercise that does not exist fails the build here, not at Check time.
  schema: lessonSchema.superRefine((lesson, context) => {
    if (lesson.exercise && !existsSync(path.join(projectRoot, 'exercises', lesson.exercise, 'exercise.ts'))) {
      context.addIssue({
        code: 'custom',
        path: ['exercise'],
        message: `there is no exercise "${lesson.exercise}" (expected exercises/${lesson.exercise}/exercise.ts); create it or fix the id`,
      });
    }
  }),
});

export const collections = { lessons };
