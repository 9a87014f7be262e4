import { describe, expect, it } from 'vitest';
import { checksumsOf, explainSteps, sentToBuilder, type BuildInputs } from '../../../runner/src/inspect/cache-explainer.js';
import { parseDockerfile } from '../../../runner/src/inspect/dockerfile-steps.js';

const dockerfile = `# syntax comments and continuations
ARG BASE=busybox:latest
FROM \${BASE} AS deps
ARG VERSION=1
ENV MODE=fast
WORKDIR /app
COPY deps.txt ./
RUN echo $VERSION \\
    > v.txt
FROM busybox:latest
COPY --from=deps /app/v.txt ./
COPY ["app.sh", "./"]
CMD ["sh"]
`;

describe('parseDockerfile', () => {
  it('numbers steps as BuildKit does and records what each one sees', () => {
    const stages = parseDockerfile(dockerfile, { VERSION: '2' });
    expect(stages.map((stage) => [stage.labels, stage.baseRef])).toEqual([
      [['deps', 'stage-0'], 'busybox:latest'],
      [['stage-1', ''], 'busybox:latest'],
    ]);
    expect(stages[0]!.steps.map((step) => [step.number, step.line, step.instruction])).toEqual([
      [1, 3, 'FROM'],
      [2, 6, 'WORKDIR'],
      [3, 7, 'COPY'],
      [4, 8, 'RUN'],
    ]);
    expect(stages[0]!.steps[3]).toMatchObject({ text: 'RUN echo $VERSION > v.txt', args: { VERSION: '2' }, env: { MODE: 'fast' } });
    expect(stages[0]!.steps[2]).toMatchObject({ contextSources: ['deps.txt'], args: {}, env: {} });
    expect(stages[1]!.steps[1]).toMatchObject({ fromStage: 'deps' });
    expect(stages[1]!.steps[2]).toMatchObject({ contextSources: ['app.sh'] });
  });
});

const inputs = (files: Record<string, string>, version = '1', baseImageId = 'sha256:aaa'): BuildInputs => ({
  stages: [
    {
      labels: [''],
      baseRef: 'busybox:latest',
      baseImageId,
      steps: [
        { number: 1, line: 1, instruction: 'FROM', text: 'FROM busybox:latest', expanded: 'FROM busybox:latest', args: {}, env: {} },
        { number: 2, line: 3, instruction: 'COPY', text: 'COPY . .', expanded: 'COPY . .', args: {}, env: {}, files },
        { number: 3, line: 4, instruction: 'RUN', text: 'RUN make', expanded: 'RUN make', args: { VERSION: version }, env: {} },
      ],
    },
  ],
});
const trace = (cached: boolean[]) => ['[1/3] FROM docker.io/library/busybox:latest', '[2/3] COPY . .', '[3/3] RUN make'].map((name, index) => ({ name, isCached: cached[index]! }));

describe('explainSteps', () => {
  it('names the context file whose content changed, and blames the rest on it', () => {
    const steps = explainSteps(trace([true, false, false]), inputs({ 'main.go': 'new', 'go.mod': 'same' }), inputs({ 'main.go': 'old', 'go.mod': 'same' }));
    expect(steps[1]!.cause).toMatchObject({ kind: 'context-file-changed', changed: ['main.go'], added: [], removed: [], lessonLink: '/lessons/lesson-5/#how-the-builder-decides' });
    expect(steps[2]!.cause).toMatchObject({ kind: 'earlier-step-rebuilt', step: '[2/3] COPY . .', lessonLink: '/lessons/lesson-5/#one-miss-and-everything-after-it-runs-again' });
  });

  it('names a build argument that changed, with both values', () => {
    const steps = explainSteps(trace([true, true, false]), inputs({ a: '1' }, '2'), inputs({ a: '1' }, '1'));
    expect(steps[2]!.cause).toMatchObject({ kind: 'arg-changed', variable: 'VERSION', before: '1', after: '2' });
  });

  it('says the base image changed before looking at files', () => {
    const steps = explainSteps(trace([true, false, false]), inputs({ a: '2' }, '1', 'sha256:bbb'), inputs({ a: '1' }, '1', 'sha256:aaa'));
    expect(steps[1]!.cause).toMatchObject({ kind: 'base-changed', before: 'sha256:aaa', after: 'sha256:bbb' });
  });

  it('says when there is nothing to compare with, or nothing changed at all', () => {
    expect(explainSteps(trace([true, false, false]), inputs({}), undefined)[1]!.cause!.kind).toBe('no-earlier-build');
    expect(explainSteps(trace([true, false, false]), inputs({ a: '1' }), inputs({ a: '1' }))[1]!.cause!.kind).toBe('not-in-cache');
    expect(explainSteps(trace([true, true, true]), inputs({}), inputs({})).every((step) => !step.cause)).toBe(true);
  });
});

describe('sentToBuilder: .dockerignore decides which context files a COPY can see', () => {
  const file = (name: string, content = name) => ({ header: { name, type: 'file' as const, mode: 0o644 }, content: Buffer.from(content) });
  const context = [file('app.sh'), file('debug.log'), file('src/trace.log'), file('secrets/key'), file('secrets/keep.pub'), file('node_modules/x/index.js'), file('src/node_modules/y.js'), file('Dockerfile')];

  it('leaves every file in when there is no .dockerignore', () => {
    expect(sentToBuilder(context).map((entry) => entry.header.name)).toEqual(context.map((entry) => entry.header.name));
  });

  it('applies Docker\'s rules: root-relative patterns, folders, ** and ! exceptions, the last match winning', () => {
    const rules = file('.dockerignore', '# comment\n*.log\nsecrets\n!secrets/keep.pub\n**/node_modules\n');
    const names = sentToBuilder([...context, rules]).map((entry) => entry.header.name);
    // *.log matches at the root only, as in Docker (not like .gitignore).
    expect(names).toEqual(['app.sh', 'src/trace.log', 'secrets/keep.pub', 'Dockerfile', '.dockerignore']);
  });

  it('makes an ignored file\'s change invisible to COPY . (so it cannot cause a miss)', () => {
    const rules = file('.dockerignore', '*.log\n');
    const before = checksumsOf(['.'], sentToBuilder([file('app.sh'), file('debug.log', 'one'), rules]));
    const after = checksumsOf(['.'], sentToBuilder([file('app.sh'), file('debug.log', 'two'), rules]));
    expect(after).toEqual(before);
    expect(Object.keys(after)).toEqual(['app.sh', '.dockerignore']);
    const unignored = checksumsOf(['.'], sentToBuilder([file('app.sh'), file('debug.log', 'two')]));
    expect(unignored['debug.log']).toBeDefined();
  });
});
