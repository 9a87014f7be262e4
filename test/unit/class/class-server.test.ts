import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateMismatchError, requestClass } from '../../../runner/src/class/class-client.js';
import { classPaths, maxSubmissionBytes } from '../../../runner/src/class/contract.js';
import { parseJoinLink } from '../../../runner/src/class/join-link.js';
import { classStatus, deliverQueue, joinClass } from '../../../runner/src/class/membership.js';
import { openClass, type OpenClass } from '../../../runner/src/class/open-class.js';
import { courseExercises, makeSubmission } from '../../support/class-fixtures.js';

/** The class server over real loopback sockets, as learners' runners and the dashboard reach it. */

let dir: string;
let opened: OpenClass;
let origin: string;
let token: string;
let code: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'll-class-server-'));
  opened = await openClass({ dbFile: path.join(dir, 'class.sqlite'), listen: '127.0.0.1', port: 0, siteDir: path.join(dir, 'no-site'), exercises: courseExercises });
  origin = opened.server.origin;
  token = new URL(opened.server.instructorUrl).searchParams.get('token')!;
  code = parseJoinLink(opened.server.joinLink).code;
});

afterAll(async () => {
  await opened?.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(pathname: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${origin}${pathname}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function get(pathname: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${origin}${pathname}`, { headers, redirect: 'manual' });
}

async function join(name: string): Promise<string> {
  const answer = await post(classPaths.apiJoin, { code, name });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.key;
}

describe('joining', () => {
  it('refuses a wrong join code and an unusable name, and a name already taken', async () => {
    expect((await post(classPaths.apiJoin, { code: 'not-the-code-at-all', name: 'Eve' })).status).toBe(403);
    expect((await post(classPaths.apiJoin, { code, name: '   ' })).status).toBe(422);
    expect((await post(classPaths.apiJoin, { code, name: 'Eve\u001b[31m' })).status).toBe(422);
    expect((await post(classPaths.apiJoin, { code, name: 'x'.repeat(61) })).status).toBe(422);
    await join('Eve');
    const again = await post(classPaths.apiJoin, { code, name: 'Eve' });
    expect(again.status).toBe(409);
    expect(again.body.error.nextStep).toMatch(/another name/);
  });
});

describe('sending results', () => {
  it('stores a learner\'s result once and answers a repeat with 200', async () => {
    const key = await join('Sender');
    const submission = makeSubmission();
    const first = await post(classPaths.apiSubmissions, submission, { Authorization: `Bearer ${key}` });
    expect(first).toEqual({ status: 201, body: { submissionId: submission.submissionId, stored: true } });
    const repeat = await post(classPaths.apiSubmissions, submission, { Authorization: `Bearer ${key}` });
    expect(repeat).toEqual({ status: 200, body: { submissionId: submission.submissionId, stored: false } });
  });

  it.each([
    ['no key', {}, 401],
    ['an unknown key', { Authorization: 'Bearer not-a-key-of-this-class' }, 401],
  ])('refuses a result with %s', async (_label, headers, status) => {
    const before = opened.store.submissionCount();
    expect((await post(classPaths.apiSubmissions, makeSubmission(), headers)).status).toBe(status);
    expect(opened.store.submissionCount()).toBe(before);
  });

  it('refuses results sent with the instructor token: only learners send', async () => {
    expect((await post(classPaths.apiSubmissions, makeSubmission(), { Authorization: `Bearer ${token}` })).status).toBe(403);
  });

  it('refuses bad bodies with a clear 4xx and stores nothing', async () => {
    const key = await join('Mallory');
    const auth = { Authorization: `Bearer ${key}` };
    const before = opened.store.submissionCount();
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number]> = [
      ['oversized', () => post(classPaths.apiSubmissions, { ...makeSubmission(), image: 'x'.repeat(maxSubmissionBytes) }, auth), 413],
      ['not JSON', () => post(classPaths.apiSubmissions, '{"submissionId":', auth), 400],
      ['an unknown field', () => post(classPaths.apiSubmissions, { ...makeSubmission(), admin: true }, auth), 422],
      ['a pass with a failed check', () => post(classPaths.apiSubmissions, { ...makeSubmission({ failing: ['on-debian'] }), passed: true }, auth), 422],
      ['a negative size', () => post(classPaths.apiSubmissions, { ...makeSubmission(), metrics: { sizeBytes: -1, layers: 1, buildTools: [], wastedBytes: null } }, auth), 422],
      ['a check time in the future', () => post(classPaths.apiSubmissions, makeSubmission({ checkedAt: new Date(Date.now() + 86_400_000).toISOString() }), auth), 422],
      ['a bad exercise id', () => post(classPaths.apiSubmissions, makeSubmission({ exercise: '../lesson-1' }), auth), 422],
    ];
    for (const [label, send, status] of cases) {
      const answer = await send();
      expect(answer.status, label).toBe(status);
      expect(answer.body.error.message, label).toBeTruthy();
    }
    const wrongType = await fetch(`${origin}${classPaths.apiSubmissions}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: JSON.stringify(makeSubmission()) });
    expect(wrongType.status).toBe(415);
    expect(opened.store.submissionCount()).toBe(before);
  });
});

describe('reading the class', () => {
  it('answers the instructor\'s token, and refuses learners\' keys and strangers', async () => {
    const key = await join('Reader');
    expect((await get(classPaths.apiDashboard)).status).toBe(401);
    expect((await get(classPaths.apiDashboard, { Authorization: `Bearer ${key}` })).status).toBe(403);
    expect((await get(classPaths.exportCsv, { Authorization: `Bearer ${key}` })).status).toBe(403);
    expect((await get(`${classPaths.apiLearners}1/history`, { Authorization: `Bearer ${key}` })).status).toBe(403);
    const dashboard = await get(classPaths.apiDashboard, { Authorization: `Bearer ${token}` });
    expect(dashboard.status).toBe(200);
    expect((await dashboard.json()).learners.map((learner: { name: string }) => learner.name)).toContain('Reader');
  });

  it('trades the token in the link for a cookie that then reads the export', async () => {
    const first = await get(`/class/?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/class/');
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect(first.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const csv = await get(classPaths.exportCsv, { Cookie: cookie });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    // The byte order mark tells spreadsheets the file is UTF-8 (fetch's text() would hide it).
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8').split('\r\n')[0]).toBe('\uFEFFlearner,exercise,passed,attempts,first_attempt,passed_at,best_size_bytes,best_layers');
  });

  it('tells the dashboard of each change over server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${origin}${classPaths.apiEvents}`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += decoder.decode((await reader.read()).value);
    };
    await readUntil(/event: class-changed\ndata: \{"revision":\d+\}\n\n/);
    const revision = opened.store.revision;
    await join('Announced');
    await readUntil(new RegExp(`"revision":${revision + 1}\\}`));
    controller.abort();
  });
});

describe('a class over HTTPS', () => {
  let secure: OpenClass;
  let secureDir: string;

  beforeAll(async () => {
    secureDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-tls-'));
    // 127.0.0.2 is loopback, but not the default address: it gets HTTPS as a classroom address would.
    secure = await openClass({ dbFile: path.join(secureDir, 'class.sqlite'), listen: '127.0.0.2', port: 0, siteDir: secureDir, exercises: courseExercises });
  });
  afterAll(async () => {
    await secure?.close();
    await rm(secureDir, { recursive: true, force: true });
  });

  it('puts its certificate\'s fingerprint in the join link and keeps both across restarts', async () => {
    const link = parseJoinLink(secure.server.joinLink);
    expect(link.isHttps).toBe(true);
    expect(link.fingerprint).toBe(secure.fingerprint);
    const port = secure.server.port;
    await secure.close();
    secure = await openClass({ dbFile: path.join(secureDir, 'class.sqlite'), listen: '127.0.0.2', port, siteDir: secureDir, exercises: courseExercises });
    expect(secure.server.joinLink).toBe(formatLink(link));
  });

  it('lets a learner pinning the fingerprint join, and sends nothing to a server with another certificate', async () => {
    const learnerDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-learner-'));
    try {
      const { membership } = await joinClass(learnerDir, secure.server.joinLink, 'Pinned');
      expect(membership.name).toBe('Pinned');
      const forged = secure.server.joinLink.replace(/fp=[^&]+/, `fp=${'AB%3A'.repeat(31)}AB`);
      const before = secure.store.learners().length;
      await expect(requestClass(parseJoinLink(forged), 'POST', classPaths.apiJoin, { body: { code: parseJoinLink(forged).code, name: 'Forged' } })).rejects.toBeInstanceOf(CertificateMismatchError);
      await expect(joinClass(path.join(learnerDir, 'other'), forged, 'Forged')).rejects.toThrow(/not the one in the join link/);
      expect(secure.store.learners().length).toBe(before);
    } finally {
      await rm(learnerDir, { recursive: true, force: true });
    }
  });
});

describe('the learner\'s queue', () => {
  it('keeps results while the class is away and delivers each exactly once when it is back', async () => {
    const learnerDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-queue-'));
    const classDir = await mkdtemp(path.join(os.tmpdir(), 'll-class-away-'));
    const dbFile = path.join(classDir, 'class.sqlite');
    let away: OpenClass | undefined = await openClass({ dbFile, listen: '127.0.0.1', port: 0, siteDir: classDir, exercises: courseExercises });
    try {
      const port = away.server.port;
      await joinClass(learnerDir, away.server.joinLink, 'Offline');
      await away.close();
      away = undefined;
      const { enqueueRun } = await import('../../../runner/src/class/membership.js');
      const run = { exercise: 'lesson-1', image: 'lesson-1', imageId: 'sha256:1', engine: { address: 'x', version: '26' }, passed: false, checks: [{ id: 'on-debian', title: 't', kind: 'k', status: 'fail' as const, passed: false, isAdvisory: false, expected: '', actual: '', hint: '' }], layers: [], sizeBytes: 5, startedAt: new Date().toISOString(), durationMs: 3 };
      for (let index = 0; index < 3; index++) await enqueueRun(learnerDir, run);
      const failed = await deliverQueue(learnerDir, { timeoutMs: 1000 });
      expect(failed).toMatchObject({ delivered: 0, waiting: 3 });
      expect(failed.problem).toMatch(/cannot be reached/);
      away = await openClass({ dbFile, listen: '127.0.0.1', port, siteDir: classDir, exercises: courseExercises });
      expect(await deliverQueue(learnerDir)).toEqual({ delivered: 3, waiting: 0, rejected: 0 });
      expect(await deliverQueue(learnerDir)).toEqual({ delivered: 0, waiting: 0, rejected: 0 });
      expect(away.store.submissionCount()).toBe(3);
      expect((await classStatus(learnerDir))?.waiting).toBe(0);
      expect(await readdir(path.join(learnerDir, 'class', 'outbox'))).toEqual([]);
    } finally {
      await away?.close();
      await rm(learnerDir, { recursive: true, force: true });
      await rm(classDir, { recursive: true, force: true });
    }
  });
});

function formatLink(link: ReturnType<typeof parseJoinLink>): string {
  const url = new URL(classPaths.join, link.origin);
  url.searchParams.set('code', link.code);
  url.searchParams.set('fp', link.fingerprint!);
  return url.toString();
}
