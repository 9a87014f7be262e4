import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import { probeLabels } from '../../runner/src/grader/facts/probe-container.js';
import { probeRun } from '../../runner/src/grader/facts/run-probe.js';
import { noSecret } from '../../runner/src/grader/kinds/no-secret.js';
import { pathNeverInLayers } from '../../runner/src/grader/kinds/path-never-in-layers.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * The run probe and the facts lessons 3 and 4 judge, on a real engine: images built with
 * the sandbox's BuildKit, run as commands, and read back from their archives.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const labels = { [testLabel]: runId };
const tag = (name: string) => `ll-run-${name}:${runId}`;
const token = 'glt_integration_0f3e9a';

const dockerfiles: Record<string, string> = {
  echoes: [
    'FROM busybox:latest',
    `ARG GREET_TOKEN=${token}`,
    'RUN echo "this step never reads the token" > /note',
    'RUN seq 1 100000 > /tmp/numbers.txt',
    'RUN rm /tmp/numbers.txt',
    'ENTRYPOINT ["sh", "-c", "echo \\"args: $*\\"; echo oops >&2; exit 3", "sh"]',
    'CMD ["default"]',
  ].join('\n'),
  sleeps: 'FROM busybox:latest\nENTRYPOINT ["sleep", "30"]\n',
  missing: 'FROM busybox:latest\nENTRYPOINT ["/no/such/program"]\n',
};

let host: Engine;
let nested: Engine;
const imageIds: Record<string, string> = {};

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  for (const [name, dockerfile] of Object.entries(dockerfiles)) {
    await buildInSandbox(host, instance, { context: new Map([['Dockerfile', Buffer.from(dockerfile)]]), tag: tag(name), labels });
    imageIds[name] = (await nested.docker.getImage(tag(name)).inspect()).Id;
  }
});

afterAll(async () => {
  await removeTestObjects(nested.docker, runId);
});

async function probeContainersOfThisRun(): Promise<number> {
  const containers = await nested.docker.listContainers({ all: true, filters: { label: [`layerlab.role=${probeLabels['layerlab.role']}`, `${testLabel}=${runId}`] } });
  return containers.length;
}

describe('the run probe', () => {
  it('runs the image with its CMD, keeps stdout and stderr apart, and reports the exit code', async () => {
    const result = await probeRun(nested, imageIds.echoes!, { withinMs: 10_000 }, { labels });
    expect(result).toMatchObject({ outcome: 'exited', exitCode: 3, stdout: 'args: default\n', stderr: 'oops\n' });
    expect(await probeContainersOfThisRun()).toBe(0);
  });

  it('puts the arguments in place of CMD, as docker run does', async () => {
    const result = await probeRun(nested, imageIds.echoes!, { args: ['Ada', 'Lovelace'], withinMs: 10_000 }, { labels });
    expect(result).toMatchObject({ outcome: 'exited', stdout: 'args: Ada Lovelace\n' });
  });

  it('stops a command that keeps running and removes its container', async () => {
    const result = await probeRun(nested, imageIds.sleeps!, { withinMs: 1500 }, { labels });
    expect(result.outcome).toBe('timed-out');
    expect(await probeContainersOfThisRun()).toBe(0);
  });

  it('reports a program the engine cannot start, in the engine\'s words', async () => {
    const result = await probeRun(nested, imageIds.missing!, { withinMs: 10_000 }, { labels });
    expect(result.outcome).toBe('not-started');
    expect(result.outcome === 'not-started' && result.reason).toContain('/no/such/program');
    expect(await probeContainersOfThisRun()).toBe(0);
  });
});

describe('history and per-layer facts from a BuildKit image', () => {
  it('keeps every history row, and finds a build argument BuildKit wrote into a RUN that never used it', async () => {
    const facts = (await gatherImageFacts(nested, tag('echoes'), { labels }))!;
    expect(facts.history.some((row) => row.createdBy.startsWith(`RUN |1 GREET_TOKEN=${token} /bin/sh -c echo "this step never reads the token"`))).toBe(true);
    const outcome = noSecret.evaluate(facts, { value: token, name: 'the token' });
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toContain('RUN |1 GREET_TOKEN=*** echo "this step never reads the token" > /note');
  });

  it('sees a file in the layer that made it, though a later layer deletes it', async () => {
    const facts = (await gatherImageFacts(nested, tag('echoes'), { labels }))!;
    expect(facts.files.has('tmp/numbers.txt')).toBe(false);
    const outcome = pathNeverInLayers.evaluate(facts, { paths: ['/tmp/numbers.txt'] });
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toMatch(/^\/tmp\/numbers\.txt \(589 kB\) is in layer 3 \(`RUN seq 1 100000 > \/tmp\/numbers\.txt`\); layer 4 \(`RUN rm \/tmp\/numbers\.txt`\) deletes it/);
  });
});
