import { describe, expect, it } from 'vitest';
import { computedInBuild } from '../../../runner/src/grader/kinds/computed-in-build.js';
import type { ImageConfigFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// The learner reads where the value is written out, every long piece of it masked as ***.

const value = 'abcdefghijklmnopqrstuvwxyz0123456789';
const params = computedInBuild.params.parse({ value, name: 'the checksum' });
const expected = 'the checksum computed by a build step, written in no instruction';
const rows = (...createdBy: string[]) => createdBy.map((row) => ({ createdBy: row, isEmptyLayer: false }));
const judge = (history: string[], config: Partial<ImageConfigFacts> = {}, parameters = params) =>
  computedInBuild.evaluate(facts({ config: { ...facts().config, ...config }, history: rows(...history) }), parameters);
const quoted = (outcome: ReturnType<typeof judge>) => /computed: (.*)\. The image must hold/.exec(outcome.message ?? '')?.[1];

describe('computed-in-build: parameters', () => {
  it('takes a value of 16 characters or more, a name and a piece length of at least 8', () => {
    const parse = (parameters: unknown) => computedInBuild.params.safeParse(parameters);
    expect(params.pieceCharacters).toBe(16);
    expect(parse({ value: 'x'.repeat(16), name: 'n' }).success).toBe(true);
    expect(parse({ value: 'x'.repeat(15), name: 'n' }).success).toBe(false);
    expect(parse({ value: 'x'.repeat(16), name: '' }).success).toBe(false);
    expect(parse({ value: 'x'.repeat(16), name: 'n', pieceCharacters: 8 }).success).toBe(true);
    expect(parse({ value: 'x'.repeat(16), name: 'n', pieceCharacters: 7 }).success).toBe(false);
    expect(parse({ value: 'x'.repeat(16), name: 'n', pieceCharacters: 8.5 }).success).toBe(false);
  });
});

describe('computed-in-build: verdicts', () => {
  it('passes when no instruction holds a long piece of the value', () => {
    expect(judge([`RUN /bin/sh -c echo ${value.slice(0, 15)} ${value.slice(15, 30)}`])).toEqual({ status: 'pass', expected, actual: 'written in no instruction' });
  });

  it('fails a whole value, masking it in the quote', () => {
    expect(judge([`RUN /bin/sh -c echo ${value} > sum.txt`])).toEqual({
      status: 'fail',
      expected,
      actual: 'written in 1 place',
      message:
        "The checksum is written out in the image's instructions, not computed: the history row `RUN echo *** > sum.txt`. The image must hold what its build worked out, so that a change to the input would change it too.",
    });
  });

  it('masks every long piece, the longest run each time, and leaves short ones', () => {
    const outcome = judge([`RUN /bin/sh -c printf ${value.slice(0, 16)} ${value.slice(16)} ${value.slice(0, 15)}`]);
    expect(quoted(outcome)).toBe(`the history row \`RUN printf *** *** ${value.slice(0, 15)}\``);
    expect(quoted(judge([`RUN /bin/sh -c echo x${value.slice(3, 20)}y`]))).toBe('the history row `RUN echo x***y`');
    expect(quoted(judge([`RUN /bin/sh -c echo ${value.slice(2, 18)}`]))).toBe('the history row `RUN echo ***`');
    expect(quoted(judge([`RUN /bin/sh -c echo ${value.slice(2, 19)}`]))).toBe('the history row `RUN echo ***`');
  });

  it('uses the piece length it is given', () => {
    const short = computedInBuild.params.parse({ value, name: 'the checksum', pieceCharacters: 8 });
    expect(quoted(judge([`RUN /bin/sh -c echo ${value.slice(4, 12)} ${value.slice(20, 27)}`], {}, short))).toBe(`the history row \`RUN echo *** ${value.slice(20, 27)}\``);
  });

  it('lists four places and counts the rest, across the config and history', () => {
    const outcome = judge([`RUN /bin/sh -c echo ${value}`, `LABEL sum=${value}`], { env: [`SUM=${value}`], cmd: ['echo', value], user: value, workingDir: `/${value}` });
    expect(outcome).toMatchObject({ status: 'fail', actual: 'written in 6 places' });
    expect(quoted(outcome)).toBe('the environment (ENV SUM=***); the CMD; the USER; the WORKDIR; and 2 more');
    const four = judge([], { env: [`SUM=${value}`], cmd: ['echo', value], user: value, workingDir: `/${value}` });
    expect(quoted(four)).toBe('the environment (ENV SUM=***); the CMD; the USER; the WORKDIR');
  });
});

describe('computed-in-build: the layer that wrote the file', () => {
  const withPath = computedInBuild.params.parse({ value, name: 'the checksum', path: '/srv/summary.txt' });
  const summary = { path: 'srv/summary.txt', type: 'file' as const, sizeBytes: 86 };
  const judgeLayers = (layers: ReturnType<typeof layer>[]) => computedInBuild.evaluate(facts({ layers, history: [] }), withPath);

  it('fails a flattened image (docker export | docker import): no build step made the layer that holds the file', () => {
    expect(judgeLayers([layer(0, { instruction: '(Imported from -)', entries: [summary] })])).toEqual({
      status: 'fail',
      expected,
      actual: '/srv/summary.txt written by no build step',
      message:
        "/srv/summary.txt was last written by layer 1 (`(Imported from -)`), which no build step made: `docker import` and `docker commit` make such layers, and then nothing shows that a build computed the checksum. Build the image from its Dockerfile with `docker build`.",
    });
    expect(judgeLayers([layer(0, { entries: [summary] })]).message).toMatch(/^\/srv\/summary.txt was last written by layer 1, which no build step made: /);
  });

  it('judges the topmost layer that writes the file, not one below it or one that only holds its folder', () => {
    const built = layer(1, { instruction: 'RUN seq 1 5000000 > numbers.txt && wc -l < numbers.txt > summary.txt', entries: [summary] });
    const committed = layer(2, { instruction: 'sh', entries: [summary] });
    expect(judgeLayers([layer(0, { instruction: 'ADD rootfs.tar /' }), built, committed]).status).toBe('fail');
    expect(judgeLayers([layer(0, { instruction: '(Imported from -)', entries: [summary] }), built]).status).toBe('pass');
    expect(judgeLayers([built, layer(2, { instruction: 'sh', entries: [{ path: 'srv', type: 'directory', sizeBytes: 0 }] })]).status).toBe('pass');
  });

  it('passes the file from a RUN, a COPY (say from a build stage) or an ADD, and an image without the file (another check says so)', () => {
    for (const instruction of ['RUN /bin/sh -c make', 'COPY /out/summary.txt /srv/summary.txt', 'ADD summary.tar /srv/']) {
      expect(judgeLayers([layer(0, { instruction, entries: [summary] })]).status).toBe('pass');
    }
    expect(judgeLayers([layer(0, { instruction: '(Imported from -)', entries: [] })]).status).toBe('pass');
  });

  it('takes only an absolute path', () => {
    expect(computedInBuild.params.safeParse({ value, name: 'n', path: 'srv/summary.txt' }).success).toBe(false);
  });
});
