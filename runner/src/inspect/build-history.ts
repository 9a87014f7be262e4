import http2 from 'node:http2';
import net from 'node:net';
import { environmentError } from '../errors.js';
import { BuildTrace, readFields, stepPosition, type ProtoField } from '../grader/facts/build-trace.js';
import { cacheLessonLinks, type CacheMissCause, type TerminalBuild, type TerminalBuildStep } from '../contract/inspect.js';

/**
 * The builds BuildKit itself remembers (its build history), read from the sandbox's engine:
 * the Engine API's /grpc endpoint, upgraded to HTTP/2, serves BuildKit's control API
 * (moby.buildkit.v1.Control/ListenBuildHistory) and its content store
 * (containerd.services.content.v1.Content/Read). Each record names its progress log, a blob
 * of StatusResponse messages (each after a 4-byte little-endian length), whose vertexes say,
 * step by step, what came from the cache. This is how builds the learner ran in the terminal
 * are seen; the docker CLI in the sandbox (buildx 0.13) has no `history` command for it.
 * Only the few fields used are decoded (field numbers from BuildKit's control.proto).
 */

const callTimeoutMs = 15_000;
const maxLogBytes = 8 * 1024 * 1024;

/** Builds of the sandbox's engine, newest first, with their steps; at most `limit` of them. */
export async function readTerminalBuilds(socketPath: string, limit = 10): Promise<TerminalBuild[]> {
  const session = await openGrpc(socketPath);
  try {
    // EarlyExit (field 3): the records there are now, then the stream ends.
    const events = await call(session, '/moby.buildkit.v1.Control/ListenBuildHistory', Buffer.from([0x18, 0x01]));
    const records = events
      .map((event) => fieldsOf(event).find((field) => field.number === 2)?.bytes)
      .filter((record): record is Buffer => record !== undefined)
      .map(parseRecord)
      .filter((record) => record.completedAt !== undefined)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit);
    const builds: TerminalBuild[] = [];
    for (const record of records) {
      let steps: TerminalBuildStep[] = [];
      if (record.logDigest && record.logSize <= maxLogBytes) {
        const chunks = await call(session, '/containerd.services.content.v1.Content/Read', stringField(1, record.logDigest));
        // ReadContentResponse: offset 1, data 2.
        steps = stepsOf(Buffer.concat(chunks.map((chunk) => fieldsOf(chunk).find((field) => field.number === 2)?.bytes ?? Buffer.alloc(0))));
      }
      builds.push({
        ref: record.ref,
        ...(record.imageName ? { image: record.imageName } : {}),
        startedAt: new Date(record.createdAt).toISOString(),
        finishedAt: new Date(record.completedAt!).toISOString(),
        buildArgs: record.buildArgs,
        ...(record.error ? { error: record.error } : {}),
        steps,
      });
    }
    return builds;
  } finally {
    session.close();
  }
}

interface ParsedRecord {
  ref: string;
  createdAt: number;
  completedAt?: number;
  buildArgs: Record<string, string>;
  imageName?: string;
  logDigest?: string;
  logSize: number;
  error?: string;
}

/** BuildHistoryRecord: Ref 1, FrontendAttrs 3, error 5, CreatedAt 6, CompletedAt 7, logs 8, ExporterResponse 9. */
export function parseRecord(record: Buffer): ParsedRecord {
  const parsed: ParsedRecord = { ref: '', createdAt: 0, buildArgs: {}, logSize: 0 };
  for (const field of fieldsOf(record)) {
    if (!field.bytes) continue;
    if (field.number === 1) parsed.ref = field.bytes.toString('utf8');
    else if (field.number === 3) {
      const [key, value] = mapEntry(field.bytes);
      if (key.startsWith('build-arg:')) parsed.buildArgs[key.slice('build-arg:'.length)] = value;
    } else if (field.number === 5) parsed.error = fieldsOf(field.bytes).find((inner) => inner.number === 2)?.bytes?.toString('utf8') ?? 'the build failed';
    else if (field.number === 6) parsed.createdAt = timestampMs(field.bytes);
    else if (field.number === 7) parsed.completedAt = timestampMs(field.bytes);
    else if (field.number === 8) {
      const descriptor = fieldsOf(field.bytes);
      parsed.logDigest = descriptor.find((inner) => inner.number === 2)?.bytes?.toString('utf8');
      parsed.logSize = Number(descriptor.find((inner) => inner.number === 3)?.varint ?? 0n);
    } else if (field.number === 9) {
      const [key, value] = mapEntry(field.bytes);
      if (key === 'image.name') parsed.imageName = value.split(',')[0]!.replace(/^docker\.io\/library\//, '');
    }
  }
  return parsed;
}

/**
 * The Dockerfile steps of a progress log ("[2/3] COPY a.txt /a.txt"), in Dockerfile order,
 * each with BuildKit's own word on whether it came from the cache.
 */
export function stepsOf(log: Buffer): TerminalBuildStep[] {
  const trace = new BuildTrace();
  for (let offset = 0; offset + 4 <= log.length; ) {
    const length = log.readUInt32LE(offset);
    trace.addStatus(log.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  const steps = trace.dockerfileVertices().map((vertex): TerminalBuildStep => {
    const position = stepPosition(vertex.name)!;
    return { name: vertex.name, digest: vertex.digest, stage: position.stage, number: position.number, isCached: vertex.isCached, ...(vertex.error ? { error: vertex.error } : {}) };
  });
  // Stages as they first appear, steps by number (vertexes come in the order they start).
  const stageOrder = [...new Set(steps.map((step) => step.stage))];
  return steps.sort((a, b) => stageOrder.indexOf(a.stage) - stageOrder.indexOf(b.stage) || a.number - b.number);
}

/** The fields of one protobuf message, as a list. */
function fieldsOf(message: Buffer): ProtoField[] {
  return [...readFields(message)];
}

function mapEntry(entry: Buffer): [string, string] {
  const fields = fieldsOf(entry);
  return [fields.find((field) => field.number === 1)?.bytes?.toString('utf8') ?? '', fields.find((field) => field.number === 2)?.bytes?.toString('utf8') ?? ''];
}

function timestampMs(timestamp: Buffer): number {
  const fields = fieldsOf(timestamp);
  return Number(fields.find((field) => field.number === 1)?.varint ?? 0n) * 1000 + Math.floor(Number(fields.find((field) => field.number === 2)?.varint ?? 0n) / 1e6);
}

function stringField(number: number, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([(number << 3) | 2]), encodeVarint(bytes.length), bytes]);
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** POST /grpc with Upgrade: h2c on the engine's socket, then HTTP/2 on the same connection. */
async function openGrpc(socketPath: string): Promise<http2.ClientHttp2Session> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const connection = net.connect(socketPath);
    const timer = setTimeout(() => {
      connection.destroy();
      reject(environmentError('The sandbox engine did not answer for its build history.', 'Run `course up`, then try again.'));
    }, callTimeoutMs);
    connection.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    connection.write('POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n');
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      connection.off('data', onData);
      connection.pause(); // what follows the headers is HTTP/2: keep it for the session
      clearTimeout(timer);
      const status = head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? '';
      if (!/^HTTP\/1\.1 101/.test(status)) {
        connection.destroy();
        return reject(environmentError(`The sandbox engine does not serve BuildKit's history (${status}).`, 'The sandbox engine should be Docker 23 or newer; run `course up` to update it.'));
      }
      const rest = head.subarray(end + 4);
      if (rest.length) connection.unshift(rest);
      resolve(connection);
    };
    connection.on('data', onData);
  });
  const session = http2.connect('http://docker', { createConnection: () => socket });
  session.on('error', () => {}); // each call reports its own failure
  return session;
}

/** One gRPC call with a single request message; the response messages, unframed. */
function call(session: http2.ClientHttp2Session, path: string, request: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    stream.setTimeout(callTimeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    stream.on('response', (headers) => {
      status = headers['grpc-status'] as string | undefined;
      message = (headers['grpc-message'] as string | undefined) ?? '';
    });
    stream.on('trailers', (trailers) => {
      status = trailers['grpc-status'] as string | undefined;
      message = (trailers['grpc-message'] as string | undefined) ?? '';
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (status !== '0') return reject(environmentError(`The sandbox engine refused ${path.split('/').pop()} (gRPC status ${status ?? 'none'}${message ? `: ${decodedGrpcMessage(message)}` : ''}).`, 'Run `course up`, then try again.'));
      const body = Buffer.concat(chunks);
      const messages: Buffer[] = [];
      for (let offset = 0; offset + 5 <= body.length; ) {
        const length = body.readUInt32BE(offset + 1);
        messages.push(body.subarray(offset + 5, offset + 5 + length));
        offset += 5 + length;
      }
      resolve(messages);
    });
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(request.length, 1);
    stream.end(Buffer.concat([frame, request]));
  });
}

/**
 * For each build, the first step that ran again and what can be told of why, by comparing it
 * with the build of the same image just before it (BuildKit's history keeps the steps, their
 * operation digests and the build arguments, not the context's files):
 * the base's FROM is another operation now; the instruction is new; a build argument a RUN
 * sees changed; a COPY/ADD reads as before on the same base, so a file it copies changed.
 */
export function explainTerminalBuilds(builds: readonly TerminalBuild[]): TerminalBuild[] {
  return builds.map((build, index) => {
    const firstRan = build.steps.find((step) => step.number > 1 && !step.isCached && !step.error);
    if (!firstRan || build.error) return build;
    const previous = builds.slice(index + 1).find((older) => !older.error && shapeOf(older) === shapeOf(build));
    return { ...build, firstRan: { step: firstRan.name, cause: causeOf(build, firstRan, previous) } };
  });
}

/**
 * Builds of the same Dockerfile, as far as the history tells: the same bases and the same
 * number of steps in each stage (the engine's history keeps no folder or tag to go by).
 */
function shapeOf(build: TerminalBuild): string {
  return build.steps
    .filter((step) => step.number === 1)
    .map((step) => `${step.stage} ${step.name.replace(/^\[(?:\S+ )?1\/(\d+)\] /, '$1 ')}`)
    .sort()
    .join('\n');
}

function causeOf(build: TerminalBuild, step: TerminalBuildStep, previous: TerminalBuild | undefined): CacheMissCause {
  const key = cacheLessonLinks.key;
  if (!previous) return { kind: 'no-earlier-build', message: `BuildKit's history holds no earlier build of this Dockerfile (the same bases and number of steps) to compare with.`, lessonLink: key };
  const base = build.steps.find((other) => other.stage === step.stage && other.number === 1);
  const previousBase = previous.steps.find((other) => other.stage === step.stage && other.number === 1);
  if (base && previousBase && base.digest !== previousBase.digest) {
    return { kind: 'base-changed', baseRef: base.name.replace(/^\[[^\]]*\] FROM /, ''), before: previousBase.digest ?? '', after: base.digest ?? '', message: `The base image is not what it was in the last build of this Dockerfile: FROM resolves to another image now, and every cache key of the stage starts from it.`, lessonLink: key };
  }
  const instruction = step.name.replace(/^\[[^\]]*\] /, '');
  // BuildKit names a RUN with its build arguments filled in, so a new value also reads as a new instruction: the argument comes first.
  if (/^RUN /.test(instruction)) {
    for (const name of new Set([...Object.keys(build.buildArgs), ...Object.keys(previous.buildArgs)])) {
      if (build.buildArgs[name] === previous.buildArgs[name]) continue;
      const describe = (value: string | undefined) => (value === undefined ? 'unset' : `"${value}"`);
      return { kind: 'arg-changed', variable: name, ...(previous.buildArgs[name] !== undefined ? { before: previous.buildArgs[name] } : {}), ...(build.buildArgs[name] !== undefined ? { after: build.buildArgs[name] } : {}), message: `The build argument ${name} was ${describe(previous.buildArgs[name])} in the last build and is ${describe(build.buildArgs[name])} now (--build-arg). RUN sees every build argument its stage declares, so they are part of its cache key.`, lessonLink: key };
    }
  }
  const before = previous.steps.find((other) => other.stage === step.stage && other.name.replace(/^\[[^\]]*\] /, '') === instruction);
  if (!before) {
    const sameNumber = previous.steps.find((other) => other.stage === step.stage && other.number === step.number);
    return { kind: 'instruction-changed', before: sameNumber?.name.replace(/^\[[^\]]*\] /, '') ?? '', message: `This instruction was not in the last build of this Dockerfile${sameNumber ? ` (step ${step.number} was \`${sameNumber.name.replace(/^\[[^\]]*\] /, '')}\`)` : ''}: the instruction as written is part of the cache key.`, lessonLink: key };
  }
  if (/^(COPY|ADD) /.test(instruction) && !/--from=/.test(instruction)) {
    return { kind: 'context-file-changed', changed: [], added: [], removed: [], message: `It reads as in the last build of this Dockerfile, on the same base, after the same steps: so a file it copies from the build context changed by content or permissions (BuildKit's history does not keep which; Build and explain on this page names it).`, lessonLink: key };
  }
  return { kind: 'not-in-cache', message: `It reads as in the last build of this Dockerfile with the same build arguments: what it runs with changed (an ENV value above it), or the builder no longer had the result (pruned, or --no-cache).`, lessonLink: key };
}

/** grpc-message is percent-encoded; a malformed one is shown as sent rather than thrown in a stream handler. */
function decodedGrpcMessage(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
