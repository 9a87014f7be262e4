import { unknownStatusLabel, type LessonProgress, type ProgressResponse } from '../../../runner/src/contract/lesson-status';
import { findRunner } from './runner';
import { authHeaders } from './runner-token';

export type PillState = 'complete' | 'incomplete' | 'unknown';

export async function fetchProgress(): Promise<Record<string, LessonProgress> | undefined> {
  const runner = await findRunner();
  if (!runner.isPresent) return undefined;
  const response = await fetch('/api/progress', { cache: 'no-store', headers: authHeaders() });
  if (!response.ok) return undefined;
  const body = (await response.json()) as ProgressResponse;
  return body.lessons;
}

/** A lesson's status pill, in the runner's words; without a runner the status is unknown, not "not complete". */
export function setStatusPill(pill: HTMLElement, state: PillState, statusLabel?: string): void {
  pill.hidden = false;
  const label = state === 'unknown' ? unknownStatusLabel : (statusLabel ?? (state === 'complete' ? 'complete' : 'not complete'));
  pill.textContent = label.charAt(0).toUpperCase() + label.slice(1);
  pill.classList.toggle('pill-complete', state === 'complete');
  pill.classList.toggle('pill-todo', state === 'incomplete');
  pill.classList.toggle('pill-unknown', state === 'unknown');
  if (state === 'unknown') pill.title = 'Your progress is kept by the runner on your machine; open this page through `course start` to see it.';
  else pill.removeAttribute('title');
}

/** The course map: a pill on every lesson and the share of lessons complete. */
export async function showMapProgress(): Promise<void> {
  const lessons = await fetchProgress();
  const cards = [...document.querySelectorAll<HTMLElement>('[data-lesson-id]')];
  let complete = 0;
  for (const card of cards) {
    const pill = card.querySelector<HTMLElement>('[data-lesson-status]')!;
    if (!lessons) {
      setStatusPill(pill, 'unknown');
      continue;
    }
    const lesson = lessons[card.dataset.lessonId!];
    const isComplete = lesson?.isComplete === true;
    if (isComplete) complete++;
    setStatusPill(pill, isComplete ? 'complete' : 'incomplete', lesson?.statusLabel);
  }
  const summary = document.querySelector<HTMLElement>('[data-progress-summary]');
  if (lessons && summary && cards.length) {
    summary.hidden = false;
    summary.querySelector<HTMLElement>('[data-progress-meter]')!.style.width = `${(100 * complete) / cards.length}%`;
    summary.querySelector<HTMLElement>('[data-progress-text]')!.textContent = `${complete} of ${cards.length} ${cards.length === 1 ? 'lesson' : 'lessons'} complete`;
  }
}

/** A lesson page: its pill in the header. */
export async function showLessonProgress(lessonId: string): Promise<void> {
  const lessons = await fetchProgress();
  const pill = document.querySelector<HTMLElement>('[data-lesson-status]');
  if (!pill) return;
  if (!lessons) return setStatusPill(pill, 'unknown');
  setStatusPill(pill, lessons[lessonId]?.isComplete === true ? 'complete' : 'incomplete', lessons[lessonId]?.statusLabel);
}
