/**
 * What the class server and its dashboard page share: addresses, event names, limits and
 * the shapes of the JSON the dashboard reads. Types and constants only, so the site can
 * import this file without pulling in any runner code.
 */

/** Every address of the class server lives under this prefix. */
export const classPaths = {
  dashboardPage: '/class/',
  join: '/class/join',
  apiJoin: '/class/api/join',
  apiSubmissions: '/class/api/submissions',
  /** CI jobs: one result, authorised by the join code and a learner name instead of a key. */
  apiReport: '/class/api/report',
  apiWhoami: '/class/api/whoami',
  apiDashboard: '/class/api/dashboard',
  /** Followed by a learner id: `/class/api/learners/7/history`. */
  apiLearners: '/class/api/learners/',
  apiEvents: '/class/api/events',
  exportCsv: '/class/export.csv',
  exportJson: '/class/export.json',
} as const;

/** Server-sent event types on `apiEvents`. */
export const classEventTypes = {
  /** Something in the class changed: a learner joined or a result arrived. Data: ClassChangedEvent. */
  changed: 'class-changed',
} as const;

export interface ClassChangedEvent {
  /** Grows with every accepted change; a dashboard that has seen it need not reload. */
  revision: number;
}

/** Submissions bigger than this are refused with 413 before they are parsed. */
export const maxSubmissionBytes = 64 * 1024;
/** The longest learner name, in characters. */
export const maxLearnerNameLength = 60;

/** The columns of `export.csv`, in order; `export.json` rows have the same keys. */
export const exportColumns = ['learner', 'exercise', 'passed', 'attempts', 'first_attempt', 'passed_at', 'best_size_bytes', 'best_layers'] as const;

export type ExportRow = {
  learner: string;
  exercise: string;
  passed: boolean;
  attempts: number;
  /** ISO 8601, as the learner's runner recorded the check. */
  first_attempt: string | null;
  passed_at: string | null;
  best_size_bytes: number | null;
  best_layers: number | null;
};

/** One learner × exercise cell of the dashboard. Absent when the learner never checked the exercise. */
export interface DashboardCell {
  passed: boolean;
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  passedAt: string | null;
  /** From the first attempt to the first passing one. */
  timeToPassMs: number | null;
  /** Smallest image and fewest layers among passing attempts (among all attempts while none passed). */
  bestSizeBytes: number | null;
  bestLayers: number | null;
  /** The image of the most recent attempt: what the distributions show. */
  latestSizeBytes: number | null;
  latestLayers: number | null;
  latestPassed: boolean;
}

export interface DashboardLearner {
  id: number;
  name: string;
  /** `join`: joined with `course join`; `ci`: reported by a CI job with `--report-to`. */
  via: 'join' | 'ci';
  joinedAt: string;
  cells: Record<string, DashboardCell>;
}

export interface DashboardExercise {
  id: string;
  title: string;
  /** The reference solution's image, when the course has measured it. */
  reference: { sizeBytes: number; layers: number } | null;
  learnersAttempted: number;
  learnersPassed: number;
  /** The check most learners have failed at least once (advisory checks aside). */
  mostCommonFailure: { checkId: string; title: string; hint: string; learners: number } | null;
}

export interface ClassDashboard {
  schemaVersion: 1;
  revision: number;
  generatedAt: string;
  exercises: DashboardExercise[];
  learners: DashboardLearner[];
}

/** One attempt in a learner's history, newest first. */
export interface HistoryAttempt {
  submissionId: string;
  exercise: string;
  passed: boolean;
  checkedAt: string;
  receivedAt: string;
  image: string;
  sizeBytes: number | null;
  layers: number | null;
  wastedBytes: number | null;
  buildTools: string[];
  runnerVersion: string;
  checks: Array<{ id: string; status: 'pass' | 'fail' | 'skip'; isAdvisory: boolean }>;
}

export interface LearnerHistory {
  learner: { id: number; name: string; via: 'join' | 'ci'; joinedAt: string };
  attempts: HistoryAttempt[];
}

/** Every error answer of the class server. */
export interface ClassErrorBody {
  error: { message: string; nextStep: string };
}
