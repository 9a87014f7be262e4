import type { SandboxHealth } from './sandbox-health.js';

/** Where a learner stands on a lesson: complete once a check passed; checked when checks ran but none passed yet. */
export type LessonStatus = 'complete' | 'checked' | 'not-started';

/** The words for each status, the same in `course list`, the course map and the lesson page. */
export const lessonStatusLabels: Record<LessonStatus, string> = {
  complete: 'complete',
  checked: 'checked, not passing yet',
  'not-started': 'not started',
};

/**
 * What a page shows when it cannot know (the site read without its runner): progress lives
 * on the learner's machine, and only the runner can read it.
 */
export const unknownStatusLabel = 'status unknown';

/** One lesson in the answer of GET /api/progress. */
export interface LessonProgress {
  isComplete: boolean;
  status: LessonStatus;
  statusLabel: string;
  completedAt?: string;
}

/** GET /api/progress: every lesson of the course, also those never checked. */
export interface ProgressResponse {
  lessons: Record<string, LessonProgress>;
  /** Set when the progress file could not be read (the lessons then show as not started). */
  warning?: string;
}

/** GET /api/status: how a page knows a runner serves it, and how its sandbox is doing. */
export interface StatusResponse {
  runner: 'layerlab';
  sandboxRunning: boolean;
  /** How the sandbox is doing and its label; absent from older runners. */
  sandboxHealth?: SandboxHealth;
  sandboxHealthLabel?: string;
  /** What to do about it, when it is not healthy. */
  sandboxHealthAdvice?: string;
}

/** Every API error: what went wrong, then what to do. */
export interface ApiError {
  error: { message: string; nextStep: string };
}
