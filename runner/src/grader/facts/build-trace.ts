import type { BuildStepFacts } from '../types.js';

/**
 * BuildKit's progress: `moby.buildkit.v1.StatusResponse` protobuf messages
 * (github.com/moby/buildkit api/services/control/control.proto). The Engine API streams them
 * for `POST /build?version=2`, each JSON line `{"id":"moby.buildkit.trace","aux":"<base64>"}`
 * carrying one; BuildKit's build history keeps them as a progress log. We read only the
 * vertices: field 1 of StatusResponse is `repeated Vertex vertexes`, and in a Vertex field 1
 * is the digest, 3 the name ("[3/6] RUN ..."), 4 `bool cached` and 7 the
 * error. A vertex is sent again as it changes, so what it said last wins; "cached" is
 * the builder's own word that it reused the step, the same as `CACHED` in `--progress=plain`.
 * One reader for both the grader's rebuild probe and the inspect page's cache explainer.
 */
export class BuildTrace {
  readonly #vertices = new Map<string, BuildVertex>();

  /** Feeds one `aux` value of the Engine API's build stream. */
  add(auxBase64: string): void {
    this.addStatus(Buffer.from(auxBase64, 'base64'));
  }

  /** Feeds one StatusResponse; a malformed one is ignored, as the CLI ignores it. */
  addStatus(message: Buffer): void {
    try {
      for (const field of readFields(message)) {
        if (field.number !== 1 || !field.bytes) continue;
        this.#addVertex(field.bytes);
      }
    } catch {
      // A message cut short tells us nothing the next update will not repeat.
    }
  }

  #addVertex(bytes: Buffer): void {
    let digest = '';
    let name: string | undefined;
    let isCached = false;
    let error: string | undefined;
    for (const field of readFields(bytes)) {
      if (field.number === 1 && field.bytes) digest = field.bytes.toString('utf8');
      else if (field.number === 3 && field.bytes) name = field.bytes.toString('utf8');
      else if (field.number === 4 && field.varint !== undefined) isCached = field.varint !== 0n;
      else if (field.number === 7 && field.bytes?.length) error = field.bytes.toString('utf8');
    }
    if (!digest) return;
    const earlier = this.#vertices.get(digest);
    const merged: BuildVertex = {
      digest,
      name: earlier?.name || name || '',
      isCached: isCached || (earlier?.isCached ?? false),
    };
    const lastError = error ?? earlier?.error;
    if (lastError) merged.error = lastError;
    this.#vertices.set(digest, merged);
  }

  /** The Dockerfile's steps ("[n/m] ..."), in the order the builder first reported them. */
  steps(): BuildStepFacts[] {
    return this.dockerfileVertices().map((vertex) => ({ name: vertex.name, isCached: vertex.isCached }));
  }

  /** The same steps with all the builder said of them. */
  dockerfileVertices(): BuildVertex[] {
    return [...this.#vertices.values()].filter((vertex) => isDockerfileStep(vertex.name));
  }
}

export interface BuildVertex {
  digest: string;
  name: string;
  isCached: boolean;
  /** Why the step failed, when it did. */
  error?: string;
}

/** "[2/5] COPY . .", "[build 3/4] RUN ...": steps of the Dockerfile, not "[internal] load ...". */
export function isDockerfileStep(name: string): boolean {
  return stepPosition(name) !== undefined;
}

/** The stage (empty for an unnamed single stage) and the step number within it. */
export function stepPosition(name: string): { stage: string; number: number; instruction: string } | undefined {
  const match = /^\[(?:(\S+) )?(\d+)\/\d+\] (.*)$/s.exec(name);
  if (!match) return undefined;
  return { stage: match[1] ?? '', number: Number(match[2]), instruction: match[3]! };
}

export interface ProtoField {
  number: number;
  varint?: bigint;
  bytes?: Buffer;
}

/** The fields of one protobuf message; throws on a message cut short. */
export function* readFields(buffer: Buffer): Generator<ProtoField> {
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (offset >= buffer.length) throw new RangeError('varint runs past the end');
      const byte = buffer[offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) yield { number, varint: varint() };
    else if (wireType === 2) {
      const length = Number(varint());
      if (offset + length > buffer.length) throw new RangeError('field runs past the end');
      yield { number, bytes: buffer.subarray(offset, offset + length) };
      offset += length;
    } else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else throw new RangeError(`unknown wire type ${wireType}`);
  }
}
