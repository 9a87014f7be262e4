import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { classPaths } from '../../runner/src/class/contract.js';
import { parseJoinLink } from '../../runner/src/class/join-link.js';
import { ClassStore } from '../../runner/src/class/store.js';
import { makeSubmission } from '../support/class-fixtures.js';
import { startClassServer } from '../support/class-server-process.js';
import type { BenchResult, BenchSuite } from './types.js';

const ingestSeconds = 10;
const ingestSenders = 16;
const ingestLearners = 40;
const dashboardLearners = 200;
const dashboardExercises = 10;
const attemptsPerCell = 3;

/**
 * The class server, as a real `course class serve` process on loopback:
 * - class-ingest-per-s: results acknowledged per second (each one on disk before its 201),
 *   from 16 keep-alive senders over 10 s;
 * - class-dashboard-200x10-ms: from opening the instructor link in Chromium to the dashboard
 *   showing 200 learners × 10 exercises (3 attempts each), median of 3 loads.
 */
export const classBench: BenchSuite = {
  name: 'class',
  async run({ log }) {
    const results: BenchResult[] = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'll-class-bench-'));
    try {
      const ingest = await measureIngest(dir);
      results.push({ name: 'class-ingest-per-s', value: Math.round(ingest.perSecond), unit: '/s' });
      log(`ingest: ${ingest.acknowledged} results acknowledged in ${ingest.seconds.toFixed(1)} s (${ingest.perSecond.toFixed(0)}/s), ${ingest.refused} refused`);
      const dashboardMs = await measureDashboard(dir);
      results.push({ name: 'class-dashboard-200x10-ms', value: Math.round(dashboardMs), unit: 'ms' });
      log(`dashboard ${dashboardLearners}×${dashboardExercises}: ready in ${dashboardMs.toFixed(0)} ms`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return results;
  },
};

async function measureIngest(dir: string): Promise<{ acknowledged: number; refused: number; seconds: number; perSecond: number }> {
  const server = await startClassServer({ LAYERLAB_DATA_DIR: path.join(dir, 'ingest-home') }, ['--port', '0', '--db', path.join(dir, 'ingest.sqlite')]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: ingestSenders });
  try {
    const code = parseJoinLink(server.joinLink).code;
    const keys: string[] = [];
    for (let index = 0; index < ingestLearners; index++) {
      const answer = await post(agent, server.origin, classPaths.apiJoin, { code, name: `Learner ${index}` });
      keys.push((JSON.parse(answer.body) as { key: string }).key);
    }
    let acknowledged = 0;
    let refused = 0;
    const started = performance.now();
    const deadline = started + ingestSeconds * 1000;
    const sender = async (index: number) => {
      for (let sent = 0; performance.now() < deadline; sent++) {
        const submission = makeSubmission({ exercise: `lesson-${(sent % 8) + 1}`, failing: sent % 4 ? [] : ['two-layers'] });
        const answer = await post(agent, server.origin, classPaths.apiSubmissions, submission, keys[(index + sent) % keys.length]);
        if (answer.status === 201) acknowledged++;
        else refused++;
      }
    };
    await Promise.all(Array.from({ length: ingestSenders }, (_, index) => sender(index)));
    const seconds = (performance.now() - started) / 1000;
    if (refused) throw new Error(`${refused} results were refused during the ingest bench; the figure would be invalid`);
    return { acknowledged, refused, seconds, perSecond: acknowledged / seconds };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

async function measureDashboard(dir: string): Promise<number> {
  const dbFile = path.join(dir, 'dashboard.sqlite');
  // Filled directly through the store: this measures the dashboard, not ingest.
  const store = ClassStore.open(dbFile);
  const start = Date.now() - 3 * 3600_000;
  for (let learner = 0; learner < dashboardLearners; learner++) {
    const joined = store.registerLearner(`Learner ${String(learner).padStart(3, '0')}`, 'join');
    if (joined.outcome !== 'joined') throw new Error('could not fill the class');
    for (let exercise = 1; exercise <= dashboardExercises; exercise++) {
      for (let attempt = 0; attempt < attemptsPerCell; attempt++) {
        const passed = attempt === attemptsPerCell - 1 && (learner + exercise) % 3 !== 0;
        store.recordSubmission(
          joined.learner.id,
          makeSubmission({
            exercise: `lesson-${exercise}`,
            checkedAt: new Date(start + (learner * 37 + exercise * 600 + attempt * 300) * 1000).toISOString(),
            ...(passed ? {} : { failing: ['two-layers'] }),
            metrics: { sizeBytes: 5_000_000 + ((learner * 7919 + exercise * 104_729 + attempt) % 90_000_000), layers: 2 + ((learner + attempt) % 8), buildTools: [], wastedBytes: null },
          }),
        );
      }
    }
  }
  store.close();

  const server = await startClassServer({ LAYERLAB_DATA_DIR: path.join(dir, 'dashboard-home') }, ['--port', '0', '--db', dbFile]);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const samples: number[] = [];
    for (let load = 0; load < 3; load++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(server.instructorUrl);
      await page.waitForFunction(
        (expected) => document.querySelectorAll('[data-learner-row]').length === expected.learners && document.querySelectorAll('[data-exercise-card]').length >= expected.exercises,
        { learners: dashboardLearners, exercises: dashboardExercises },
        { polling: 'raf', timeout: 60_000 },
      );
      samples.push(performance.now() - started);
      await context.close();
    }
    samples.sort((a, b) => a - b);
    return samples[1]!;
  } finally {
    await browser.close();
    await server.stop();
  }
}

function post(agent: http.Agent, origin: string, pathname: string, body: unknown, key?: string): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(pathname, origin);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...(key ? { Authorization: `Bearer ${key}` } : {}) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
