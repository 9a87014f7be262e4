import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exercises } from '../../exercises/index.js';
import { checkKinds } from '../../runner/src/grader/kinds/index.js';
import { projectRoot } from '../../runner/src/project-root.js';

/**
 * The course checks itself, as rustlings' `dev check` does: every exercise is well formed and
 * belongs to a lesson, and every lesson's exercise exists. (That starters fail and solutions
 * pass is test/integration/exercises.test.ts, which needs an engine.)
 */

const lessonsDir = path.join(projectRoot, 'lessons');
const exercisesDir = path.join(projectRoot, 'exercises');

/** The `exercise:` of each lesson's frontmatter; the site build validates the rest. */
const lessons = readdirSync(lessonsDir)
  .filter((name) => name.endsWith('.mdx'))
  .map((name) => {
    const text = readFileSync(path.join(lessonsDir, name), 'utf8');
    const frontmatter = /^---\n([\s\S]*?)\n---\n/.exec(text)?.[1];
    const exercise = frontmatter ? /^exercise:\s*['"]?([^'"\s]+)['"]?\s*$/m.exec(frontmatter)?.[1] : undefined;
    return { id: name.replace(/\.mdx$/, ''), hasFrontmatter: frontmatter !== undefined, exercise };
  });

describe('the course, checked as a whole', () => {
  it('has lessons, each with frontmatter and a lesson-N file name', () => {
    expect(lessons.length).toBeGreaterThan(0);
    for (const lesson of lessons) {
      expect(lesson.id, `lessons/${lesson.id}.mdx`).toMatch(/^lesson-\d+$/);
      expect(lesson.hasFrontmatter, `lessons/${lesson.id}.mdx has no frontmatter block`).toBe(true);
    }
  });

  it('gives every exercise a unique lesson-N id, in lesson order', () => {
    const ids = exercises.map((exercise) => exercise.id);
    for (const id of ids) expect(id).toMatch(/^lesson-\d+$/);
    expect(new Set(ids).size, `ids used twice: ${ids.filter((id, index) => ids.indexOf(id) !== index).join(', ')}`).toBe(ids.length);
    const numbers = ids.map((id) => Number(id.split('-')[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });

  it('gives every check a unique id, a known kind, a title and a hint', () => {
    for (const exercise of exercises) {
      const checkIds = exercise.checks.map((check) => check.id);
      expect(new Set(checkIds).size, `${exercise.id}: check ids used twice`).toBe(checkIds.length);
      expect(exercise.checks.some((check) => !check.isAdvisory), `${exercise.id} has no check that decides`).toBe(true);
      for (const check of exercise.checks) {
        const where = `${exercise.id}/${check.id}`;
        expect(Object.keys(checkKinds), `${where}: unknown kind`).toContain(check.kind);
        expect(check.title.trim(), `${where}: title`).not.toBe('');
        expect(check.hint.trim(), `${where}: hint`).not.toBe('');
        expect(check.hint.trim(), `${where}: the hint only repeats the title`).not.toBe(check.title.trim());
      }
    }
  });

  it("finds every lesson's exercise in the registry", () => {
    const ids = new Set(exercises.map((exercise) => exercise.id));
    for (const lesson of lessons.filter((candidate) => candidate.exercise)) {
      expect(ids.has(lesson.exercise!), `lessons/${lesson.id}.mdx names exercise "${lesson.exercise}", which exercises/index.ts does not list`).toBe(true);
    }
  });

  it('gives every exercise the lesson of the same id, which names it', () => {
    for (const exercise of exercises) {
      const lesson = lessons.find((candidate) => candidate.id === exercise.id);
      expect(lesson, `exercise ${exercise.id} has no lessons/${exercise.id}.mdx`).toBeDefined();
      expect(lesson!.exercise, `lessons/${exercise.id}.mdx does not name exercise ${exercise.id}`).toBe(exercise.id);
    }
  });

  it('gives every exercise a starter and a solution with a Dockerfile, and registers every exercise folder', () => {
    for (const exercise of exercises) {
      for (const which of ['starter', 'solution']) {
        const dockerfile = path.join(exercisesDir, exercise.id, which, 'Dockerfile');
        expect(existsSync(dockerfile), `missing exercises/${exercise.id}/${which}/Dockerfile`).toBe(true);
      }
    }
    const folders = readdirSync(exercisesDir, { withFileTypes: true }).filter((entry) => entry.isDirectory() && /^lesson-\d+$/.test(entry.name));
    const registered = new Set(exercises.map((exercise) => exercise.id));
    for (const folder of folders) expect(registered.has(folder.name), `exercises/${folder.name}/ is not in exercises/index.ts`).toBe(true);
  });
});
