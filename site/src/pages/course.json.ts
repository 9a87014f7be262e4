import type { APIRoute } from 'astro';
import { getCollection } from 'astro:content';
import { lessonNumber } from '../lesson-schema';

/**
 * The lessons as data, for the runner (`course list`, progress): the runner reads this file
 * from the build instead of parsing lessons a second time.
 */
export const GET: APIRoute = async () => {
  const lessons = (await getCollection('lessons')).sort((a, b) => lessonNumber(a.id) - lessonNumber(b.id));
  const body = {
    schemaVersion: 1,
    lessons: lessons.map((lesson) => ({
      id: lesson.id,
      title: lesson.data.title,
      summary: lesson.data.summary,
      ...(lesson.data.exercise ? { exercise: lesson.data.exercise } : {}),
      path: `/lessons/${lesson.id}/`,
    })),
  };
  return new Response(`${JSON.stringify(body, null, 2)}\n`, { headers: { 'Content-Type': 'application/json' } });
};
