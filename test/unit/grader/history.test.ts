import { describe, expect, it } from 'vitest';
import { describeInstruction, layerOrigins } from '../../../runner/src/grader/facts/history.js';

describe('describing history rows as Dockerfile instructions', () => {
  it('reads both builders\' wording', () => {
    expect(describeInstruction('/bin/sh -c #(nop) COPY file:bd3411dab1530e5c170c96f20cca604d2a37f583071500c09528fc0aab188a20 in /hello ')).toBe('COPY file:bd3411dab153… in /hello');
    expect(describeInstruction('/bin/sh -c go build -o /out/hello .')).toBe('RUN go build -o /out/hello .');
    expect(describeInstruction('|1 GOLANG=golang:1.24 /bin/sh -c go build .')).toBe('RUN go build .');
    expect(describeInstruction('RUN /bin/sh -c CGO_ENABLED=0 go build -o /out/hello . # buildkit')).toBe('RUN CGO_ENABLED=0 go build -o /out/hello .');
    expect(describeInstruction('COPY /out/hello /hello # buildkit')).toBe('COPY /out/hello /hello');
    expect(describeInstruction('WORKDIR /src')).toBe('WORKDIR /src');
  });
});

describe('matching history rows to layers', () => {
  it('skips rows marked empty_layer', () => {
    const origins = layerOrigins(
      [{ created_by: 'ADD x /' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'WORKDIR /src' }, { created_by: 'CMD ["x"]', empty_layer: true }],
      2,
    );
    expect(origins.map((origin) => origin.instruction)).toEqual(['ADD x /', 'WORKDIR /src']);
  });

  it('matches from the top when the counts disagree', () => {
    expect(layerOrigins([{ created_by: 'COPY a /a' }], 3).map((origin) => origin.instruction)).toEqual([undefined, undefined, 'COPY a /a']);
    expect(layerOrigins(undefined, 1)).toEqual([{}]);
  });
});
