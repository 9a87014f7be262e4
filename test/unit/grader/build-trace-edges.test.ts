import { describe, expect, it } from 'vitest';
import { BuildTrace, isDockerfileStep, readFields, stepPosition } from '../../../runner/src/grader/facts/build-trace.js';

// BuildKit's progress messages read field by field, at the edges of the protobuf wire format.

const varint = (value: number | bigint): Buffer => {
  const bytes: number[] = [];
  let rest = BigInt(value);
  while (rest >= 0x80n) {
    bytes.push(Number((rest & 0x7fn) | 0x80n));
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
};
const key = (number: number, wireType: number) => varint((number << 3) | wireType);
const bytesField = (number: number, value: string | Buffer) => {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([key(number, 2), varint(bytes.length), bytes]);
};
const varintField = (number: number, value: number | bigint) => Buffer.concat([key(number, 0), varint(value)]);
const vertex = (...fields: Buffer[]) => bytesField(1, Buffer.concat(fields));

describe('readFields', () => {
  it('reads varints of any length, length-delimited fields, and skips fixed-width ones', () => {
    const message = Buffer.concat([
      varintField(1, 300),
      varintField(2, 2n ** 40n),
      Buffer.concat([key(3, 1), Buffer.alloc(8, 0xff)]),
      Buffer.concat([key(4, 5), Buffer.alloc(4, 0xff)]),
      bytesField(5, 'hello'),
      varintField(200, 0),
    ]);
    expect([...readFields(message)]).toEqual([
      { number: 1, varint: 300n },
      { number: 2, varint: 2n ** 40n },
      { number: 5, bytes: Buffer.from('hello') },
      { number: 200, varint: 0n },
    ]);
    expect([...readFields(Buffer.alloc(0))]).toEqual([]);
  });

  it('refuses a varint or a field that runs past the end, and an unknown wire type', () => {
    expect(() => [...readFields(Buffer.from([0x08, 0x80]))]).toThrow(new RangeError('varint runs past the end'));
    expect(() => [...readFields(Buffer.concat([key(1, 2), varint(6), Buffer.from('hello')]))]).toThrow(new RangeError('field runs past the end'));
    expect([...readFields(Buffer.concat([key(1, 2), varint(5), Buffer.from('hello')]))]).toEqual([{ number: 1, bytes: Buffer.from('hello') }]);
    expect(() => [...readFields(key(1, 3))]).toThrow(new RangeError('unknown wire type 3'));
  });
});

describe('BuildTrace', () => {
  it('takes a vertex’s digest, name and cached flag, ignoring other fields and messages', () => {
    const trace = new BuildTrace();
    trace.add(Buffer.concat([varintField(1, 5), bytesField(2, 'status'), vertex(bytesField(1, 'sha256:a'), bytesField(2, 'input'), bytesField(3, '[1/2] COPY a .'), varintField(4, 2), varintField(5, 9))]).toString('base64'));
    trace.add(vertex(bytesField(3, '[2/2] RUN x'), varintField(4, 1)).toString('base64'));
    trace.add(vertex(bytesField(1, 'sha256:b'), bytesField(3, '[2/2] RUN y'), varintField(4, 0)).toString('base64'));
    expect(trace.steps()).toEqual([
      { name: '[1/2] COPY a .', isCached: true },
      { name: '[2/2] RUN y', isCached: false },
    ]);
  });

  it('keeps the first name a vertex had, takes a later one when it had none, and never forgets cached', () => {
    const trace = new BuildTrace();
    trace.add(vertex(bytesField(1, 'sha256:a'), varintField(4, 0)).toString('base64'));
    trace.add(vertex(bytesField(1, 'sha256:a'), bytesField(3, '[1/1] RUN z'), varintField(4, 1)).toString('base64'));
    trace.add(vertex(bytesField(1, 'sha256:a'), bytesField(3, '[1/1] RUN renamed'), varintField(4, 0)).toString('base64'));
    expect(trace.steps()).toEqual([{ name: '[1/1] RUN z', isCached: true }]);
  });

  it('ignores a vertex whose fields have the wrong wire types', () => {
    const trace = new BuildTrace();
    trace.add(vertex(varintField(1, 7), bytesField(3, '[1/1] RUN a')).toString('base64'));
    trace.add(vertex(bytesField(1, 'sha256:c'), varintField(3, 1), bytesField(4, 'yes')).toString('base64'));
    trace.add(Buffer.concat([varintField(1, 3)]).toString('base64'));
    expect(trace.steps()).toEqual([]);
  });
});

describe('step names', () => {
  it('reads the stage, the number and the instruction, across lines', () => {
    expect(stepPosition('[stage-1 12/30] RUN a\nb')).toEqual({ stage: 'stage-1', number: 12, instruction: 'RUN a\nb' });
    expect(stepPosition('[1/2]RUN a')).toBeUndefined();
    expect(stepPosition(' [1/2] RUN a')).toBeUndefined();
    expect(stepPosition('[a b 1/2] RUN a')).toBeUndefined();
    expect(isDockerfileStep('[3/4] COPY . .')).toBe(true);
    expect(isDockerfileStep('[internal] load metadata')).toBe(false);
  });
});
