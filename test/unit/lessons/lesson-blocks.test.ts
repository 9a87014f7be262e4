import { describe, expect, it } from 'vitest';
import { LessonFormatError, parseLesson } from '../../lessons/lesson-blocks.js';

const fence = '```';

describe('parseLesson', () => {
  it('pairs a shell block with the first text block after it, across prose', () => {
    const steps = parseLesson([`${fence}sh`, 'docker image ls', fence, '', 'Some prose.', '', `${fence}text trimmed approx`, 'REPOSITORY', fence, `${fence}text`, 'not an output', fence].join('\n'));
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: 'shell', line: 1, command: 'docker image ls', output: { line: 7, text: 'REPOSITORY', isTrimmed: true, hasApproxSizes: true } });
  });

  it('does not pair a text block with a shell block when a code block stands between', () => {
    const steps = parseLesson([`${fence}sh`, 'echo a', fence, `${fence}dockerfile`, 'FROM scratch', fence, `${fence}text`, 'a', fence].join('\n'));
    expect(steps[0]).toMatchObject({ kind: 'shell' });
    expect((steps[0] as { output?: unknown }).output).toBeUndefined();
  });

  it('skips blocks inside NotInSandbox and keeps the reason', () => {
    const steps = parseLesson(['<NotInSandbox reason="needs a terminal">', `${fence}sh`, 'docker run -it debian bash', fence, `${fence}text`, 'root@x:/#', fence, '</NotInSandbox>', `${fence}sh`, 'true', fence].join('\n'));
    expect(steps).toEqual([
      { kind: 'skipped', line: 2, command: 'docker run -it debian bash', reason: 'needs a terminal' },
      expect.objectContaining({ kind: 'shell', line: 9, command: 'true' }),
    ]);
  });

  it('runs course commands on the host, and reads fails and timeout', () => {
    const steps = parseLesson([`${fence}sh fails timeout=900`, 'course check lesson-1', fence].join('\n'));
    expect(steps[0]).toMatchObject({ runsOnHost: true, mayFail: true, timeoutSeconds: 900 });
  });

  it('rejects unknown fence words, a NotInSandbox without a reason, and an unclosed fence, naming the line', () => {
    expect(() => parseLesson([`${fence}sh sometimes`, 'x', fence].join('\n'), 'l.mdx')).toThrow(/l\.mdx:1: unknown word "sometimes"/);
    expect(() => parseLesson(['<NotInSandbox reason="">', '</NotInSandbox>'].join('\n'), 'l.mdx')).toThrow(LessonFormatError);
    expect(() => parseLesson(['a', `${fence}sh`, 'x'].join('\n'), 'l.mdx')).toThrow(/l\.mdx:2: this code fence is never closed/);
  });
});
