import { z } from 'astro/zod';

/**
 * The frontmatter of a lesson in lessons/. Strict: an unknown key is a typo, and the build
 * fails naming the file and the field.
 */
export const lessonSchema = z
  .object({
    /** Page heading and course-map label. */
    title: z.string().min(1),
    /** One sentence for the course map and `course list`. */
    summary: z.string().min(1).max(160),
    /** Id of the exercise in exercises/, when the lesson has one. */
    exercise: z
      .string()
      .regex(/^lesson-\d+$/, 'must be an exercise id of the form lesson-N, e.g. lesson-7')
      .optional(),
    /** What the learner can do afterwards; shown at the top of the lesson. */
    objectives: z.array(z.string().min(1)).min(1),
  })
  .strict();

export type LessonFrontmatter = z.infer<typeof lessonSchema>;

/** Lesson ids are file names: lesson-7.mdx is lesson-7, seventh in the course. */
export const lessonIdPattern = /^lesson-(\d+)$/;

export function lessonNumber(id: string): number {
  const match = lessonIdPattern.exec(id);
  if (!match) throw new Error(`"${id}" is not a lesson id; name the file lesson-N.mdx (e.g. lesson-7.mdx).`);
  return Number(match[1]);
}
