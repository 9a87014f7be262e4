/** What the cache explainer reports, shared by `course inspect --explain-build` and the page: types only. */

export const cacheReportSchemaVersion = 1;

/** The lesson-5 sections that explain each cause. */
export const cacheLessonLinks = {
  key: '/lessons/lesson-5/#how-the-builder-decides',
  cascade: '/lessons/lesson-5/#one-miss-and-everything-after-it-runs-again',
} as const;

export interface CacheReport {
  schemaVersion: typeof cacheReportSchemaVersion;
  /** The build context, as the sandbox sees it. */
  folder: string;
  tag: string;
  buildArgs: Record<string, string>;
  /** Whether an earlier build of this folder and tag was recorded to compare with. */
  hasEarlierBuild: boolean;
  /** In Dockerfile order. */
  steps: ExplainedStep[];
}

export interface ExplainedStep {
  /** As BuildKit names it: "[3/5] COPY . .". */
  name: string;
  /** Line of the Dockerfile, when the step was matched to one. */
  line?: number;
  isCached: boolean;
  /** Why it ran again, for steps that did (the base image's FROM never does). */
  cause?: CacheMissCause;
}

export type CacheMissCause = { message: string; lessonLink: string } & (
  | { kind: 'no-earlier-build' }
  | { kind: 'instruction-changed'; before: string }
  | { kind: 'base-changed'; baseRef: string; before: string; after: string }
  | { kind: 'arg-changed' | 'env-changed'; variable: string; before?: string; after?: string }
  | { kind: 'context-file-changed'; changed: string[]; added: string[]; removed: string[] }
  | { kind: 'earlier-step-rebuilt'; step: string }
  | { kind: 'copied-stage-rebuilt'; stage: string }
  | { kind: 'not-in-cache' }
);
