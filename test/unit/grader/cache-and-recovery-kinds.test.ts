import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildTrace, readFields, stepPosition } from '../../../runner/src/grader/facts/build-trace.js';
import { readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { commentLine } from '../../../runner/src/grader/facts/rebuild-probe.js';
import { referenceFileFacts } from '../../../runner/src/grader/facts/reference-files.js';
import { fileRecoveredFromLayer } from '../../../runner/src/grader/kinds/file-recovered-from-layer.js';
import { runsCommand, stepStaysCached } from '../../../runner/src/grader/kinds/step-stays-cached.js';
import type { BuildStepFacts, FileFacts, RebuildProbeResult, ReferenceFileFacts } from '../../../runner/src/grader/types.js';
import { normaliseInstruction } from '../../../runner/src/grader/facts/history.js';
import { vaultInstructions } from '../../../exercises/lesson-6/exercise.js';
import { facts, inPieces, legacyArchive, makeTar } from './builders.js';

/** A protobuf field: key (number << 3 | wire type), then a varint or a length and bytes. */
function field(number: number, value: string | Buffer | boolean): Buffer {
  if (typeof value === 'boolean') return Buffer.from([(number << 3) | 0, value ? 1 : 0]);
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

/** A StatusResponse holding one Vertex, base64 as the engine sends it. */
function vertexUpdate(digest: string, name: string | undefined, cached: boolean): string {
  const vertex = Buffer.concat([field(1, digest), ...(name ? [field(3, name)] : []), field(4, cached)]);
  return Buffer.concat([field(1, vertex)]).toString('base64');
}

describe('the BuildKit trace', () => {
  it('reads every step of a real cached build from the engine, all marked cached', () => {
    // `POST /build?version=2` on Engine 26.1.5, a busybox Dockerfile of six steps, built twice.
    const trace = new BuildTrace();
    for (const line of readFileSync(new URL('../../fixtures/buildkit/cached-build.jsonl', import.meta.url), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const message = JSON.parse(line) as { id?: string; aux?: unknown };
      if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string') trace.add(message.aux);
    }
    const steps = trace.steps();
    expect(steps.map((step) => step.name).sort()).toEqual([
      '[1/6] FROM docker.io/library/busybox:latest',
      '[2/6] WORKDIR /app',
      '[3/6] COPY deps.txt ./',
      '[4/6] RUN sed s/^/dep:/ deps.txt > installed.txt && date +%s%N > stamp',
      '[5/6] COPY app.sh ./',
      '[6/6] RUN cat app.sh > built',
    ]);
    expect(steps.filter((step) => !step.name.includes('FROM')).every((step) => step.isCached)).toBe(true);
  });

  it('keeps a step cached once any update says so, and its first name', () => {
    const trace = new BuildTrace();
    trace.add(vertexUpdate('sha256:aa', '[2/3] RUN make deps', false));
    trace.add(vertexUpdate('sha256:aa', undefined, true));
    trace.add(vertexUpdate('sha256:bb', '[internal] load build context', false));
    expect(trace.steps()).toEqual([{ name: '[2/3] RUN make deps', isCached: true }]);
  });

  it('ignores a message cut short instead of failing the check', () => {
    const trace = new BuildTrace();
    trace.add(Buffer.from(vertexUpdate('sha256:aa', '[1/1] RUN x', true), 'base64').subarray(0, 9).toString('base64'));
    expect(trace.steps()).toEqual([]);
    expect(() => [...readFields(Buffer.from([0x0a, 0x05, 0x01]))]).toThrow(RangeError);
  });

  it('reads the stage and number of a step, and leaves internal vertices out', () => {
    expect(stepPosition('[build 3/4] RUN go build ./...')).toEqual({ stage: 'build', number: 3, instruction: 'RUN go build ./...' });
    expect(stepPosition('[2/5] COPY . .')).toEqual({ stage: '', number: 2, instruction: 'COPY . .' });
    expect(stepPosition('[internal] load build context')).toBeUndefined();
  });
});

describe('the source-only change', () => {
  it("is a comment in the file's own language, so the project still builds", () => {
    expect(commentLine('main.go', 'x')).toBe('// x');
    expect(commentLine('src/index.js', 'x')).toBe('// x');
    expect(commentLine('app.sh', 'x')).toBe('# x');
    expect(commentLine('app.py', 'x')).toBe('# x');
    expect(commentLine('style.css', 'x')).toBe('/* x */');
    expect(commentLine('index.html', 'x')).toBe('<!-- x -->');
    expect(commentLine('Makefile', 'x')).toBe('# x');
  });
});

const step = (name: string, isCached: boolean): BuildStepFacts => ({ name, isCached });
const request = { sourceFile: 'main.go', withinMs: 300_000, folder: '/root/exercises/lesson-5' };
const params = { sourceFile: 'main.go', step: 'go build -v example.com/textstats', withinMs: 300_000 };
const withRebuild = (rebuild: RebuildProbeResult) => facts({ ref: 'lesson-5', probes: { rebuild } });

describe('step-stays-cached', () => {
  const starterAfterChange = [
    step('[1/5] FROM docker.io/library/golang:1.24', false),
    step('[2/5] WORKDIR /src', true),
    step('[3/5] COPY . .', false),
    step('[4/5] RUN go build -v example.com/textstats', false),
    step('[5/5] RUN go build -o /usr/local/bin/tally .', false),
  ];

  it('fails when the dependency step runs again, naming the step and the COPY that missed first', () => {
    const outcome = stepStaysCached.evaluate(withRebuild({ ...request, outcome: 'rebuilt', asIs: [], afterChange: starterAfterChange }), params);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toBe(
      'After a change to main.go alone, `[4/5] RUN go build -v example.com/textstats` ran again. The first step that missed the cache was `[3/5] COPY . .`: main.go is among the files it copies, so its cache key changed, and every step after a miss runs again.',
    );
    expect(outcome.actual).toBe('ran again: `[3/5] COPY . .`, `[4/5] RUN go build -v example.com/textstats`, `[5/5] RUN go build -o /usr/local/bin/tally .`');
  });

  it('passes when only the steps after the source COPY run again', () => {
    const afterChange = [
      step('[4/7] COPY third_party/ third_party/', true),
      step('[5/7] RUN go build -v example.com/textstats', true),
      step('[6/7] COPY main.go ./', false),
      step('[7/7] RUN go build -o /usr/local/bin/tally .', false),
    ];
    const outcome = stepStaysCached.evaluate(withRebuild({ ...request, outcome: 'rebuilt', asIs: [], afterChange }), params);
    expect(outcome).toEqual({
      status: 'pass',
      expected: '`go build -v example.com/textstats` CACHED after a change to main.go alone',
      actual: 'CACHED: `[5/7] RUN go build -v example.com/textstats`; ran again: `[6/7] COPY main.go ./`, `[7/7] RUN go build -o /usr/local/bin/tally .`',
    });
  });

  it('fails a Dockerfile that dropped the dependency step instead of moving it', () => {
    const afterChange = [step('[2/3] COPY . .', false), step('[3/3] RUN go build -o /usr/local/bin/tally .', false)];
    const outcome = stepStaysCached.evaluate(withRebuild({ ...request, outcome: 'rebuilt', asIs: [], afterChange }), params);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'no such step' });
  });

  it('is not fooled by a step that only mentions the command', () => {
    const afterChange = [
      step('[2/4] RUN echo go build -v example.com/textstats', true),
      step('[3/4] COPY . .', false),
      step('[4/4] RUN go build -o /usr/local/bin/tally .', false),
    ];
    const outcome = stepStaysCached.evaluate(withRebuild({ ...request, outcome: 'rebuilt', asIs: [], afterChange }), params);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'no such step' });
    expect(outcome.message).toContain('`[2/4] RUN echo go build -v example.com/textstats` mentions it without running it as its command.');
  });

  it('tells a step that runs the command from one that only names it', () => {
    const command = 'go build -v example.com/textstats';
    for (const instruction of [
      'RUN go build -v example.com/textstats',
      'RUN  go   build -v example.com/textstats  ',
      'RUN --mount=type=cache,target=/root/.cache/go-build go build -v example.com/textstats',
      'RUN CGO_ENABLED=0 go build -v example.com/textstats',
      'RUN go build -v example.com/textstats 2>&1 | tee /tmp/log',
      'RUN go mod verify && go build -v example.com/textstats',
      'RUN ["go", "build", "-v", "example.com/textstats"]',
    ]) {
      expect(runsCommand(instruction, command), instruction).toBe(true);
    }
    for (const instruction of [
      'RUN echo go build -v example.com/textstats',
      'RUN true || go build -v example.com/textstats',
      'RUN : go build -v example.com/textstats',
      'RUN # go build -v example.com/textstats',
      'RUN go build -v example.com/textstats/other',
      'COPY go build -v example.com/textstats',
      'RUN printf "go build -v example.com/textstats"',
    ]) {
      expect(runsCommand(instruction, command), instruction).toBe(false);
    }
  });

  it('says the step itself changed when nothing before it missed the cache', () => {
    const afterChange = [step('[2/3] COPY go.mod ./', true), step('[3/3] RUN go build -v example.com/textstats', false)];
    const outcome = stepStaysCached.evaluate(withRebuild({ ...request, outcome: 'rebuilt', asIs: [], afterChange }), params);
    expect(outcome.message).toContain('No earlier step of its stage missed the cache');
  });

  it('reports a missing folder, a missing source file, a failed build and a slow one as failures that say which', () => {
    const judge = (rebuild: RebuildProbeResult) => stepStaysCached.evaluate(withRebuild(rebuild), params);
    expect(judge({ ...request, outcome: 'no-folder', reason: 'bind source path does not exist: /root/exercises/lesson-5' }).message).toContain('There is no folder /root/exercises/lesson-5 to rebuild');
    expect(judge({ ...request, outcome: 'no-source-file' }).message).toBe('/root/exercises/lesson-5 has no main.go; the check changes that file to see what a source-only change rebuilds.');
    expect(judge({ ...request, outcome: 'build-failed', build: 'after-change', error: 'process "/bin/sh -c go build" did not complete successfully: exit code: 1' }).message).toBe(
      'Building /root/exercises/lesson-5 after a comment was appended to main.go failed: process "/bin/sh -c go build" did not complete successfully: exit code: 1',
    );
    expect(judge({ ...request, outcome: 'timed-out', build: 'as-is' }).message).toBe('Building /root/exercises/lesson-5 as it is did not finish within 300 s.');
  });

  it('asks for the rebuild with the source file and time limit', () => {
    expect(stepStaysCached.probes?.(params)).toEqual({ rebuild: { sourceFile: 'main.go', withinMs: 300_000 } });
    expect(stepStaysCached.params.safeParse({ sourceFile: '/src/main.go', step: 'go build' }).success).toBe(false);
  });
});

const code = 'c5e1f0a2b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6';
const vaultFile = (overrides: Partial<Extract<ReferenceFileFacts, { isImagePresent: true }>> = {}): ReferenceFileFacts => ({
  image: 'lesson-6-vault',
  path: '/vault/recovery-code.txt',
  isImagePresent: true,
  layerCount: 3,
  layerInstructions: ['ADD busybox.tar /', ...vaultInstructions],
  versions: [{ layer: 1, diffId: '', layerFiles: [], instruction: 'RUN mkdir -p /vault/old && head -c 24 /dev/urandom …', type: 'file', sizeBytes: code.length, content: Buffer.from(code) }],
  isVisible: false,
  ...overrides,
});
const recoveredFile = (content: string): FileFacts => ({ path: 'recovered/recovery-code.txt', type: 'file', sizeBytes: content.length, mode: 0o644, layer: 1, content: Buffer.from(content) });
const recoveryParams = { path: '/recovered/recovery-code.txt', from: { image: 'lesson-6-vault', path: '/vault/recovery-code.txt', madeBy: vaultInstructions } };
const judgeRecovery = (reference: ReferenceFileFacts, files: FileFacts[]) =>
  fileRecoveredFromLayer.evaluate(facts({ ref: 'lesson-6', probes: { referenceFiles: [reference] } }, files), recoveryParams);

describe('file-recovered-from-layer', () => {
  it('passes a byte-for-byte copy, a trailing newline allowed', () => {
    const outcome = judgeRecovery(vaultFile(), [recoveredFile(`${code}\n`)]);
    expect(outcome.status).toBe('pass');
    expect(outcome.actual).toMatch(/^the same bytes as \/vault\/recovery-code.txt in layer 2 of lesson-6-vault \(sha256 [0-9a-f]{12}…, 48 B\)$/);
  });

  it('fails another content without ever showing the original', () => {
    const outcome = judgeRecovery(vaultFile(), [recoveredFile('(not recovered yet)')]);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toContain('is not a copy of /vault/recovery-code.txt in layer 2 of lesson-6-vault');
    expect(JSON.stringify(outcome)).not.toContain(code);
  });

  it('fails when the vault was rebuilt to show the file, or has it in no layer', () => {
    expect(judgeRecovery(vaultFile({ isVisible: true }), [recoveredFile(code)]).message).toContain('A container of lesson-6-vault can see /vault/recovery-code.txt');
    expect(judgeRecovery(vaultFile({ versions: [] }), [recoveredFile(code)]).message).toBe('No layer of lesson-6-vault holds /vault/recovery-code.txt. Rebuild it from its unchanged Dockerfile.');
    expect(judgeRecovery({ image: 'lesson-6-vault', path: '/vault/recovery-code.txt', isImagePresent: false }, [recoveredFile(code)]).actual).toBe('no image lesson-6-vault');
  });

  it('fails an image without the file', () => {
    expect(judgeRecovery(vaultFile(), [])).toMatchObject({ status: 'fail', actual: 'no such file' });
  });

  it('fails when the vault was built from an edited Dockerfile, whatever the file holds', () => {
    const ownCode = `RUN mkdir -p /vault/old && echo ${code} > /vault/recovery-code.txt && echo "rotation 1" > /vault/old/notes.txt`;
    const outcome = judgeRecovery(vaultFile({ layerInstructions: ['ADD busybox.tar /', ownCode, vaultInstructions[1]!] }), [recoveredFile(code)]);
    expect(outcome).toMatchObject({ status: 'fail', actual: "lesson-6-vault is not the course's" });
    expect(outcome.message).toContain("lesson-6-vault is not the image the course's Dockerfile builds: its layer 2 was made by");
    expect(outcome.message).toContain('Rebuild it from the course\'s unchanged Dockerfile');
    const extraLayer = judgeRecovery(vaultFile({ layerInstructions: ['ADD busybox.tar /', ...vaultInstructions, 'RUN cp /vault/old/notes.txt /tmp'] }), [recoveredFile(code)]);
    expect(extraLayer.status).toBe('fail');
  });

  it('keeps the expected instructions equal to the vault Dockerfile the learner builds', () => {
    for (const which of ['starter', 'solution']) {
      const dockerfile = readFileSync(new URL(`../../../exercises/lesson-6/${which}/vault/Dockerfile`, import.meta.url), 'utf8');
      const runs = dockerfile
        .replace(/\\\n/g, ' ')
        .split('\n')
        .filter((line) => line.startsWith('RUN '))
        .map(normaliseInstruction);
      expect(runs).toEqual(vaultInstructions.map(normaliseInstruction));
    }
  });

  it('finds a file a later layer deletes, in the layer that wrote it, from a real tar', async () => {
    const layerTars = [
      await makeTar([{ name: 'bin/', type: 'directory' }]),
      await makeTar([{ name: 'vault/', type: 'directory' }, { name: 'vault/recovery-code.txt', content: code }]),
      await makeTar([{ name: 'vault/.wh.recovery-code.txt' }]),
    ];
    const archive = await readImageArchive(inPieces(await legacyArchive(layerTars)), { keepContentOf: new Set(['vault/recovery-code.txt']) });
    const found = referenceFileFacts({ image: 'lesson-6-vault', path: '/vault/recovery-code.txt' }, archive);
    expect(found).toMatchObject({ isImagePresent: true, layerCount: 3, isVisible: false, versions: [{ layer: 1, type: 'file', sizeBytes: code.length }] });
    expect(found).toMatchObject({ layerInstructions: ['RUN step 0', 'RUN step 1', 'RUN step 2'] });
    expect((found as Extract<ReferenceFileFacts, { isImagePresent: true }>).versions[0]?.content?.toString()).toBe(code);
  });
});

/** A `docker save` archive in the legacy layout (manifest.json, <id>/layer.tar). */
