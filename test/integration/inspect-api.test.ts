import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import type { BuildFolderSummary, CacheReport, TerminalBuild } from '../../runner/src/contract/inspect.js';
import { startCourseServer, type CourseServer } from '../../runner/src/server/index.js';
import type { Instance } from '../../runner/src/settings.js';
import { execIn } from '../support/build-image.js';
import { instanceFor } from '../support/sandbox-env.js';

const token = 'inspect-api-test-token-0123456789';
const runId = inject('testRunId');
const folder = `/root/ll-inspect-api-${runId}`;
const tag = `ll-inspect-api:${runId}`;
const terminalFolder = `/root/ll-inspect-term-${runId}`;
const terminalTag = `ll-inspect-term:${runId}`;

let instance: Instance;
let host: Engine;
let server: CourseServer;
let siteDir: string;
let baseUrl: string;

beforeAll(async () => {
  instance = instanceFor(inject('sandboxEnv'));
  host = await connectEngine();
  // The API needs no pages: an empty site is enough.
  siteDir = await mkdtemp(path.join(os.tmpdir(), 'll-inspect-api-site-'));
  await writeFile(path.join(siteDir, 'index.html'), '<!doctype html><title>stub</title>');
  server = await startCourseServer({ instance, engine: host, siteDir, token, port: 0, runCheck: () => Promise.reject(new Error('not used')) });
  baseUrl = `http://127.0.0.1:${server.port}`;
  // A build that takes a few seconds, so a second request can arrive while it runs.
  await execIn(host, instance, ['sh', '-c', `mkdir -p ${folder} && cd ${folder} && printf 'FROM busybox:latest\\nCOPY app.sh /app.sh\\nRUN sleep 4 && cat /app.sh > /copy\\n' > Dockerfile && echo 'echo hi' > app.sh`]);
});

afterAll(async () => {
  await server?.close();
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
  await execIn(host, instance, ['sh', '-c', `rm -rf ${folder} ${terminalFolder}; docker rmi -f ${tag} ${terminalTag} >/dev/null 2>&1; true`]);
});

function explain(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/api/inspect/explain-build`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, Origin: baseUrl, 'Content-Type': 'application/json', ...headers },
    body,
  });
}

async function errorOf(response: Response): Promise<{ status: number; message: string }> {
  return { status: response.status, message: ((await response.json()) as { error: { message: string } }).error.message };
}

describe('the inspect API: build folders and the cache explainer', () => {
  it('lists the sandbox folders that hold a Dockerfile, each with a tag to build it as', async () => {
    const response = await fetch(`${baseUrl}/api/inspect/build-folders`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const { folders } = (await response.json()) as { folders: BuildFolderSummary[] };
    expect(folders).toContainEqual({ path: '/root/exercises/lesson-5', suggestedTag: 'lesson-5' });
    expect(folders).toContainEqual({ path: folder, suggestedTag: path.posix.basename(folder) });
  });

  it('starts a build only for the course\'s own pages, by POST, with a token', async () => {
    const body = JSON.stringify({ folder, tag });
    expect(await errorOf(await explain(body, { Origin: 'http://evil.example' }))).toMatchObject({ status: 403, message: 'Builds start only from the course pages.' });
    const noOrigin = await fetch(`${baseUrl}/api/inspect/explain-build`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body });
    expect(noOrigin.status).toBe(403);
    const noToken = await fetch(`${baseUrl}/api/inspect/explain-build`, { method: 'POST', headers: { Origin: baseUrl }, body });
    expect(noToken.status).toBe(401);
    const get = await fetch(`${baseUrl}/api/inspect/explain-build`, { headers: { Authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
  });

  it('refuses what is not a build to explain with a reason, and builds nothing', async () => {
    expect(await errorOf(await explain('not json'))).toMatchObject({ status: 400, message: expect.stringMatching(/^The request is not a build to explain/) });
    expect(await errorOf(await explain(JSON.stringify({ folder, tag, pad: 'x'.repeat(20_000) })))).toMatchObject({ status: 400, message: expect.stringContaining('larger than 16 KiB') });
    expect((await explain(JSON.stringify({ folder }))).status).toBe(400);
    expect((await explain(JSON.stringify({ folder, tag, buildArgs: { VERSION: 2 } }))).status).toBe(400);
    expect(await errorOf(await explain(JSON.stringify({ folder, tag: 'Upper:Case' })))).toMatchObject({ status: 422, message: expect.stringContaining('is not an image name to build') });
    expect(await errorOf(await explain(JSON.stringify({ folder, tag, buildArgs: { 'BAD-NAME': '1' } })))).toMatchObject({ status: 422, message: '"BAD-NAME" is not a build argument name.' });
    expect(await errorOf(await explain(JSON.stringify({ folder: '/root/exercises', tag })))).toMatchObject({ status: 422, message: 'There is no Dockerfile in /root/exercises.' });
    // Only the learner's own folders: a path that climbs out of /root is refused before any build.
    for (const outside of ['/srv', '../etc', '/root/../var/lib/docker']) {
      expect(await errorOf(await explain(JSON.stringify({ folder: outside, tag })))).toMatchObject({ status: 422, message: `"${outside}" is not a folder under /root in the sandbox.` });
    }
    const images = await execIn(host, instance, ['sh', '-c', `docker image ls -q ${tag}`]);
    expect(images.trim()).toBe('');
  });

  it('explains one build at a time: a second request while one runs is told to wait', async () => {
    const first = explain(JSON.stringify({ folder, tag }));
    // Let the first request reach the engine before the second arrives.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await errorOf(await explain(JSON.stringify({ folder, tag })))).toMatchObject({ status: 409, message: 'Another build is being explained.' });
    const response = await first;
    expect(response.status).toBe(200);
    const report = (await response.json()) as CacheReport;
    expect(report).toMatchObject({ folder, tag, hasEarlierBuild: false });
    expect(report.steps.map((step) => step.line)).toEqual([1, 2, 3]);
    // Free again once it finished: the same build now comes from the cache, step for step.
    const again = (await (await explain(JSON.stringify({ folder, tag }))).json()) as CacheReport;
    expect(again.hasEarlierBuild).toBe(true);
    expect(again.steps.filter((step) => step.line !== 1).every((step) => step.isCached)).toBe(true);
  });

  it('reads the builds run in the terminal from BuildKit\'s own history: each step cached or run, and why the first one ran', async () => {
    // As a learner types them: build, build again, change a copied file, change a build argument.
    const build = (extra = '') => `cd ${terminalFolder} && docker build -q ${extra} -t ${terminalTag} . >/dev/null`;
    await execIn(host, instance, ['sh', '-c', [
      // A base of this run's own: the history tells builds of one Dockerfile by their bases and
      // step counts, and other test files build on busybox in the same sandbox.
      `docker tag busybox:latest ll-inspect-base-${runId}`,
      `mkdir -p ${terminalFolder} && cd ${terminalFolder} && printf 'FROM ll-inspect-base-${runId}\\nARG V=1\\nWORKDIR /w\\nCOPY a.txt ./\\nRUN echo "$V" > v.txt\\n' > Dockerfile && echo one > a.txt`,
      build(),
      build(),
      `echo two > ${terminalFolder}/a.txt`,
      build(),
      build('--build-arg V=2'),
    ].join(' && ')]);
    const response = await fetch(`${baseUrl}/api/inspect/builds`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    // The engine's history keeps no tag: this Dockerfile's builds are told by their steps.
    const builds = ((await response.json()) as { builds: TerminalBuild[] }).builds.filter((found) => found.steps.some((step) => step.name === '[3/4] COPY a.txt ./'));
    expect(builds).toHaveLength(4);
    const [argChanged, fileChanged, again, first] = builds;
    const ran = (found: TerminalBuild) => found.steps.filter((step) => step.number > 1 && !step.isCached).map((step) => step.name);
    expect(first!.firstRan?.cause.kind).toBe('no-earlier-build');
    // BuildKit names a RUN with the build argument's value filled in.
    expect(ran(first!)).toEqual(['[2/4] WORKDIR /w', '[3/4] COPY a.txt ./', '[4/4] RUN echo "1" > v.txt']);
    expect(ran(again!)).toEqual([]);
    expect(again!.firstRan).toBeUndefined();
    expect(ran(fileChanged!)).toEqual(['[3/4] COPY a.txt ./', '[4/4] RUN echo "1" > v.txt']);
    expect(fileChanged!.firstRan).toMatchObject({ step: '[3/4] COPY a.txt ./', cause: { kind: 'context-file-changed' } });
    expect(argChanged!.buildArgs).toEqual({ V: '2' });
    expect(ran(argChanged!)).toEqual(['[4/4] RUN echo "2" > v.txt']);
    expect(argChanged!.firstRan).toMatchObject({ step: '[4/4] RUN echo "2" > v.txt', cause: { kind: 'arg-changed', variable: 'V', after: '2' } });
    // Newest first.
    expect(builds.map((found) => found.finishedAt)).toEqual([...builds.map((found) => found.finishedAt)].sort().reverse());
  });
});
