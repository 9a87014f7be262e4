import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { isFailure, lessonsDir, verifyLesson } from '../lessons/verify-lesson.js';

/**
 * The lessons are true: each one is replayed in a fresh sandbox of its own, as
 * `npm run lessons:verify` does, and every output it shows must be what the sandbox prints.
 * A failure names the lesson line, the shown line and what was printed instead.
 */

const runId = inject('testRunId');
const lessons = readdirSync(lessonsDir)
  .filter((name) => /^lesson-\d+\.mdx$/.test(name))
  .map((name) => name.replace(/\.mdx$/, ''))
  .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));

let engine: Engine;

beforeAll(async () => {
  engine = await connectEngine();
});

describe('every lesson, replayed in a fresh sandbox', () => {
  it.each(lessons)('%s: every command runs and every shown output matches the sandbox', async (lesson) => {
    const report = await verifyLesson(lesson, { engine, runId });
    const failures = report.steps.filter(isFailure).map((step) => `lessons/${lesson}.mdx:${step.line} \`${step.command.split('\n')[0]}\`\n  ${step.detail}\n  printed:\n${(step.output ?? '').slice(0, 2000)}`);
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(report.steps.length).toBeGreaterThan(0);
  }, 1_800_000);
});
