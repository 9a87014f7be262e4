import { describe, expect, it } from 'vitest';
import { explainTerminalBuilds, stepsOf } from '../../../runner/src/inspect/build-history.js';
import type { TerminalBuild, TerminalBuildStep } from '../../../runner/src/contract/inspect.js';

/** Protobuf by hand: a length-delimited field, and a varint one. */
const bytesField = (number: number, value: Buffer | string) => {
  const body = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([Buffer.from([(number << 3) | 2, body.length]), body]);
};
const varintField = (number: number, value: number) => Buffer.from([number << 3, value]);
const vertex = (digest: string, name: string | undefined, extra: Buffer[] = []) => bytesField(1, Buffer.concat([bytesField(1, digest), ...(name ? [bytesField(3, name)] : []), ...extra]));
/** A progress log: StatusResponse messages, each after a 4-byte little-endian length. */
const log = (...messages: Buffer[]) => Buffer.concat(messages.flatMap((message) => { const length = Buffer.alloc(4); length.writeUInt32LE(message.length); return [length, message]; }));

describe('stepsOf: the Dockerfile steps of a BuildKit progress log', () => {
  it('keeps each vertex\'s last word (sent again as it changes), only the numbered steps, in order', () => {
    const completed = bytesField(6, Buffer.from([0x08, 0x01]));
    const steps = stepsOf(log(
      Buffer.concat([vertex('sha256:a', '[internal] load build context'), vertex('sha256:b', '[1/3] FROM docker.io/library/busybox:latest'), vertex('sha256:c', '[2/3] COPY a.txt /a.txt'), vertex('sha256:d', '[build 3/3] RUN make')]),
      Buffer.concat([vertex('sha256:b', '[1/3] FROM docker.io/library/busybox:latest', [varintField(4, 1), completed]), vertex('sha256:c', undefined, [completed])]),
      vertex('sha256:d', '[build 3/3] RUN make', [bytesField(7, 'exit code: 2')]),
    ));
    expect(steps.map(({ name, stage, number, isCached, error }) => ({ name, stage, number, isCached, error }))).toEqual([
      { name: '[1/3] FROM docker.io/library/busybox:latest', stage: '', number: 1, isCached: true, error: undefined },
      { name: '[2/3] COPY a.txt /a.txt', stage: '', number: 2, isCached: false, error: undefined },
      { name: '[build 3/3] RUN make', stage: 'build', number: 3, isCached: false, error: 'exit code: 2' },
    ]);
  });

  it('skips a message cut short and reads the ones around it', () => {
    const cutShort = Buffer.from([0x0a, 0x05, 0x41]);
    const steps = stepsOf(log(vertex('sha256:a', '[1/2] FROM busybox'), cutShort, vertex('sha256:b', '[2/2] RUN true', [varintField(4, 1)])));
    expect(steps.map(({ name, isCached }) => ({ name, isCached }))).toEqual([
      { name: '[1/2] FROM busybox', isCached: false },
      { name: '[2/2] RUN true', isCached: true },
    ]);
  });
});

describe('explainTerminalBuilds: why the first step ran, from BuildKit\'s history alone', () => {
  const step = (name: string, isCached: boolean, digest = name): TerminalBuildStep => ({ name, stage: '', number: Number(/(\d+)\//.exec(name)![1]), isCached, digest });
  const build = (at: number, steps: TerminalBuildStep[], buildArgs: Record<string, string> = {}): TerminalBuild => ({ ref: `r${at}`, startedAt: new Date(at * 1000).toISOString(), finishedAt: new Date(at * 1000 + 500).toISOString(), buildArgs, steps });
  const from = (digest = 'base-1') => step('[1/3] FROM docker.io/library/busybox:latest', true, digest);

  it('blames a copied file when a COPY that reads the same, on the same base, ran again', () => {
    const [now] = explainTerminalBuilds([build(2, [from(), step('[2/3] COPY a.txt ./', false), step('[3/3] RUN make', false)]), build(1, [from(), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', true)])]);
    expect(now!.firstRan).toMatchObject({ step: '[2/3] COPY a.txt ./', cause: { kind: 'context-file-changed' } });
  });

  it('blames the base when FROM is another operation, before anything else', () => {
    const [now] = explainTerminalBuilds([build(2, [from('base-2'), step('[2/3] COPY a.txt ./', false), step('[3/3] RUN make', false)]), build(1, [from('base-1'), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', true)])]);
    expect(now!.firstRan?.cause.kind).toBe('base-changed');
  });

  it('names a changed build argument for a RUN, and a new instruction as such', () => {
    const args = explainTerminalBuilds([build(2, [from(), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', false)], { V: '2' }), build(1, [from(), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', true)], { V: '1' })]);
    expect(args[0]!.firstRan?.cause).toMatchObject({ kind: 'arg-changed', variable: 'V', before: '1', after: '2' });
    const edited = explainTerminalBuilds([build(2, [from(), step('[2/3] COPY b.txt ./', false), step('[3/3] RUN make', false)]), build(1, [from(), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', true)])]);
    expect(edited[0]!.firstRan?.cause).toMatchObject({ kind: 'instruction-changed', before: 'COPY a.txt ./' });
  });

  it('compares only with builds of the same shape (bases and step counts), and says so when there is none', () => {
    const other = build(1, [step('[1/2] FROM docker.io/library/debian:trixie-slim', true), step('[2/2] RUN make', true)]);
    const [now] = explainTerminalBuilds([build(2, [from(), step('[2/3] COPY a.txt ./', false), step('[3/3] RUN make', false)]), other]);
    expect(now!.firstRan?.cause.kind).toBe('no-earlier-build');
    const [cached] = explainTerminalBuilds([build(3, [from(), step('[2/3] COPY a.txt ./', true), step('[3/3] RUN make', true)])]);
    expect(cached!.firstRan).toBeUndefined();
  });
});
