import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { environmentError, usageError, UserError } from '../errors.js';
import type { ClassDashboard, DashboardCell, DashboardExercise, DashboardLearner, ExportRow, HistoryAttempt, LearnerHistory } from './contract.js';
import type { Submission } from './submission.js';

/**
 * The class, kept in one SQLite file (better-sqlite3): who joined, and every result they
 * sent. Write-ahead logging: a result is committed to the log before the server acknowledges
 * it, so a crash or kill -9 of the server loses nothing acknowledged. synchronous=NORMAL (the
 * setting SQLite advises with WAL) leaves the disk sync to checkpoints: only a power cut of
 * the whole machine could lose the last moments, and costs no sync per result. The schema carries its version
 * in `PRAGMA user_version`; `migrations` brings any older file up to date on open.
 */

/** One entry per schema version: migrations[0] makes version 1 from an empty file, and so on. */
const migrations: ReadonlyArray<(db: Database.Database) => void> = [
  (db) =>
    db.exec(`
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE learners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        -- SHA-256 of the learner's key; NULL for learners a CI job reports by name.
        key_hash TEXT UNIQUE,
        via TEXT NOT NULL CHECK (via IN ('join', 'ci')),
        joined_at TEXT NOT NULL
      );
      CREATE TABLE submissions (
        -- Chosen by the learner's runner, so a result sent twice is stored once.
        id TEXT PRIMARY KEY,
        learner_id INTEGER NOT NULL REFERENCES learners(id),
        exercise TEXT NOT NULL,
        passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
        checked_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        image TEXT NOT NULL,
        size_bytes INTEGER,
        layers INTEGER,
        wasted_bytes INTEGER,
        build_tools TEXT NOT NULL,
        runner_version TEXT NOT NULL,
        duration_ms INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX submissions_by_learner ON submissions (learner_id, exercise, checked_at);
      CREATE TABLE check_results (
        submission_id TEXT NOT NULL REFERENCES submissions(id),
        position INTEGER NOT NULL,
        check_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skip')),
        is_advisory INTEGER NOT NULL,
        PRIMARY KEY (submission_id, position)
      ) WITHOUT ROWID;
      CREATE INDEX failed_checks ON check_results (check_id) WHERE status = 'fail' AND is_advisory = 0;
    `),
];

export const classSchemaVersion = migrations.length;

export interface ClassSettings {
  classId: string;
  /** In the join link; lets a learner register, nothing else. */
  joinCode: string;
  /** In the instructor link; reads everything. */
  instructorToken: string;
  createdAt: string;
}

export interface StoredLearner {
  id: number;
  name: string;
  via: 'join' | 'ci';
  joinedAt: string;
}

/** What the dashboard needs to know about each exercise of the course (the store knows no registry). */
export interface ExerciseDescription {
  id: string;
  title: string;
  checks: ReadonlyArray<{ id: string; title: string; hint: string }>;
  reference: { sizeBytes: number; layers: number } | null;
}

export type JoinOutcome = { outcome: 'joined'; learner: StoredLearner; key: string } | { outcome: 'name-taken'; takenBy: string };

export type SubmissionOutcome = { outcome: 'stored' } | { outcome: 'duplicate' } | { outcome: 'id-taken' } | { outcome: 'learner-full' };

/**
 * The most results a class keeps from one learner: a whole course checked a hundred times over.
 * A runner stuck in a loop, or a learner who scripts one, cannot fill the instructor's disk.
 */
export const maxResultsPerLearner = 2000;

interface CellRow {
  learner_id: number;
  exercise: string;
  attempts: number;
  first_attempt: string;
  last_attempt: string;
  passed_at: string | null;
  best_size: number | null;
  best_layers: number | null;
  latest_size: number | null;
  latest_layers: number | null;
  latest_passed: number;
}

export class ClassStore {
  readonly #db: Database.Database;
  #revision: number;
  readonly #statements;

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = {
      learnerByKey: db.prepare<[string], LearnerRow>('SELECT id, name, via, joined_at FROM learners WHERE key_hash = ?'),
      learnersWithKeys: db.prepare<[], LearnerRow & { key_hash: string | null }>('SELECT id, name, via, joined_at, key_hash FROM learners'),
      learnerById: db.prepare<[number], LearnerRow>('SELECT id, name, via, joined_at FROM learners WHERE id = ?'),
      insertLearner: db.prepare('INSERT INTO learners (name, key_hash, via, joined_at) VALUES (?, ?, ?, ?)'),
      submissionOwner: db.prepare<[string], { learner_id: number }>('SELECT learner_id FROM submissions WHERE id = ?'),
      insertSubmission: db.prepare(
        `INSERT INTO submissions (id, learner_id, exercise, passed, checked_at, received_at, image, size_bytes, layers, wasted_bytes, build_tools, runner_version, duration_ms)
         VALUES (@id, @learnerId, @exercise, @passed, @checkedAt, @receivedAt, @image, @sizeBytes, @layers, @wastedBytes, @buildTools, @runnerVersion, @durationMs)`,
      ),
      insertCheck: db.prepare('INSERT INTO check_results (submission_id, position, check_id, status, is_advisory) VALUES (?, ?, ?, ?, ?)'),
    };
    this.#revision = this.#count();
  }

  /** Opens (creating and migrating as needed) the class database at `file`. */
  static open(file: string): ClassStore {
    let db: Database.Database | undefined;
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // No waiting on a lock: whoever holds it keeps it for as long as it serves the class.
      refuseForeignFile(file);
      db = new Database(file, { timeout: 0 });
      // One class server per file: a second one would count its own revisions, never tell its
      // dashboard of the other's results, and race it for names. The connection holds the
      // file's lock until it closes (the system drops it when the process dies, even on kill -9).
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      refuseForeignTables(db, file);
      // The file holds the instructor's token and the server's private key.
      chmodSync(file, 0o600);
    } catch (error) {
      db?.close();
      if (error instanceof UserError) throw error;
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw inUseError(file);
      throw environmentError(`Cannot open the class database ${file}: ${(error as Error).message}.`, 'Choose a file in a folder you can write to with --db FILE, or remove a damaged file.');
    }
    try {
      migrate(db, file);
      const store = new ClassStore(db);
      store.#ensureSettings();
      // The first write takes the exclusive lock, held from now on.
      store.writeSetting('lastOpenedAt', new Date().toISOString());
      return store;
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw inUseError(file);
      throw error;
    }
  }

  close(): void {
    this.#db.close();
  }

  /** Grows with every change; the dashboard uses it to know it is current. */
  get revision(): number {
    return this.#revision;
  }

  settings(): ClassSettings {
    const rows = this.#db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings').all();
    const values = Object.fromEntries(rows.map((row) => [row.key, row.value]));
    return { classId: values.classId!, joinCode: values.joinCode!, instructorToken: values.instructorToken!, createdAt: values.createdAt! };
  }

  readSetting(key: string): string | undefined {
    return this.#db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key)?.value;
  }

  writeSetting(key: string, value: string): void {
    this.#db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  #ensureSettings(): void {
    const defaults: Record<string, () => string> = {
      classId: () => randomUUID(),
      joinCode: () => randomBytes(18).toString('base64url'),
      instructorToken: () => randomBytes(24).toString('base64url'),
      createdAt: () => new Date().toISOString(),
    };
    const insert = this.#db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)');
    this.#db.transaction(() => {
      for (const [key, make] of Object.entries(defaults)) insert.run(key, make());
    })();
  }

  #count(): number {
    const row = this.#db.prepare<[], { total: number }>('SELECT (SELECT COUNT(*) FROM learners) + (SELECT COUNT(*) FROM submissions) AS total').get();
    return row?.total ?? 0;
  }

  /** A learner who runs `course join` gets a key; a CI job's learner (via 'ci') gets none. */
  registerLearner(name: string, via: 'join' | 'ci', now: Date = new Date()): JoinOutcome {
    const taken = this.#learnerCalled(name);
    if (taken) return { outcome: 'name-taken', takenBy: taken.name };
    const key = via === 'join' ? randomBytes(32).toString('base64url') : undefined;
    const joinedAt = now.toISOString();
    const result = this.#statements.insertLearner.run(name, key ? hashKey(key) : null, via, joinedAt);
    this.#revision++;
    return { outcome: 'joined', learner: { id: Number(result.lastInsertRowid), name, via, joinedAt }, key: key ?? '' };
  }

  /** The learner whose name reads the same as `name` ("ada  LOVELACE" is "Ada Lovelace"); a class is small enough to look at each. */
  #learnerCalled(name: string): (LearnerRow & { key_hash: string | null }) | undefined {
    const key = nameKey(name);
    return this.#statements.learnersWithKeys.all().find((learner) => nameKey(learner.name) === key);
  }

  findLearnerByKey(key: string): StoredLearner | undefined {
    const row = this.#statements.learnerByKey.get(hashKey(key));
    return row ? toLearner(row) : undefined;
  }

  /** The learner a CI job reports as: found or created by name, never one who joined with a key. */
  learnerForReport(name: string, now: Date = new Date()): StoredLearner | 'joined-with-key' {
    const existing = this.#learnerCalled(name);
    if (existing) return existing.key_hash === null ? toLearner(existing) : 'joined-with-key';
    const joined = this.registerLearner(name, 'ci', now);
    if (joined.outcome !== 'joined') throw new Error(`learner "${name}" appeared while being created`);
    return joined.learner;
  }

  /** Stores one result in one transaction; the caller acknowledges only after this returns. */
  recordSubmission(learnerId: number, submission: Submission, receivedAt: Date = new Date()): SubmissionOutcome {
    return this.recordSubmissions([{ learnerId, submission }], receivedAt)[0]!;
  }

  /**
   * Stores results from many learners in one transaction, so one disk sync covers them all
   * (group commit): the server batches what arrives together and acknowledges each after this.
   */
  recordSubmissions(batch: ReadonlyArray<{ learnerId: number; submission: Submission }>, receivedAt: Date = new Date()): SubmissionOutcome[] {
    return this.#db.transaction(() => batch.map(({ learnerId, submission }) => this.#insert(learnerId, submission, receivedAt)))();
  }

  #insert(learnerId: number, submission: Submission, receivedAt: Date): SubmissionOutcome {
    {
      const owner = this.#statements.submissionOwner.get(submission.submissionId);
      if (owner) return owner.learner_id === learnerId ? { outcome: 'duplicate' } : { outcome: 'id-taken' };
      if (this.submissionCountOf(learnerId) >= maxResultsPerLearner) return { outcome: 'learner-full' };
      this.#statements.insertSubmission.run({
        id: submission.submissionId,
        learnerId,
        exercise: submission.exercise,
        passed: submission.passed ? 1 : 0,
        checkedAt: new Date(submission.checkedAt).toISOString(),
        receivedAt: receivedAt.toISOString(),
        image: submission.image,
        sizeBytes: submission.metrics.sizeBytes,
        layers: submission.metrics.layers,
        wastedBytes: submission.metrics.wastedBytes,
        buildTools: JSON.stringify(submission.metrics.buildTools),
        runnerVersion: submission.runnerVersion,
        durationMs: submission.durationMs ?? null,
      });
      submission.checks.forEach((check, position) =>
        this.#statements.insertCheck.run(submission.submissionId, position, check.id, check.status, check.isAdvisory ? 1 : 0),
      );
      this.#revision++;
      return { outcome: 'stored' };
    }
  }

  learners(): StoredLearner[] {
    return this.#db.prepare<[], LearnerRow>('SELECT id, name, via, joined_at FROM learners ORDER BY name COLLATE NOCASE, id').all().map(toLearner);
  }

  /** One row per learner × exercise they checked, with everything the dashboard and export show. */
  #cells(): CellRow[] {
    return this.#db
      .prepare<[], CellRow>(
        `WITH ranked AS (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY learner_id, exercise ORDER BY checked_at DESC, received_at DESC, id) AS recency
           FROM submissions
         )
         SELECT learner_id, exercise,
           COUNT(*) AS attempts,
           MIN(checked_at) AS first_attempt,
           MAX(checked_at) AS last_attempt,
           MIN(CASE WHEN passed = 1 THEN checked_at END) AS passed_at,
           CASE WHEN MAX(passed) = 1 THEN MIN(CASE WHEN passed = 1 THEN size_bytes END) ELSE MIN(size_bytes) END AS best_size,
           CASE WHEN MAX(passed) = 1 THEN MIN(CASE WHEN passed = 1 THEN layers END) ELSE MIN(layers) END AS best_layers,
           MAX(CASE WHEN recency = 1 THEN size_bytes END) AS latest_size,
           MAX(CASE WHEN recency = 1 THEN layers END) AS latest_layers,
           MAX(CASE WHEN recency = 1 THEN passed END) AS latest_passed
         FROM ranked
         GROUP BY learner_id, exercise`,
      )
      .all();
  }

  /** How many learners failed each check at least once, per exercise, most first. */
  #failureCounts(): Array<{ exercise: string; check_id: string; learners: number }> {
    return this.#db
      .prepare<[], { exercise: string; check_id: string; learners: number }>(
        `SELECT s.exercise, c.check_id, COUNT(DISTINCT s.learner_id) AS learners
         FROM check_results c JOIN submissions s ON s.id = c.submission_id
         WHERE c.status = 'fail' AND c.is_advisory = 0
         GROUP BY s.exercise, c.check_id
         ORDER BY s.exercise, learners DESC, c.check_id`,
      )
      .all();
  }

  dashboard(exercises: readonly ExerciseDescription[], now: Date = new Date()): ClassDashboard {
    const learners = new Map<number, DashboardLearner>(
      this.learners().map((learner) => [learner.id, { ...learner, cells: {} }]),
    );
    const seenExercises = new Set<string>();
    const attempted = new Map<string, number>();
    const passed = new Map<string, number>();
    for (const row of this.#cells()) {
      const learner = learners.get(row.learner_id);
      if (!learner) continue;
      seenExercises.add(row.exercise);
      const cell: DashboardCell = {
        passed: row.passed_at !== null,
        attempts: row.attempts,
        firstAttemptAt: row.first_attempt,
        lastAttemptAt: row.last_attempt,
        passedAt: row.passed_at,
        timeToPassMs: row.passed_at === null ? null : Date.parse(row.passed_at) - Date.parse(row.first_attempt),
        bestSizeBytes: row.best_size,
        bestLayers: row.best_layers,
        latestSizeBytes: row.latest_size,
        latestLayers: row.latest_layers,
        latestPassed: row.latest_passed === 1,
      };
      learner.cells[row.exercise] = cell;
      attempted.set(row.exercise, (attempted.get(row.exercise) ?? 0) + 1);
      if (cell.passed) passed.set(row.exercise, (passed.get(row.exercise) ?? 0) + 1);
    }
    const topFailure = new Map<string, { check_id: string; learners: number }>();
    for (const row of this.#failureCounts()) if (!topFailure.has(row.exercise)) topFailure.set(row.exercise, row);

    const described = new Map(exercises.map((exercise) => [exercise.id, exercise]));
    // The course's exercises in order, then any others learners sent (a newer runner's lessons).
    const ids = [...exercises.map((exercise) => exercise.id), ...[...seenExercises].filter((id) => !described.has(id)).sort(compareExerciseIds)];
    const dashboardExercises = ids.map((id): DashboardExercise => {
      const description = described.get(id);
      const failure = topFailure.get(id);
      const check = failure ? description?.checks.find((candidate) => candidate.id === failure.check_id) : undefined;
      return {
        id,
        title: description?.title ?? id,
        reference: description?.reference ?? null,
        learnersAttempted: attempted.get(id) ?? 0,
        learnersPassed: passed.get(id) ?? 0,
        mostCommonFailure: failure ? { checkId: failure.check_id, title: check?.title ?? failure.check_id, hint: check?.hint ?? '', learners: failure.learners } : null,
      };
    });
    return { schemaVersion: 1, revision: this.#revision, generatedAt: now.toISOString(), exercises: dashboardExercises, learners: [...learners.values()] };
  }

  /** One row per learner × exercise of the course (and any other exercise someone sent), learners by name. */
  exportRows(exerciseIds: readonly string[]): ExportRow[] {
    const cells = new Map(this.#cells().map((row) => [`${row.learner_id}\u0000${row.exercise}`, row]));
    const extra = [...new Set([...cells.values()].map((row) => row.exercise))].filter((id) => !exerciseIds.includes(id)).sort(compareExerciseIds);
    const ids = [...exerciseIds, ...extra];
    return this.learners().flatMap((learner) =>
      ids.map((exercise): ExportRow => {
        const row = cells.get(`${learner.id}\u0000${exercise}`);
        return {
          learner: learner.name,
          exercise,
          passed: row?.passed_at != null,
          attempts: row?.attempts ?? 0,
          first_attempt: row?.first_attempt ?? null,
          passed_at: row?.passed_at ?? null,
          best_size_bytes: row?.best_size ?? null,
          best_layers: row?.best_layers ?? null,
        };
      }),
    );
  }

  history(learnerId: number): LearnerHistory | undefined {
    const learner = this.#statements.learnerById.get(learnerId);
    if (!learner) return undefined;
    const rows = this.#db
      .prepare<[number], SubmissionRow>('SELECT * FROM submissions WHERE learner_id = ? ORDER BY checked_at DESC, received_at DESC')
      .all(learnerId);
    const checks = this.#db
      .prepare<[number], { submission_id: string; check_id: string; status: 'pass' | 'fail' | 'skip'; is_advisory: number }>(
        `SELECT c.submission_id, c.check_id, c.status, c.is_advisory FROM check_results c JOIN submissions s ON s.id = c.submission_id
         WHERE s.learner_id = ? ORDER BY c.submission_id, c.position`,
      )
      .all(learnerId);
    const checksBySubmission = new Map<string, HistoryAttempt['checks']>();
    for (const check of checks) {
      const list = checksBySubmission.get(check.submission_id) ?? [];
      list.push({ id: check.check_id, status: check.status, isAdvisory: check.is_advisory === 1 });
      checksBySubmission.set(check.submission_id, list);
    }
    return {
      learner: toLearner(learner),
      attempts: rows.map((row) => ({
        submissionId: row.id,
        exercise: row.exercise,
        passed: row.passed === 1,
        checkedAt: row.checked_at,
        receivedAt: row.received_at,
        image: row.image,
        sizeBytes: row.size_bytes,
        layers: row.layers,
        wastedBytes: row.wasted_bytes,
        buildTools: JSON.parse(row.build_tools) as string[],
        runnerVersion: row.runner_version,
        checks: checksBySubmission.get(row.id) ?? [],
      })),
    };
  }

  /** How many results the class holds from one learner. */
  submissionCountOf(learnerId: number): number {
    return this.#db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM submissions WHERE learner_id = ?').get(learnerId)?.n ?? 0;
  }

  /** Every stored submission id with its learner: for tests and audits that count exactly. */
  submissionCount(): number {
    return this.#db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM submissions').get()?.n ?? 0;
  }
}

interface LearnerRow {
  id: number;
  name: string;
  via: 'join' | 'ci';
  joined_at: string;
}

interface SubmissionRow {
  id: string;
  learner_id: number;
  exercise: string;
  passed: number;
  checked_at: string;
  received_at: string;
  image: string;
  size_bytes: number | null;
  layers: number | null;
  wasted_bytes: number | null;
  build_tools: string;
  runner_version: string;
}

function toLearner(row: LearnerRow): StoredLearner {
  return { id: row.id, name: row.name, via: row.via, joinedAt: row.joined_at };
}

const sqliteHeader = Buffer.from('SQLite format 3\u0000', 'latin1');

/**
 * --db names a class database or a file still to be made, nothing else: the store changes the
 * file's mode and writes to it, which (run as root) would break /dev/null or /etc/passwd.
 */
function refuseForeignFile(file: string): void {
  let info;
  try {
    info = statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isFile()) throw usageError(`--db ${file} is not a file (it is a folder or a device); nothing was changed.`, foreignFileNextStep);
  if (info.size === 0) return;
  const head = Buffer.alloc(sqliteHeader.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(sqliteHeader)) throw usageError(`--db ${file} is not a class database (not an SQLite file); nothing in it was changed.`, foreignFileNextStep);
}

/** An SQLite file of another program (tables, no class schema version) is not made into a class. */
function refuseForeignTables(db: Database.Database, file: string): void {
  if ((db.pragma('user_version', { simple: true }) as number) !== 0) return;
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 3").all();
  if (tables.length > 0) {
    throw usageError(`--db ${file} is another program's SQLite database (it holds ${tables.map((table) => table.name).join(', ')}), not a class; nothing in it was changed.`, foreignFileNextStep);
  }
}

const foreignFileNextStep = 'Give --db a new file name (it is made), or the file an earlier `course class serve` made.';

function inUseError(file: string) {
  return environmentError(
    `The class database ${file} is in use by another \`course class serve\` (or another program).`,
    'Use the class server that is already running (its window shows the links), or stop it first; for a separate class give --db OTHER_FILE.',
  );
}

/**
 * Cyrillic and Greek letters drawn like Latin ones, from Unicode's confusables list (UTS #39).
 * A name written wholly in one of those scripts can pass for a Latin name ("Аса" for "Aca");
 * a name that mixes scripts is refused before it gets here (learnerNameSchema).
 */
const latinLookalikes: Readonly<Record<string, string>> = {
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', Ѕ: 'S', І: 'I', Ј: 'J',
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', һ: 'h', ԛ: 'q', ԝ: 'w', ӏ: 'l',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  α: 'a', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', υ: 'u', χ: 'x',
};

/**
 * The form two names share when people would take them for the same: compatibility forms
 * (full-width letters, no-break spaces), Latin look-alikes, case and runs of spaces folded away.
 */
export function nameKey(name: string): string {
  const latin = [...name.normalize('NFKC')].map((character) => latinLookalikes[character] ?? character).join('');
  return latin.toLowerCase().replace(/\s+/gu, ' ').trim();
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** lesson-2 before lesson-10. */
export function compareExerciseIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw environmentError(
      `The class database ${file} was written by a newer Layerlab (schema ${version}; this one knows up to ${migrations.length}).`,
      'Update Layerlab (git pull && npm install && npm run build), or start a new class with --db OTHER_FILE.',
    );
  }
  for (let next = version; next < migrations.length; next++) {
    db.transaction(() => {
      migrations[next]!(db);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}
