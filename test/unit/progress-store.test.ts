import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isComplete, progressFilePath, readProgress, recordCheck } from '../../runner/src/progress-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'll-progress-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('progress store', () => {
  it('reads a missing file as no progress, without a warning', async () => {
    const reading = await readProgress(dataDir);
    expect(reading).toEqual({ progress: { schemaVersion: 1, lessons: {} } });
  });

  it('completes a lesson when its check passes and keeps it complete after a later failure', async () => {
    const failed = await recordCheck(dataDir, { lessonId: 'lesson-7', passed: false, image: 'lesson-7', at: new Date('2026-01-01T10:00:00Z') });
    expect(failed.isNewlyComplete).toBe(false);
    expect(isComplete(failed.progress, 'lesson-7')).toBe(false);

    const passed = await recordCheck(dataDir, { lessonId: 'lesson-7', passed: true, image: 'lesson-7', at: new Date('2026-01-01T10:05:00Z') });
    expect(passed.isNewlyComplete).toBe(true);
    expect(passed.progress.lessons['lesson-7']!.completedAt).toBe('2026-01-01T10:05:00.000Z');

    const again = await recordCheck(dataDir, { lessonId: 'lesson-7', passed: false, image: 'lesson-7', at: new Date('2026-01-01T10:09:00Z') });
    expect(again.isNewlyComplete).toBe(false);
    const reread = await readProgress(dataDir);
    expect(isComplete(reread.progress, 'lesson-7')).toBe(true);
    expect(reread.progress.lessons['lesson-7']!.lastCheck).toEqual({ at: '2026-01-01T10:09:00.000Z', passed: false, image: 'lesson-7' });
  });

  it('writes through a temporary file, leaving no temporary files behind', async () => {
    await Promise.all(
      ['lesson-1', 'lesson-2', 'lesson-3', 'lesson-4'].map((lessonId) => recordCheck(dataDir, { lessonId, passed: true, image: lessonId })),
    );
    expect(await readdir(dataDir)).toEqual(['progress.json']);
    const { progress } = await readProgress(dataDir);
    // Queued writes: four checks finishing together all count.
    expect(Object.keys(progress.lessons).sort()).toEqual(['lesson-1', 'lesson-2', 'lesson-3', 'lesson-4']);
  });

  it('reports a corrupt file with its path, and keeps it beside the new one on the next write', async () => {
    await writeFile(progressFilePath(dataDir), '{"schemaVersion": 1, "lessons": {');
    const reading = await readProgress(dataDir);
    expect(reading.warning).toContain(progressFilePath(dataDir));
    expect(reading.warning).toContain('not valid JSON');

    const recorded = await recordCheck(dataDir, { lessonId: 'lesson-7', passed: true, image: 'lesson-7' });
    expect(recorded.keptUnreadableAs).toMatch(/progress\.json\.unreadable-\d+$/);
    expect(await readFile(recorded.keptUnreadableAs!, 'utf8')).toBe('{"schemaVersion": 1, "lessons": {');
    expect((await readProgress(dataDir)).warning).toBeUndefined();
  });

  it('reports a file of the wrong shape, naming the field', async () => {
    await writeFile(progressFilePath(dataDir), JSON.stringify({ schemaVersion: 1, lessons: { 'lesson-7': { completedAt: 'yesterday' } } }));
    const reading = await readProgress(dataDir);
    expect(reading.warning).toContain('lessons.lesson-7.completedAt');
  });
});
