import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExercise } from '../../../exercises/index.js';
import type { Engine } from '../../../runner/src/engine.js';
import { gradeExercise, gradeNeeds } from '../../../runner/src/grader/grade.js';
import { projectRoot } from '../../../runner/src/project-root.js';

/** The grader knows nothing of the sandbox, the exercise registry, settings or progress: callers pass what it needs. */
describe("the grader's boundary", () => {
  it('imports nothing from the sandbox, the registry, the settings or the progress store', async () => {
    const graderDir = path.join(projectRoot, 'runner', 'src', 'grader');
    const files = (await readdir(graderDir, { recursive: true })).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(20);
    const offending: string[] = [];
    for (const name of files) {
      const text = await readFile(path.join(graderDir, name), 'utf8');
      for (const [, from] of text.matchAll(/from '([^']+)'/g)) {
        if (/\/sandbox\/|exercises\/index|\/settings\.js|progress-store|grade-and-record/.test(from!)) offending.push(`${name} imports ${from}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('says what a caller must provide for each exercise', () => {
    expect(gradeNeeds(findExercise('lesson-7'))).toEqual({ publishedPortHost: true, exerciseFolder: false });
    expect(gradeNeeds(findExercise('lesson-5'))).toEqual({ publishedPortHost: false, exerciseFolder: true });
    expect(gradeNeeds(findExercise('lesson-1'))).toEqual({ publishedPortHost: false, exerciseFolder: false });
  });

  it('refuses to start a service when the caller did not say where its port is dialled', async () => {
    const engine = { address: 'unix:///nowhere.sock', version: '0' } as Engine;
    await expect(gradeExercise({ exercise: findExercise('lesson-7'), engine })).rejects.toThrow('the caller must say where published ports are dialled');
  });
});
