import { getCollection, type CollectionEntry } from 'astro:content';
import { lessonNumber } from './lesson-schema';

export type Lesson = CollectionEntry<'lessons'>;

/** Every lesson in course order (by the number in its id). */
export async function getLessons(): Promise<Lesson[]> {
  const lessons = await getCollection('lessons');
  return lessons.sort((a, b) => lessonNumber(a.id) - lessonNumber(b.id));
}
