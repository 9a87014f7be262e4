/** The learner's exercise folder in the sandbox (~/exercises/<id>): put back to its starter, or compared with the solution. */

/** POST /api/exercises/<id>/reset answers with this. */
export interface ExerciseResetResult {
  exercise: string;
  /** Where the starter now is, e.g. "~/exercises/lesson-7". */
  folder: string;
  /** Where the learner's files were moved, beside it; absent when there was no folder to keep. */
  keptAs?: string;
}

/** One hunk of a line diff: the learner's lines (old) against the solution's (new). */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Each line starts with " " (both), "-" (only the learner's) or "+" (only the solution's). */
  lines: string[];
}

/** GET /api/exercises/<id>/compare answers with this. */
export interface DockerfileComparison {
  exercise: string;
  /** e.g. "~/exercises/lesson-7/Dockerfile". */
  learnerPath: string;
  /** False when the learner has no Dockerfile there yet: every line of the solution is then new. */
  hasLearnerFile: boolean;
  isSame: boolean;
  hunks: DiffHunk[];
}

export function exerciseResetPath(exercise: string): string {
  return `/api/exercises/${encodeURIComponent(exercise)}/reset`;
}

export function exerciseComparePath(exercise: string): string {
  return `/api/exercises/${encodeURIComponent(exercise)}/compare`;
}
