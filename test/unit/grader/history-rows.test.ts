import { describe, expect, it } from 'vitest';
import { describeInstruction, instructionOf, layerOrigins, normaliseInstruction } from '../../../runner/src/grader/facts/history.js';

// History rows as the learner reads them in every message, at the edges of each rule.

describe('instructionOf', () => {
  it('drops the BuildKit marker only at the end, and build arguments only at the start', () => {
    expect(instructionOf('  COPY a b   # buildkit  ')).toBe('COPY a b');
    expect(instructionOf('COPY a # buildkit b')).toBe('COPY a # buildkit b');
    expect(instructionOf('RUN /bin/sh -c echo |1 A=1 x # buildkit')).toBe('RUN echo |1 A=1 x');
    expect(instructionOf('|2 A=1 B= /bin/sh -c make')).toBe('RUN make');
    expect(instructionOf('|0 /bin/sh -c make')).toBe('RUN make');
    expect(instructionOf('RUN |1 A=1 /bin/sh -c make # buildkit')).toBe('RUN make');
    expect(instructionOf('RUN |12 A=1 B=2 /bin/sh -c make # buildkit')).toBe('RUN make');
  });

  it("reads the legacy builder's #(nop) rows and shell rows, across lines", () => {
    expect(instructionOf('/bin/sh -c #(nop)  CMD ["x"]')).toBe('CMD ["x"]');
    expect(instructionOf('/bin/sh -c #(nop)ENV A=1')).toBe('ENV A=1');
    expect(instructionOf('/bin/sh -c apt-get update \\\n    && apt-get install -y make')).toBe('RUN apt-get update && apt-get install -y make');
    expect(instructionOf('/bin/sh -c a\nb')).toBe('RUN a b');
    expect(instructionOf('RUN /bin/sh -c a\nb # buildkit')).toBe('RUN a b');
    expect(instructionOf('RUN --mount=type=cache /bin/sh -c make')).toBe('RUN --mount=type=cache /bin/sh -c make');
    expect(instructionOf('/bin/bash -c make')).toBe('/bin/bash -c make');
    expect(instructionOf('x /bin/sh -c make')).toBe('x /bin/sh -c make');
  });

  it('shortens long hex digests to twelve digits, and nothing shorter than 32', () => {
    const digest = 'bd3411dab1530e5c170c96f20cca604d2a37f583071500c09528fc0aab188a20';
    expect(instructionOf(`/bin/sh -c #(nop) COPY file:${digest} in /hello `)).toBe('COPY file:bd3411dab153… in /hello');
    expect(instructionOf(`COPY ${'a'.repeat(32)} /x`)).toBe(`COPY ${'a'.repeat(12)}… /x`);
    expect(instructionOf(`COPY ${'a'.repeat(31)} /x`)).toBe(`COPY ${'a'.repeat(31)} /x`);
    expect(instructionOf(`COPY x${'a'.repeat(40)} /x`)).toBe(`COPY x${'a'.repeat(40)} /x`);
  });
});

describe('describeInstruction', () => {
  it('shows up to 160 characters, then 157 and an ellipsis', () => {
    const fits = `RUN ${'x'.repeat(156)}`;
    expect(describeInstruction(fits)).toBe(fits);
    const long = `RUN ${'y'.repeat(157)}`;
    expect(describeInstruction(long)).toBe(`${long.slice(0, 157)}...`);
  });
});

describe('normaliseInstruction', () => {
  it('joins continuation lines and collapses spaces, as the history shows a Dockerfile line', () => {
    expect(normaliseInstruction('  RUN a \\\n\t b   c  ')).toBe('RUN a b c');
  });
});

describe('layerOrigins', () => {
  it('names comment-only rows by their comment and skips rows with neither', () => {
    expect(layerOrigins([{ comment: 'imported' }, {}, { created_by: 'COPY a /' }], 3)).toEqual([
      { createdBy: '(imported)', instruction: '(imported)' },
      {},
      { createdBy: 'COPY a /', instruction: 'COPY a /' },
    ]);
  });

  it('drops the bottom rows when there are more rows than layers', () => {
    expect(layerOrigins([{ created_by: 'ADD a /' }, { created_by: 'ADD b /' }, { created_by: 'COPY c /' }], 2)).toEqual([
      { createdBy: 'ADD b /', instruction: 'ADD b /' },
      { createdBy: 'COPY c /', instruction: 'COPY c /' },
    ]);
    expect(layerOrigins([{ created_by: 'ADD a /' }], 0)).toEqual([]);
  });
});
