import { describe, expect, it } from 'vitest';
import { lessonNumber, lessonSchema } from '../../site/src/lesson-schema.js';

const valid = {
  title: 'Multi-stage builds',
  summary: 'Build with the full toolchain, ship only the binary.',
  exercise: 'lesson-7',
  objectives: ['Carry one artefact across stages with COPY --from'],
};

describe('lesson frontmatter schema', () => {
  it('accepts a complete lesson', () => {
    expect(lessonSchema.parse(valid)).toEqual(valid);
  });

  it('accepts a lesson without an exercise', () => {
    const { exercise: _, ...withoutExercise } = valid;
    expect(lessonSchema.safeParse(withoutExercise).success).toBe(true);
  });

  it('rejects an unknown key, naming it', () => {
    const result = lessonSchema.safeParse({ ...valid, custom: { anything: true } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toContain("'custom'");
  });

  it('rejects an exercise id that is not lesson-N, saying what is expected', () => {
    const result = lessonSchema.safeParse({ ...valid, exercise: 'multi-stage' });
    expect(result.error!.issues[0]!.path).toEqual(['exercise']);
    expect(result.error!.issues[0]!.message).toContain('lesson-N');
  });

  it('rejects a lesson without objectives or with a long summary', () => {
    expect(lessonSchema.safeParse({ ...valid, objectives: [] }).error!.issues[0]!.path).toEqual(['objectives']);
    expect(lessonSchema.safeParse({ ...valid, summary: 'x'.repeat(161) }).error!.issues[0]!.path).toEqual(['summary']);
  });

  it('orders lessons by the number in their id', () => {
    expect(['lesson-10', 'lesson-7', 'lesson-8'].sort((a, b) => lessonNumber(a) - lessonNumber(b))).toEqual(['lesson-7', 'lesson-8', 'lesson-10']);
    expect(() => lessonNumber('intro')).toThrow(/lesson-N\.mdx/);
  });
});
