import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classSchemaVersion, ClassStore, type ExerciseDescription } from '../../../runner/src/class/store.js';
import { makeSubmission } from '../../support/class-fixtures.js';

const exercises: ExerciseDescription[] = [
  { id: 'lesson-1', title: 'One layer', checks: [{ id: 'two-layers', title: 'Two layers at most', hint: 'Fewer RUN lines.' }, { id: 'on-debian', title: 'On Debian', hint: 'FROM debian.' }], reference: { sizeBytes: 78_000_000, layers: 2 } },
  { id: 'lesson-2', title: 'Context', checks: [], reference: null },
];

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'll-class-store-'));
  file = path.join(dir, 'class.sqlite');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 30, 9, minutes)).toISOString();

describe('the class store', () => {
  it('creates the schema at the current version, in WAL mode, with lasting secrets', () => {
    const store = ClassStore.open(file);
    const first = store.settings();
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(classSchemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = ClassStore.open(file);
    expect(again.settings()).toEqual(first);
    again.close();
  });

  it('refuses a database written by a newer schema, saying what to do', () => {
    const db = new Database(file);
    db.pragma(`user_version = ${classSchemaVersion + 1}`);
    db.close();
    expect(() => ClassStore.open(file)).toThrow(/newer Layerlab/);
  });

  it('keys learners by a secret it stores only as a hash, and refuses a second learner of the same name', () => {
    const store = ClassStore.open(file);
    const joined = store.registerLearner('Ada', 'join');
    expect(joined.outcome).toBe('joined');
    if (joined.outcome !== 'joined') return;
    expect(store.findLearnerByKey(joined.key)?.name).toBe('Ada');
    expect(store.findLearnerByKey(`${joined.key}x`)).toBeUndefined();
    expect(store.registerLearner('Ada', 'join').outcome).toBe('name-taken');
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(JSON.stringify(raw.prepare('SELECT * FROM learners').all())).not.toContain(joined.key);
    raw.close();
  });

  it('stores a submission once, however often it is sent, and never under another learner', () => {
    const store = ClassStore.open(file);
    const ada = store.registerLearner('Ada', 'join');
    const bob = store.registerLearner('Bob', 'join');
    if (ada.outcome !== 'joined' || bob.outcome !== 'joined') throw new Error('join failed');
    const submission = makeSubmission();
    expect(store.recordSubmission(ada.learner.id, submission).outcome).toBe('stored');
    expect(store.recordSubmission(ada.learner.id, submission).outcome).toBe('duplicate');
    expect(store.recordSubmission(bob.learner.id, submission).outcome).toBe('id-taken');
    expect(store.submissionCount()).toBe(1);
    store.close();
  });

  it('counts attempts, first attempt, passing time and the best image per learner and exercise', () => {
    const store = ClassStore.open(file);
    const ada = store.registerLearner('Ada', 'join');
    if (ada.outcome !== 'joined') throw new Error('join failed');
    // Sent out of order, as a queue delivered after an outage would.
    store.recordSubmission(ada.learner.id, makeSubmission({ checkedAt: at(30), passed: true, metrics: { sizeBytes: 90_000_000, layers: 3, buildTools: [], wastedBytes: null } }));
    store.recordSubmission(ada.learner.id, makeSubmission({ checkedAt: at(0), failing: ['two-layers'], metrics: { sizeBytes: 50_000_000, layers: 9, buildTools: ['gcc'], wastedBytes: null } }));
    store.recordSubmission(ada.learner.id, makeSubmission({ checkedAt: at(45), passed: true, metrics: { sizeBytes: 80_000_000, layers: 2, buildTools: [], wastedBytes: null } }));
    store.recordSubmission(ada.learner.id, makeSubmission({ checkedAt: at(50), failing: ['on-debian'], metrics: { sizeBytes: 70_000_000, layers: 4, buildTools: [], wastedBytes: null } }));
    const cell = store.dashboard(exercises).learners[0]!.cells['lesson-1']!;
    expect(cell).toMatchObject({
      passed: true,
      attempts: 4,
      firstAttemptAt: at(0),
      lastAttemptAt: at(50),
      passedAt: at(30),
      timeToPassMs: 30 * 60_000,
      // Best among passing attempts only: the 50 MB failing image does not count.
      bestSizeBytes: 80_000_000,
      bestLayers: 2,
      latestSizeBytes: 70_000_000,
      latestLayers: 4,
      latestPassed: false,
    });
    const rows = store.exportRows(exercises.map((exercise) => exercise.id));
    expect(rows).toEqual([
      { learner: 'Ada', exercise: 'lesson-1', passed: true, attempts: 4, first_attempt: at(0), passed_at: at(30), best_size_bytes: 80_000_000, best_layers: 2 },
      { learner: 'Ada', exercise: 'lesson-2', passed: false, attempts: 0, first_attempt: null, passed_at: null, best_size_bytes: null, best_layers: null },
    ]);
    store.close();
  });

  it('takes the best image among all attempts while none passed', () => {
    const store = ClassStore.open(file);
    const ada = store.registerLearner('Ada', 'join');
    if (ada.outcome !== 'joined') throw new Error('join failed');
    store.recordSubmission(ada.learner.id, makeSubmission({ failing: ['two-layers'], metrics: { sizeBytes: 60, layers: 7, buildTools: [], wastedBytes: null } }));
    store.recordSubmission(ada.learner.id, makeSubmission({ failing: ['two-layers'], metrics: { sizeBytes: 40, layers: 9, buildTools: [], wastedBytes: null } }));
    expect(store.exportRows(['lesson-1'])[0]).toMatchObject({ passed: false, attempts: 2, best_size_bytes: 40, best_layers: 7, passed_at: null });
    store.close();
  });

  it('names the check most learners failed, with its hint, counting each learner once', () => {
    const store = ClassStore.open(file);
    const ids = ['Ada', 'Bob', 'Cy'].map((name) => {
      const joined = store.registerLearner(name, 'join');
      if (joined.outcome !== 'joined') throw new Error('join failed');
      return joined.learner.id;
    });
    // Ada fails on-debian five times; Bob and Cy each fail two-layers once.
    for (let attempt = 0; attempt < 5; attempt++) store.recordSubmission(ids[0]!, makeSubmission({ failing: ['on-debian'] }));
    store.recordSubmission(ids[1]!, makeSubmission({ failing: ['two-layers'] }));
    store.recordSubmission(ids[2]!, makeSubmission({ failing: ['two-layers'] }));
    const lesson1 = store.dashboard(exercises).exercises.find((exercise) => exercise.id === 'lesson-1')!;
    expect(lesson1.mostCommonFailure).toEqual({ checkId: 'two-layers', title: 'Two layers at most', hint: 'Fewer RUN lines.', learners: 2 });
    expect(lesson1.reference).toEqual({ sizeBytes: 78_000_000, layers: 2 });
    store.close();
  });

  it('keeps exercises it does not know (a newer runner\'s) after the course\'s own, in lesson order', () => {
    const store = ClassStore.open(file);
    const ada = store.registerLearner('Ada', 'join');
    if (ada.outcome !== 'joined') throw new Error('join failed');
    store.recordSubmission(ada.learner.id, makeSubmission({ exercise: 'lesson-10' }));
    store.recordSubmission(ada.learner.id, makeSubmission({ exercise: 'lesson-9' }));
    expect(store.dashboard(exercises).exercises.map((exercise) => exercise.id)).toEqual(['lesson-1', 'lesson-2', 'lesson-9', 'lesson-10']);
    expect(store.exportRows(['lesson-1', 'lesson-2']).map((row) => row.exercise)).toEqual(['lesson-1', 'lesson-2', 'lesson-9', 'lesson-10']);
    store.close();
  });

  it('lets a CI job report by name, but never in the name of a learner who joined with a key', () => {
    const store = ClassStore.open(file);
    store.registerLearner('Ada', 'join');
    expect(store.learnerForReport('Ada')).toBe('joined-with-key');
    const ci = store.learnerForReport('Bob (CI)');
    expect(ci).toMatchObject({ name: 'Bob (CI)', via: 'ci' });
    expect(store.learnerForReport('Bob (CI)')).toEqual(ci);
    store.close();
  });
});
