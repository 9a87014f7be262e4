import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classPaths } from '../../../runner/src/class/contract.js';
import { parseJoinLink } from '../../../runner/src/class/join-link.js';
import { openClass, type OpenClass } from '../../../runner/src/class/open-class.js';
import { ClassStore, maxResultsPerLearner } from '../../../runner/src/class/store.js';
import { UserError } from '../../../runner/src/errors.js';
import { courseExercises, makeSubmission } from '../../support/class-fixtures.js';

/** What an adversarial learner, CI job or careless instructor does to a real class server and its SQLite file. */

let dir: string;
let opened: OpenClass;
let origin: string;
let code: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'll-class-hostile-'));
  opened = await openClass({ dbFile: path.join(dir, 'class.sqlite'), listen: '127.0.0.1', port: 0, siteDir: path.join(dir, 'no-site'), exercises: courseExercises });
  origin = opened.server.origin;
  code = parseJoinLink(opened.server.joinLink).code;
});

afterAll(async () => {
  await opened?.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(pathname: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${origin}${pathname}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

describe('names that only look different', () => {
  it('refuses a second learner whose name differs from one in the class only in case, spacing or width', async () => {
    expect((await post(classPaths.apiJoin, { code, name: 'Grace Hopper' })).status).toBe(201);
    for (const lookalike of ['grace hopper', 'GRACE HOPPER', 'Grace  Hopper', 'Grace\u00a0Hopper', 'Ｇrace Hopper', 'Grace\u3000Hopper']) {
      const answer = await post(classPaths.apiJoin, { code, name: lookalike });
      expect(answer.status, lookalike).toBe(409);
      expect(answer.body.error.message).toContain('Grace Hopper');
    }
  });

  it('refuses a CI report in the name of a joined learner written another way, and files CI results under one learner', async () => {
    const submission = makeSubmission({ exercise: 'lesson-1' });
    expect((await post(classPaths.apiReport, { code, name: 'grace HOPPER', submission })).status).toBe(409);
    expect((await post(classPaths.apiReport, { code, name: 'Linus (CI)', submission: makeSubmission({ exercise: 'lesson-1' }) })).status).toBe(201);
    expect((await post(classPaths.apiReport, { code, name: 'linus  (ci)', submission: makeSubmission({ exercise: 'lesson-1' }) })).status).toBe(201);
    const names = opened.store.learners().map((learner) => learner.name);
    expect(names.filter((name) => /linus/i.test(name))).toEqual(['Linus (CI)']);
  });
});

describe('names in several alphabets', () => {
  it('refuses a name that mixes Latin with Cyrillic or Greek look-alike letters, saying which', async () => {
    for (const [name, scripts] of [['\u0410da Lovelace', 'Latin and Cyrillic'], ['Ad\u0430 Lovelace', 'Latin and Cyrillic'], ['\u0391lan Turing', 'Latin and Greek']] as const) {
      const answer = await post(classPaths.apiJoin, { code, name });
      expect(answer.status, name).toBe(422);
      expect(answer.body.error.message).toContain(`mixes ${scripts} letters`);
    }
    expect(opened.store.learners().map((learner) => learner.name)).not.toContain('\u0410da Lovelace');
  });

  it('takes a name written wholly in another alphabet, and refuses one that only looks like a classmate\'s', async () => {
    expect((await post(classPaths.apiJoin, { code, name: 'Aca Cope' })).status).toBe(201);
    // "Аса Соре" in Cyrillic letters alone reads the same as the Latin name already in the class.
    expect((await post(classPaths.apiJoin, { code, name: '\u0410\u0441\u0430 \u0421\u043e\u0440\u0435' })).status).toBe(409);
    // Real Cyrillic and Greek names are welcome.
    expect((await post(classPaths.apiJoin, { code, name: '\u0410\u043d\u043d\u0430 \u041f\u0430\u0432\u043b\u043e\u0432\u0430' })).status).toBe(201);
    expect((await post(classPaths.apiJoin, { code, name: '\u0395\u03bb\u03ad\u03bd\u03b7' })).status).toBe(201);
  });
});

describe('results the class does not keep', () => {
  it('refuses a result for an exercise the course does not have, and stores nothing', async () => {
    const joined = await post(classPaths.apiJoin, { code, name: 'Invented Exercise' });
    const before = opened.store.submissionCount();
    const answer = await fetch(`${origin}${classPaths.apiSubmissions}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${joined.body.key}` },
      body: JSON.stringify(makeSubmission({ exercise: 'lesson-99' })),
    });
    expect(answer.status).toBe(422);
    expect(((await answer.json()) as any).error.message).toBe('This class has no exercise lesson-99.');
    const report = await post(classPaths.apiReport, { code, name: 'Invented (CI)', submission: makeSubmission({ exercise: 'lesson-0' }) });
    expect(report.status).toBe(422);
    expect(opened.store.submissionCount()).toBe(before);
  });

  it(`keeps at most ${maxResultsPerLearner} results from one learner, still acknowledging one sent again`, async () => {
    const joined = await post(classPaths.apiJoin, { code, name: 'Busy Loop' });
    const learner = opened.store.findLearnerByKey(joined.body.key)!;
    const first = makeSubmission({ exercise: 'lesson-3' });
    opened.store.recordSubmissions([first, ...Array.from({ length: maxResultsPerLearner - 1 }, () => makeSubmission({ exercise: 'lesson-3' }))].map((submission) => ({ learnerId: learner.id, submission })));
    const send = (submission: unknown) =>
      fetch(`${origin}${classPaths.apiSubmissions}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${joined.body.key}` }, body: JSON.stringify(submission) });
    const over = await send(makeSubmission({ exercise: 'lesson-3' }));
    expect(over.status).toBe(422);
    expect(((await over.json()) as any).error.message).toContain(`already holds ${maxResultsPerLearner} results from you`);
    expect((await send(first)).status).toBe(200);
    expect(opened.store.submissionCountOf(learner.id)).toBe(maxResultsPerLearner);
    // A classmate is not held back by it.
    const other = await post(classPaths.apiJoin, { code, name: 'Quiet Learner' });
    expect((await fetch(`${origin}${classPaths.apiSubmissions}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${other.body.key}` }, body: JSON.stringify(makeSubmission({ exercise: 'lesson-3' })) })).status).toBe(201);
  });
});

describe('clocks', () => {
  it('refuses a result checked long before the class began, and takes one from another time zone at its real instant', async () => {
    const joined = await post(classPaths.apiJoin, { code, name: 'Clock Skew' });
    const send = (checkedAt: string) =>
      fetch(`${origin}${classPaths.apiSubmissions}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${joined.body.key}` },
        body: JSON.stringify(makeSubmission({ exercise: 'lesson-2', checkedAt })),
      });
    for (const checkedAt of ['1970-01-01T00:00:00Z', '0000-01-01T00:00:00Z', new Date(Date.now() - 3 * 24 * 3600_000).toISOString()]) {
      const answer = await send(checkedAt);
      expect(answer.status, checkedAt).toBe(422);
      expect(((await answer.json()) as any).error.message).toContain('before this class began');
    }
    // The same instant written in UTC+05:30: stored and shown in UTC.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const local = new Date(now.getTime() + 330 * 60_000).toISOString().replace('Z', '+05:30');
    expect((await send(local)).status).toBe(201);
    const row = opened.store.exportRows(['lesson-2']).find((candidate) => candidate.learner === 'Clock Skew')!;
    expect(row.attempts).toBe(1);
    expect(row.first_attempt).toBe(now.toISOString());
  });
});

describe('the class database file', () => {
  it('says what to do when the database cannot be made where --db points', async () => {
    const notAFolder = path.join(dir, 'a-file');
    await writeFile(notAFolder, 'x');
    let thrown: unknown;
    try {
      ClassStore.open(path.join(notAFolder, 'class.sqlite'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as UserError).message).toContain(notAFolder);
  });

  it('changes nothing in a --db that is not a class database: a text file behind a symlink, another program\'s SQLite file', async () => {
    // As root, `--db /etc/passwd` made it mode 0600 before finding it is no database.
    const passwd = path.join(dir, 'passwd');
    await writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\n');
    await chmod(passwd, 0o644);
    await symlink(passwd, path.join(dir, 'linked.sqlite'));
    for (const file of [passwd, path.join(dir, 'linked.sqlite')]) {
      expect(() => ClassStore.open(file), file).toThrow(UserError);
      expect(() => ClassStore.open(file)).toThrow(/not a class database/);
    }
    expect((await stat(passwd)).mode & 0o777).toBe(0o644);
    expect(await readFile(passwd, 'utf8')).toBe('root:x:0:0:root:/root:/bin/bash\n');

    const other = path.join(dir, 'other-app.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)');
    db.close();
    await chmod(other, 0o644);
    expect(() => ClassStore.open(other)).toThrow(/another program's SQLite database \(it holds users\)/);
    const after = new Database(other, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'users' }]);
    after.close();
    expect((await stat(other)).mode & 0o777).toBe(0o644);

    expect(() => ClassStore.open(dir)).toThrow(/is not a file/);
  });

  it('refuses to serve a class whose file another class server already serves', async () => {
    let thrown: unknown;
    try {
      const second = await openClass({ dbFile: path.join(dir, 'class.sqlite'), listen: '127.0.0.1', port: 0, siteDir: path.join(dir, 'no-site'), exercises: courseExercises });
      await second.close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as UserError).message).toMatch(/in use by another `course class serve`/);
    // The first server still takes results.
    expect((await post(classPaths.apiJoin, { code, name: 'Ken Thompson' })).status).toBe(201);
  });
});
