import { describe, expect, it } from 'vitest';
import { defineExercise, ExerciseDefinitionError } from '../../exercises/define.js';
import { exercises, findExercise } from '../../exercises/index.js';
import { UserError, ExitCode } from '../../runner/src/errors.js';

describe('the exercise registry', () => {
  it('has unique lesson-N ids, and every check a title and a hint', () => {
    const ids = exercises.map((exercise) => exercise.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const exercise of exercises) {
      expect(exercise.id).toMatch(/^lesson-\d+$/);
      for (const check of exercise.checks) {
        expect(check.title.trim(), `${exercise.id}/${check.id}`).not.toBe('');
        expect(check.hint.trim(), `${exercise.id}/${check.id}`).not.toBe('');
      }
    }
  });

  it('gives lesson 7 exactly the checks its issue asks for, plus advice', () => {
    const lesson7 = findExercise('lesson-7');
    expect(lesson7.checks.filter((check) => !check.isAdvisory).map((check) => check.id)).toEqual(['size', 'layers', 'no-build-tools', 'runs']);
    expect(lesson7.image).toBe('lesson-7');
  });

  it('answers an unknown exercise with a usage error that lists the real ones', () => {
    let error: unknown;
    try {
      findExercise('lesson-70');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(ExitCode.usage);
    expect((error as UserError).message).toBe('There is no exercise "lesson-70".');
    expect((error as UserError).nextStep).toContain('lesson-7');
  });

  it('refuses an exercise whose check parameters are wrong, naming the file and the check', () => {
    expect(() =>
      defineExercise({
        id: 'lesson-99',
        title: 't',
        image: 'x',
        buildHint: 'b',
        checks: [
          { id: 'size', title: 'Small', kind: 'max-size', params: { bytes: 'big' as unknown as number }, hint: 'h' },
          { id: 'size', title: 'Again', kind: 'max-layers', params: { count: 5 }, hint: '' },
        ],
      }),
    ).toThrow(ExerciseDefinitionError);
    try {
      defineExercise({ id: 'lesson-99', title: 't', image: 'x', buildHint: 'b', checks: [{ id: 'size', title: 'Small', kind: 'max-size', params: { bytes: 'big' as unknown as number }, hint: 'h' }] });
    } catch (error) {
      expect((error as Error).message).toMatch(/^exercises\/lesson-99\/exercise.ts is not valid:\n  checks\[0\] \(size\)\.params\.bytes: Expected number, received string$/);
    }
  });
});
