import type { LessonProgress, ProgressResponse } from '../../../runner/src/contract/lesson-status';
import { findRunner } from './runner';

export async function fetchProgress(): Promise<Record<string, LessonProgress> | undefined> {
  const runner = await findRunner();
  if (!runner.isPresent) return undefined;
  const response = await fetch('/api/progress', { cache: 'no-store' });
  if (!response.ok) return undefined;
  const body = (await response.json()) as ProgressResponse;
  return body.lessons;
}

export function setStatusPill(pill: HTMLElement, isComplete: boolean, statusLabel?: string): void {
  pill.hidden = false;
  const label = statusLabel ?? (isComplete ? 'complete' : 'not complete');
  pill.textContent = label.charAt(0).toUpperCase() + label.slice(1);
  pill.classList.toggle('pill-complete', isComplete);
  pill.classList.toggle('pill-todo', !isComplete);
}

/** The course map: a pill on every lesson and the share of lessons complete. */
export async function showMapProgress(): Promise<void> {
  const lessons = await fetchProgress();
  if (!lessons) return;
  const cards = [...document.querySelectorAll<HTMLElement>('[data-lesson-id]')];
  let complete = 0;
  for (const card of cards) {
    const lesson = lessons[card.dataset.lessonId!];
    const isComplete = lesson?.isComplete === true;
    if (isComplete) complete++;
    setStatusPill(card.querySelector<HTMLElement>('[data-lesson-status]')!, isComplete, lesson?.statusLabel);
  }
  const summary = document.querySelector<HTMLElement>('[data-progress-summary]');
  if (summary && cards.length) {
    summary.hidden = false;
    summary.querySelector<HTMLElement>('[data-progress-meter]')!.style.width = `${(100 * complete) / cards.length}%`;
    summary.querySelector<HTMLElement>('[data-progress-text]')!.textContent = `${complete} of ${cards.length} ${cards.length === 1 ? 'lesson' : 'lessons'} complete`;
  }
}

/** A lesson page: its pill in the header. */
export async function showLessonProgress(lessonId: string): Promise<void> {
  const lessons = await fetchProgress();
  const pill = document.querySelector<HTMLElement>('[data-lesson-status]');
  if (!lessons || !pill) return;
  setStatusPill(pill, lessons[lessonId]?.isComplete === true, lessons[lessonId]?.statusLabel);
}
