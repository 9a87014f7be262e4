import { describe, expect, it } from 'vitest';
import { defineExercise, ExerciseDefinitionError } from '../../exercises/define.js';
import { findExercise } from '../../exercises/index.js';
import { UserError, ExitCode } from '../../runner/src/errors.js';

describe('the exercise registry', () => {
  it('gives lesson 7 exactly the checks its issue asks for, plus advice', () => {
    const lesson7 = findExercise('lesson-7');
    expect(lesson7.checks.filter((check) => !check.isAdvisory).map((check) => check.id)).toEqual(['size', 'layers', 'no-build-tools', 'runs']);
    expect(lesson7.image).toBe('lesson-7');
  });

  it('answers an unknown exercise with a usage error that lists the real ones', () => {
    expect(() => findExercise('lesson-70')).toThrow(UserError);
    expect(() => findExercise('lesson-70')).toThrow(
      expect.objectContaining({ exitCode: ExitCode.usage, message: 'There is no exercise "lesson-70".', nextStep: expect.stringContaining('lesson-7') }),
    );
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
    expect(() =>
      defineExercise({ id: 'lesson-99', title: 't', image: 'x', buildHint: 'b', checks: [{ id: 'size', title: 'Small', kind: 'max-size', params: { bytes: 'big' as unknown as number }, hint: 'h' }] }),
    ).toThrow(/^exercises\/lesson-99\/exercise.ts is not valid:\n  checks\[0\] \(size\)\.params\.bytes: Expected number, received string$/);
  });
});
