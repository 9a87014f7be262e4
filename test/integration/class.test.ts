import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { classPaths, exportColumns } from '../../runner/src/class/contract.js';
import { referenceImages } from '../../runner/src/class/exercise-descriptions.js';
import { parseJoinLink } from '../../runner/src/class/join-link.js';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, contextOf, exerciseDir } from '../support/build-image.js';
import { makeSubmission } from '../support/class-fixtures.js';
import { startClassServer, type StartedClass } from '../support/class-server-process.js';
import { removeTestObjects } from '../support/cleanup.js';
import { hasStackTrace, runCourse, type CourseResult } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * A class with real processes: `course class serve`, three learners each with a data
 * folder of their own (all grading in the one test sandbox), real checks of lesson 1 that
 * pass and fail, the server stopped mid-class and started again, and a kill -9.
 */

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const passImage = `ll-class-pass-${runId}`;
const failImage = `ll-class-fail-${runId}`;

let host: Engine;
let nested: Engine;
let workDir: string;
let passSizeBytes: number;
let failSizeBytes: number;
const servers: StartedClass[] = [];

interface Learner {
  name: string;
  env: Record<string, string>;
}

/** A learner's own data folder, whose sandbox folder leads to the shared test sandbox's socket. */
async function newLearner(name: string, slug: string): Promise<Learner> {
  const dataDir = path.join(workDir, slug);
  await mkdir(path.join(dataDir, 'sandboxes'), { recursive: true });
  await symlink(instance.socketDir, path.join(dataDir, 'sandboxes', instance.name));
  return { name, env: { ...sandboxEnv, LAYERLAB_DATA_DIR: dataDir } };
}

const course = (learner: Learner | Record<string, string>, args: string[]) => runCourse(args, 'env' in learner ? (learner.env as Record<string, string>) : learner);
const check = (learner: Learner, image: string) => course(learner, ['check', 'lesson-1', '--image', image]);

async function startClass(args: string[] = []): Promise<StartedClass> {
  const started = await startClassServer({ ...sandboxEnv, LAYERLAB_DATA_DIR: path.join(workDir, 'instructor') }, ['--db', path.join(workDir, 'class.sqlite'), ...args]);
  servers.push(started);
  return started;
}

async function readClass(server: StartedClass, pathname: string): Promise<Response> {
  const response = await fetch(`${server.origin}${pathname}`, { headers: { Authorization: `Bearer ${server.token}` } });
  expect(response.status, pathname).toBe(200);
  return response;
}

/** RFC 4180: fields in quotes may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') (field += '"'), index++;
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') row.push(field), (field = '');
    else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), index++;
    } else field += char;
  }
  return rows;
}

function expectNoStack(result: CourseResult): void {
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-'));
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  const labels = { [testLabel]: runId };
  await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-1', 'solution')), tag: passImage, labels });
  await buildInSandbox(host, instance, { context: await contextOf(exerciseDir('lesson-1', 'starter')), tag: failImage, labels });
  passSizeBytes = (await nested.docker.getImage(passImage).inspect()).Size;
  // The dashboard marks this as the reference solution: it must be what the solution builds to
  // (within the drift of Debian's packages under the base image).
  expect(referenceImages['lesson-1']!.layers).toBe((await nested.docker.getImage(passImage).inspect()).RootFS.Layers?.length);
  expect(Math.abs(referenceImages['lesson-1']!.sizeBytes - passSizeBytes) / passSizeBytes).toBeLessThan(0.1);
  failSizeBytes = (await nested.docker.getImage(failImage).inspect()).Size;
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  await removeTestObjects(nested.docker, runId);
  await rm(workDir, { recursive: true, force: true });
});

describe('a class of three learners', () => {
  let ada: Learner;
  let lovelace: Learner;
  let zoe: Learner;
  let server: StartedClass;

  it('lets each learner join once, under a name of their own', async () => {
    server = await startClass(['--port', '0']);
    expect(server.joinLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/class\/join\?code=/);
    ada = await newLearner('Ada Lovelace', 'ada');
    lovelace = await newLearner('Lovelace, Ada', 'lovelace');
    zoe = await newLearner('Zoë Ångström', 'zoe');
    for (const learner of [ada, lovelace, zoe]) {
      const joined = await course(learner, ['join', server.joinLink, '--name', learner.name]);
      expect(joined.exitCode, joined.stderr).toBe(0);
      expect(joined.stdout).toContain(`as ${learner.name}`);
    }
    const again = await course(ada, ['join', server.joinLink, '--name', 'Another']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already in a class/);
    const taken = await course(await newLearner('x', 'taken'), ['join', server.joinLink, '--name', 'Ada Lovelace']);
    expect(taken.exitCode).toBe(2);
    expect(taken.stderr).toMatch(/already called "Ada Lovelace"/);
    expectNoStack(taken);
  });

  it('sends every check, passed or failed, without changing its exit code', async () => {
    const results = [
      [ada, failImage, 1],
      [ada, passImage, 0],
      [lovelace, failImage, 1],
      [zoe, passImage, 0],
    ] as const;
    for (const [learner, image, exitCode] of results) {
      const result = await check(learner, image);
      expect(result.exitCode, `${learner.name} ${image}: ${result.stderr}`).toBe(exitCode);
      expect(result.stderr).toContain('Sent to your class.');
    }
    const dashboard = await (await readClass(server, classPaths.apiDashboard)).json();
    const lesson1 = dashboard.exercises.find((exercise: { id: string }) => exercise.id === 'lesson-1');
    expect(lesson1).toMatchObject({ learnersAttempted: 3, learnersPassed: 2 });
    // The starter fails on its extra layers (the most common failure, with the exercise's hint).
    expect(lesson1.mostCommonFailure.learners).toBe(2);
    expect(lesson1.mostCommonFailure.hint).toBeTruthy();
  });

  it('keeps the learners\' checks while the class is down, and delivers them when it is back', async () => {
    const port = server.port;
    expect(await server.stop()).toBe(0);
    const whileDown = await check(ada, failImage);
    expect(whileDown.exitCode).toBe(1);
    expect(whileDown.stderr).toMatch(/Not sent to your class yet .*cannot be reached/);
    expect((await check(zoe, passImage)).exitCode).toBe(0);
    expect((await check(zoe, failImage)).exitCode).toBe(1);
    const status = await course(ada, ['class', 'status']);
    expect(status.exitCode).toBe(3);
    expect(status.stdout).toMatch(/Waiting +1 result/);
    expect(await readdir(path.join(zoe.env.LAYERLAB_DATA_DIR!, 'class', 'outbox'))).toHaveLength(2);

    server = await startClass(['--port', String(port)]);
    for (const learner of [ada, zoe]) {
      const delivered = await course(learner, ['class', 'status']);
      expect(delivered.exitCode, delivered.stdout + delivered.stderr).toBe(0);
      expect(delivered.stdout).toMatch(/Waiting +nothing/);
    }
    // A second delivery of the same results would double nothing.
    expect((await course(zoe, ['class', 'status'])).stdout).not.toMatch(/Sent now/);
  });

  it('takes one result from a CI job by name, and refuses one in the name of a learner who joined', async () => {
    const ci = await course(await newLearner('ci', 'ci-job'), ['check', 'lesson-1', '--image', passImage, '--report-to', server.joinLink, '--learner', 'Grace (CI)']);
    expect(ci.exitCode, ci.stderr).toBe(0);
    expect(ci.stderr).toContain('Reported to the class as Grace (CI).');
    const impostor = await course(await newLearner('ci2', 'ci-impostor'), ['check', 'lesson-1', '--image', failImage, '--report-to', server.joinLink, '--learner', 'Ada Lovelace']);
    expect(impostor.exitCode).toBe(1);
    expect(impostor.stderr).toMatch(/not reported to the class: "Ada Lovelace" joined this class/);
    expectNoStack(impostor);
  });

  it('exports one row per learner and exercise with exact counts, in CSV and JSON', async () => {
    const csvBytes = Buffer.from(await (await readClass(server, classPaths.exportCsv)).arrayBuffer());
    expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = parseCsv(csvBytes.toString('utf8').slice(1));
    expect(header).toEqual([...exportColumns]);
    const json = await (await readClass(server, classPaths.exportJson)).json();
    const exerciseCount = json.rows.filter((row: { learner: string }) => row.learner === 'Ada Lovelace').length;
    expect(exerciseCount).toBeGreaterThanOrEqual(8);
    expect(rows).toHaveLength(4 * exerciseCount);
    expect(json.rows).toHaveLength(rows.length);

    const lesson1 = (name: string) => {
      const csv = rows.find((row) => row[0] === name && row[1] === 'lesson-1')!;
      const fromJson = json.rows.find((row: { learner: string; exercise: string }) => row.learner === name && row.exercise === 'lesson-1');
      expect(csv, name).toBeDefined();
      // The CSV row and the JSON row say the same.
      expect(csv).toEqual(exportColumns.map((column) => (fromJson[column] === null ? '' : String(fromJson[column]))));
      return fromJson;
    };
    const adaRow = lesson1('Ada Lovelace');
    expect(adaRow).toMatchObject({ passed: true, attempts: 3, best_size_bytes: passSizeBytes, best_layers: 2 });
    expect(Date.parse(adaRow.first_attempt)).toBeLessThan(Date.parse(adaRow.passed_at));
    expect(lesson1('Lovelace, Ada')).toMatchObject({ passed: false, attempts: 1, passed_at: null, best_size_bytes: failSizeBytes });
    expect(lesson1('Zoë Ångström')).toMatchObject({ passed: true, attempts: 3, best_size_bytes: passSizeBytes, best_layers: 2 });
    expect(lesson1('Grace (CI)')).toMatchObject({ passed: true, attempts: 1 });
    // The learner names in order, the comma inside its quotes.
    expect([...new Set(rows.map((row) => row[0]))]).toEqual(['Ada Lovelace', 'Grace (CI)', 'Lovelace, Ada', 'Zoë Ångström']);
    expect(csvBytes.toString('utf8')).toContain('\r\n"Lovelace, Ada",lesson-1,false,1,');
    for (const row of rows.filter((candidate) => candidate[1] !== 'lesson-1')) expect(row.slice(2)).toEqual(['false', '0', '', '', '', '']);
  });

  it('forgets the class on `course leave`, and then sends nothing', async () => {
    const left = await course(lovelace, ['leave']);
    expect(left.exitCode, left.stderr).toBe(0);
    const after = await check(lovelace, failImage);
    expect(after.stderr).not.toMatch(/to your class/);
    const history = await (await readClass(server, `${classPaths.apiLearners}${await learnerId(server, 'Lovelace, Ada')}/history`)).json();
    expect(history.attempts).toHaveLength(1);
  });
});

async function learnerId(server: StartedClass, name: string): Promise<number> {
  const dashboard = await (await readClass(server, classPaths.apiDashboard)).json();
  return dashboard.learners.find((learner: { name: string }) => learner.name === name).id;
}

describe('a kill -9 of the class server', () => {
  it('loses no result it acknowledged', async () => {
    const dbArgs = ['--db', path.join(workDir, 'killed.sqlite')];
    const first = await startClassServer({ ...sandboxEnv, LAYERLAB_DATA_DIR: path.join(workDir, 'instructor-2') }, ['--port', '0', ...dbArgs]);
    servers.push(first);
    const join = await fetch(`${first.origin}${classPaths.apiJoin}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: parseJoinLink(first.joinLink).code, name: 'Busy' }),
    });
    const { key, learnerId: id } = await join.json();
    const acknowledged = new Set<string>();
    let isKilled = false;
    // Four senders at once, until the server dies under them.
    const sender = async () => {
      while (!isKilled) {
        const submission = makeSubmission({ failing: acknowledged.size % 3 ? [] : ['two-layers'] });
        try {
          const response = await fetch(`${first.origin}${classPaths.apiSubmissions}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
            body: JSON.stringify(submission),
          });
          if (response.status === 201) acknowledged.add(submission.submissionId);
          await response.arrayBuffer();
        } catch {
          return;
        }
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    while (acknowledged.size < 300) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.kill();
    isKilled = true;
    await Promise.all(senders);

    const again = await startClassServer({ ...sandboxEnv, LAYERLAB_DATA_DIR: path.join(workDir, 'instructor-2') }, ['--port', String(first.port), ...dbArgs]);
    servers.push(again);
    const history = await (await readClass(again, `${classPaths.apiLearners}${id}/history`)).json();
    const stored = new Set(history.attempts.map((attempt: { submissionId: string }) => attempt.submissionId));
    const lost = [...acknowledged].filter((submissionId) => !stored.has(submissionId));
    expect(lost).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(acknowledged.size);
    // At most the requests in flight at the kill were stored without an answer.
    expect(stored.size - acknowledged.size).toBeLessThanOrEqual(4);
    expect(await again.stop()).toBe(0);
  });
});
