/**
 * The result of grading one image: what `course check`, its JSON report and the page's
 * Check panel all show. report/json.ts serialises it as schemaVersion 1.
 */

export type CheckStatus = 'pass' | 'fail' | 'skip';

export type ArchiveLayout = 'docker-legacy' | 'oci';

export interface CheckRun {
  exercise: string;
  image: string;
  /** The id the image resolved to; absent when there was no image. */
  imageId?: string;
  /** The engine that was asked, e.g. "unix:///…/docker.sock", and its version. */
  engine: { address: string; version: string };
  passed: boolean;
  checks: CheckResult[];
  /** For a layer chart: bottom to top. Empty when there was no image. */
  layers: LayerSummary[];
  sizeBytes?: number;
  archiveLayout?: ArchiveLayout;
  startedAt: string;
  durationMs: number;
}

export interface CheckResult {
  id: string;
  title: string;
  kind: string;
  status: CheckStatus;
  passed: boolean;
  /** Advice does not decide whether the exercise passes. */
  isAdvisory: boolean;
  expected: string;
  actual: string;
  /** Why it failed, with numbers and the instruction that caused it when known. */
  message?: string;
  /** The same findings, grouped for reading (by layer), every item listed; absent when there is nothing to list. */
  evidence?: EvidenceGroup[];
  hint: string;
}

/** One group of findings: what they share (usually the layer they are in), then each one. */
export interface EvidenceGroup {
  /** E.g. "The Go toolchain, added by layer 2 (`RUN apt-get install golang-go`)"; `code` spans in backticks. */
  heading: string;
  /** The layer the group is about, 0 for the bottom one. */
  layer?: number;
  /** One path (or fact) per item, in the order worth reading. */
  items: string[];
}

export interface LayerSummary {
  index: number;
  diffId: string;
  sizeBytes: number;
  instruction?: string;
  createdBy?: string;
  buildTools: string[];
  unreadable?: string;
}

/** POST /api/check/<exercise> answers with these, one JSON object per line. */
export type CheckStreamEvent =
  /** A new phase began; `text` says what the check does or waits for, `elapsedMs` counts from the request. */
  | { type: 'progress'; text: string; elapsedMs: number }
  | { type: 'result'; run: CheckRun; lessonComplete: boolean; isNewlyComplete: boolean }
  | { type: 'error'; message: string; nextStep: string };

/** Path of the Check request for an exercise. */
export function checkPath(exercise: string): string {
  return `/api/check/${encodeURIComponent(exercise)}`;
}
