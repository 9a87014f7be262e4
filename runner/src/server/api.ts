import type http from 'node:http';
import { readCourseCatalog } from '../course-catalog.js';
import type { Engine } from '../engine.js';
import { ExitCode, messageOf, UserError } from '../errors.js';
import { compareWithSolution, resetExercise } from '../exercise-folder.js';
import { lessonStatus, lessonStatusLabels, readProgress } from '../progress-store.js';
import { readSandboxStatus } from '../sandbox/status.js';
import type { Instance } from '../settings.js';
import type { ApiError, CheckRun, CheckStreamEvent, LessonProgress, ProgressResponse, StatusResponse } from '../contract/index.js';
import { createInspectApi } from './inspect-api.js';
import { sendJson } from './responses.js';

export type { CheckStreamEvent } from '../contract/check.js';

/** Grades one exercise and records the result; the server streams what it reports. */
export type CheckRunner = (
  exercise: string,
  report: (text: string) => void,
  signal: AbortSignal,
) => Promise<{ run: CheckRun; passed: boolean; lessonComplete: boolean; isNewlyComplete: boolean }>;

export interface ApiOptions {
  instance: Instance;
  engine: Engine;
  siteDir: string;
  runCheck: CheckRunner;
  /** Whether a request comes from the course's own pages (checks act, so they must). */
  isOwnOrigin: (request: http.IncomingMessage) => boolean;
  log: (text: string) => void;
  /** Where exercise starters and solutions are (default: exercises/ in this folder). */
  exercisesRoot?: string;
}

/** The small JSON API under /api/ (the terminal socket is separate: terminal-upgrade.ts). */
export function createApiHandler(options: ApiOptions): (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => Promise<void> {
  let checkQueue: Promise<unknown> = Promise.resolve();
  const handleInspect = createInspectApi(options);
  let isCheckRunning = false;

  async function streamCheck(response: http.ServerResponse, exercise: string): Promise<void> {
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort();
    });
    response.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const started = performance.now();
    const elapsedMs = () => Math.round(performance.now() - started);
    const emit = (event: CheckStreamEvent) => {
      if (!response.writableEnded) response.write(`${JSON.stringify(event)}\n`);
    };
    // One check at a time: two at once would fight over the sandbox's two cores.
    const previous = checkQueue;
    if (isCheckRunning) emit({ type: 'progress', text: 'Waiting for another check to finish', elapsedMs: elapsedMs() });
    const mine = previous.catch(() => {}).then(async () => {
      if (abort.signal.aborted) return;
      isCheckRunning = true;
      emit({ type: 'progress', text: 'Starting the check', elapsedMs: elapsedMs() });
      try {
        const result = await options.runCheck(exercise, (text) => emit({ type: 'progress', text, elapsedMs: elapsedMs() }), abort.signal);
        emit({ type: 'result', run: result.run, lessonComplete: result.lessonComplete, isNewlyComplete: result.isNewlyComplete });
      } catch (error) {
        if (error instanceof UserError) {
          emit({ type: 'error', message: error.message, nextStep: error.nextStep });
        } else if (!abort.signal.aborted) {
          options.log(`check of ${exercise} failed: ${error instanceof Error ? error.stack : String(error)}`);
          emit({ type: 'error', message: `The check could not run: ${messageOf(error).split('\n')[0]}`, nextStep: 'This is a bug in Layerlab; the window running `course start` shows the details.' });
        }
      } finally {
        isCheckRunning = false;
      }
    });
    checkQueue = mine;
    await mine;
    response.end();
  }

  /** Reset puts the starter back (POST, from our own pages only); compare reads the learner's Dockerfile (GET). */
  async function exerciseFolderAction(request: http.IncomingMessage, response: http.ServerResponse, exercise: string, action: 'reset' | 'compare'): Promise<void> {
    const method = action === 'reset' ? 'POST' : 'GET';
    if (request.method !== method) return sendJson(response, 405, { error: { message: `Use ${method} to ${action} an exercise.`, nextStep: '' } });
    if (action === 'reset' && !options.isOwnOrigin(request)) {
      return sendJson(response, 403, { error: { message: 'Exercises are reset only from the course pages.', nextStep: `Use the page's button, or run \`course reset-exercise ${exercise}\`.` } });
    }
    try {
      const folderOptions = { engine: options.engine, instance: options.instance, ...(options.exercisesRoot ? { exercisesRoot: options.exercisesRoot } : {}) };
      const body = action === 'reset' ? await resetExercise(exercise, folderOptions) : await compareWithSolution(exercise, folderOptions);
      return sendJson(response, 200, body);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return sendJson(response, error.exitCode === ExitCode.usage ? 404 : 503, { error: { message: error.message, nextStep: error.nextStep } } satisfies ApiError);
    }
  }

  return async function handleApi(request, response, url) {
    response.setHeader('Cache-Control', 'no-store');
    if (request.method === 'GET' && url.pathname === '/api/status') {
      const status = await readSandboxStatus(options.engine, options.instance, { measureData: false }).catch(() => undefined);
      return sendJson(response, 200, {
        runner: 'layerlab',
        sandboxRunning: status?.sandbox.state === 'running',
        ...(status ? { sandboxHealth: status.health.word, sandboxHealthLabel: status.health.label, ...(status.health.advice ? { sandboxHealthAdvice: status.health.advice } : {}) } : {}),
      } satisfies StatusResponse);
    }
    if (request.method === 'GET' && url.pathname === '/api/progress') {
      const { progress, warning } = await readProgress(options.instance.dataDir);
      // Every lesson of the course, also those never checked, so the map shows the words `course list` prints.
      // Without course.json (a stub site in tests) the lessons with progress are still reported.
      const catalog = await readCourseCatalog(options.siteDir).catch(() => undefined);
      const ids = new Set([...(catalog?.lessons.map((lesson) => lesson.id) ?? []), ...Object.keys(progress.lessons)]);
      const lessons = Object.fromEntries(
        [...ids].map((id) => {
          const status = lessonStatus(progress, id);
          const entry: LessonProgress = { ...progress.lessons[id], isComplete: status === 'complete', status, statusLabel: lessonStatusLabels[status] };
          return [id, entry];
        }),
      );
      return sendJson(response, 200, { lessons, ...(warning ? { warning } : {}) } satisfies ProgressResponse);
    }
    const checkMatch = /^\/api\/check\/([a-z0-9-]+)$/.exec(url.pathname);
    if (checkMatch) {
      if (request.method !== 'POST') return sendJson(response, 405, { error: { message: 'Use POST to run a check.', nextStep: '' } });
      if (!options.isOwnOrigin(request)) return sendJson(response, 403, { error: { message: 'Checks run only from the course pages.', nextStep: 'Use the Check button on the lesson page.' } });
      return await streamCheck(response, checkMatch[1]!);
    }
    if (await handleInspect(request, response, url)) return;
    const folderMatch = /^\/api\/exercises\/([a-z0-9-]+)\/(reset|compare)$/.exec(url.pathname);
    if (folderMatch) return await exerciseFolderAction(request, response, folderMatch[1]!, folderMatch[2] as 'reset' | 'compare');
    return sendJson(response, 404, { error: { message: `There is no API at ${url.pathname}.`, nextStep: 'Reload the page; if it persists, rebuild with `npm run build`.' } });
  };
}
