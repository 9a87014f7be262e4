import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { LessonStatus } from './contract/lesson-status.js';

// The status words are part of the runner–page contract.
export { lessonStatusLabels, type LessonStatus } from './contract/lesson-status.js';

/**
 * The learner's progress: which lessons are complete, kept in one JSON file in the data
 * folder (~/.local/share/layerlab/progress.json). `course check` and the Check button both
 * record through `recordCheck`, so the two can never disagree.
 */

const lessonProgress = z.object({
  /** When a check of this lesson first passed; a lesson stays complete after that. */
  completedAt: z.string().datetime().optional(),
  /** The latest check, passed or not. */
  lastCheck: z.object({ at: z.string().datetime(), passed: z.boolean(), image: z.string() }).optional(),
});

const progressFile = z.object({
  schemaVersion: z.literal(1),
  lessons: z.record(z.string(), lessonProgress),
});

export type LessonProgress = z.infer<typeof lessonProgress>;
export type ProgressFile = z.infer<typeof progressFile>;

export interface ProgressReading {
  progress: ProgressFile;
  /** Set when the file existed but could not be used; say it to the learner. */
  warning?: string;
}

export function progressFilePath(dataDir: string): string {
  return path.join(dataDir, 'progress.json');
}

const empty = (): ProgressFile => ({ schemaVersion: 1, lessons: {} });

/** Reads the progress file. A missing file is no progress; an unreadable one is reported, not fatal. */
export async function readProgress(dataDir: string): Promise<ProgressReading> {
  const file = progressFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { progress: empty() };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { progress: empty(), warning: `Your progress file ${file} is not valid JSON, so no lesson shows as complete.` };
  }
  const parsed = progressFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      progress: empty(),
      warning: `Your progress file ${file} is not in the expected form (${issue.path.join('.') || 'top level'}: ${issue.message}), so no lesson shows as complete.`,
    };
  }
  return { progress: parsed.data };
}

export function isComplete(progress: ProgressFile, lessonId: string): boolean {
  return progress.lessons[lessonId]?.completedAt !== undefined;
}

/** Complete once a check passed; checked when checks ran but none passed yet. */
export function lessonStatus(progress: ProgressFile, lessonId: string): LessonStatus {
  if (isComplete(progress, lessonId)) return 'complete';
  return progress.lessons[lessonId]?.lastCheck ? 'checked' : 'not-started';
}

export interface RecordedCheck {
  progress: ProgressFile;
  /** True when this check completed the lesson for the first time. */
  isNewlyComplete: boolean;
  /** Where an unreadable earlier file was kept, if there was one. */
  keptUnreadableAs?: string;
}

/** Writes are queued per file within this process, so two checks finishing together both count. */
const writeQueues = new Map<string, Promise<unknown>>();

/** Records the result of a check; a passing check completes its lesson. */
export async function recordCheck(
  dataDir: string,
  check: { lessonId: string; passed: boolean; image: string; at?: Date },
): Promise<RecordedCheck> {
  const file = progressFilePath(dataDir);
  const previous = writeQueues.get(file) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => recordNow(dataDir, check));
  writeQueues.set(file, next);
  return await next;
}

async function recordNow(dataDir: string, check: { lessonId: string; passed: boolean; image: string; at?: Date }): Promise<RecordedCheck> {
  const file = progressFilePath(dataDir);
  const reading = await readProgress(dataDir);
  let keptUnreadableAs: string | undefined;
  if (reading.warning) {
    // Lose nothing: the unreadable file is kept beside the new one for the learner to look at.
    keptUnreadableAs = `${file}.unreadable-${Date.now()}`;
    await rename(file, keptUnreadableAs);
  }
  const at = (check.at ?? new Date()).toISOString();
  const before = reading.progress.lessons[check.lessonId] ?? {};
  const isNewlyComplete = check.passed && before.completedAt === undefined;
  const progress: ProgressFile = {
    ...reading.progress,
    lessons: {
      ...reading.progress.lessons,
      [check.lessonId]: {
        ...before,
        ...(isNewlyComplete ? { completedAt: at } : {}),
        lastCheck: { at, passed: check.passed, image: check.image },
      },
    },
  };
  await writeFileAtomically(file, `${JSON.stringify(progress, null, 2)}\n`);
  return { progress, isNewlyComplete, ...(keptUnreadableAs ? { keptUnreadableAs } : {}) };
}

/** Temp file in the same folder, then rename: a crash leaves the old file or the new, never half of one. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}
