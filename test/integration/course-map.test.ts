import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine } from '../../runner/src/engine.js';
import { recordCheck } from '../../runner/src/progress-store.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { startCourseServer, type CourseServer } from '../../runner/src/server/index.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor } from '../support/sandbox-env.js';

/**
 * The course map (the built site's index page, with the progress the runner serves) and
 * `course list` in a plain terminal must show the same lessons, in the same order, with the
 * same titles and the same status. Data-driven: whatever lessons/ holds today.
 */

const siteDir = path.join(projectRoot, 'site', 'dist');
const token = 'course-map-test-token-0123456789';

interface MapCard {
  id: string;
  title: string;
}

/** Lesson ids from the files in lessons/, in course order. */
function lessonIdsOnDisk(): string[] {
  return readdirSync(path.join(projectRoot, 'lessons'))
    .map((name) => /^(lesson-(\d+))\.mdx$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .sort((a, b) => Number(a[2]) - Number(b[2]))
    .map((match) => match[1]!);
}

/** The cards of the map, in page order: their lesson id and the title in their link. */
function mapCards(html: string): MapCard[] {
  const cards: MapCard[] = [];
  const cardPattern = /<li[^>]*data-lesson-id="([^"]+)"[^>]*>([\s\S]*?)<\/li>\s*(?=<li[^>]*data-lesson-id|<\/ol>)/g;
  for (const match of html.matchAll(cardPattern)) {
    const link = /<a [^>]*>([\s\S]*?)<\/a>/.exec(match[2]!)![1]!;
    const title = link
      .replace(/<span class="visually-hidden"[^>]*>[\s\S]*?<\/span>/, '')
      .replace(/<[^>]+>/g, '')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .trim();
    cards.push({ id: match[1]!, title });
  }
  return cards;
}

let dataDir: string;
let server: CourseServer;
let cookie: string;

beforeAll(async () => {
  if (!existsSync(path.join(siteDir, 'course.json'))) throw new Error(`${siteDir} is not built. Run \`npm run build:site\`, then run this test again.`);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'll-map-'));
  const ids = lessonIdsOnDisk();
  // One lesson complete, one checked and failing, the rest never checked.
  await recordCheck(dataDir, { lessonId: ids[0]!, passed: true, image: ids[0]! });
  if (ids[1]) await recordCheck(dataDir, { lessonId: ids[1], passed: false, image: ids[1] });
  server = await startCourseServer({
    instance: { ...instanceFor(inject('sandboxEnv')), dataDir },
    engine: await connectEngine(),
    siteDir,
    token,
    port: 0,
    runCheck: () => Promise.reject(new Error('no checks run in this test')),
  });
  const first = await fetch(`http://127.0.0.1:${server.port}/?token=${token}`, { redirect: 'manual' });
  cookie = first.headers.get('set-cookie')!.split(';')[0]!;
});

afterAll(async () => {
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function get(pathname: string): Promise<Response> {
  // Pages open with the page cookie; the API wants the token itself.
  const headers: Record<string, string> = pathname.startsWith('/api/') ? { Authorization: `Bearer ${token}` } : { Cookie: cookie };
  const response = await fetch(`http://127.0.0.1:${server.port}${pathname}`, { headers });
  expect(response.status).toBe(200);
  return response;
}

describe('the course map and `course list`', () => {
  it('show every lesson in lessons/, in order, with the same titles and the same status', async () => {
    const cards = mapCards(await (await get('/')).text());
    expect(cards.map((card) => card.id)).toEqual(lessonIdsOnDisk());

    const { lessons: progress } = (await (await get('/api/progress')).json()) as { lessons: Record<string, { statusLabel: string; isComplete: boolean }> };

    const listed = await runCourse(['list'], { LAYERLAB_DATA_DIR: dataDir });
    expect(listed.exitCode).toBe(0);
    const rows = listed.stdout
      .split('\n')
      .map((line) => /^ {2}[✓ ] (lesson-\d+) +(.+?) {2}(\S.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ id: match[1]!, title: match[2]!.trim(), status: match[3]!.trim() }));

    expect(rows.map((row) => ({ id: row.id, title: row.title }))).toEqual(cards);
    // The map's pills show the runner's statusLabel for each card.
    expect(rows.map((row) => row.status)).toEqual(cards.map((card) => progress[card.id]?.statusLabel));
    expect(rows[0]!.status).toBe('complete');
    if (rows[1]) expect(rows[1].status).toBe('checked, not passing yet');
    if (rows[2]) expect(rows[2].status).toBe('not started');

    const complete = cards.filter((card) => progress[card.id]?.isComplete).length;
    expect(listed.stdout).toContain(`Layerlab: ${complete} of ${cards.length} ${cards.length === 1 ? 'lesson' : 'lessons'} complete`);
  });
});
