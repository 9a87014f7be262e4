import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { probeLabels } from '../../runner/src/grader/facts/probe-container.js';
import { probeRebuild, rebuildTagRepository } from '../../runner/src/grader/facts/rebuild-probe.js';
import type { RebuildProbeResult } from '../../runner/src/grader/types.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { removeTestObjects } from '../support/cleanup.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * The rebuild probe behind lesson 5's check, on the sandbox's real BuildKit: it reads a
 * folder through the engine, builds it as it is and after a change to one file, reports
 * what BuildKit took from the cache, and leaves no image, container or changed file behind.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const labels = { [testLabel]: runId };
const root = `/tmp/ll-rebuild-${randomBytes(3).toString('hex')}`;

let host: Engine;
let nested: Engine;

const depsFirst = `FROM busybox:latest
WORKDIR /app
COPY deps.txt ./
RUN sed 's/^/installed: /' deps.txt > installed.txt && date > installed-at.txt
COPY app.sh ./
RUN sh app.sh > built.txt
`;
const everythingFirst = `FROM busybox:latest
WORKDIR /app
COPY . .
RUN sed 's/^/installed: /' deps.txt > installed.txt && date > installed-at.txt
RUN sh app.sh > built.txt
`;
const failing = `FROM busybox:latest
COPY app.sh ./
RUN sh app.sh && exit 3
`;

/** A project folder in the sandbox; the run id in deps.txt keeps other runs' cache out. */
async function project(name: string, dockerfile: string): Promise<string> {
  const folder = `${root}/${name}`;
  const made = await execInSandbox(
    host,
    instance,
    `mkdir -p ${folder} && cd ${folder} && printf '%s' "$FILE_dockerfile" > Dockerfile && printf 'left-pad 1.3.0\\n${runId}\\n' > deps.txt && echo 'echo built' > app.sh`,
    { dockerfile },
  );
  expect(made.exitCode, made.stderr).toBe(0);
  return folder;
}

const rebuild = (folder: string): Promise<RebuildProbeResult> =>
  probeRebuild(nested, { sourceFile: 'app.sh', withinMs: 300_000 }, { folder: { where: 'engine-host', path: folder }, helperImage: 'busybox:latest', labels });

const cachedAfterChange = (result: RebuildProbeResult) => {
  if (result.outcome !== 'rebuilt') throw new Error(`expected a rebuild, got ${JSON.stringify(result)}`);
  return Object.fromEntries(result.afterChange.map((step) => [step.name.replace(/^\[\d+\/\d+\] /, ''), step.isCached]));
};

async function leftovers(): Promise<string[]> {
  const images = await nested.docker.listImages({ filters: { reference: [`${rebuildTagRepository}`] } });
  const containers = await nested.docker.listContainers({ all: true, filters: { label: [`${testLabel}=${runId}`, `layerlab.role=${probeLabels['layerlab.role']}`] } });
  return [...images.flatMap((image) => image.RepoTags ?? [image.Id]), ...containers.map((container) => container.Names[0] ?? container.Id)];
}

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
});

afterAll(async () => {
  await execInSandbox(host, instance, `rm -rf ${root}`);
  await removeTestObjects(nested.docker, runId);
});

describe('the rebuild probe', () => {
  it('reports the install step cached after a source-only change when the source is copied after it', async () => {
    const folder = await project('deps-first', depsFirst);
    const steps = cachedAfterChange(await rebuild(folder));
    expect(steps["RUN sed 's/^/installed: /' deps.txt > installed.txt && date > installed-at.txt"]).toBe(true);
    expect(steps['COPY app.sh ./']).toBe(false);
    expect(steps['RUN sh app.sh > built.txt']).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('reports the install step run again when COPY . . comes first, and leaves the folder as it was', async () => {
    const folder = await project('everything-first', everythingFirst);
    const before = await execInSandbox(host, instance, `cd ${folder} && sha256sum app.sh`);
    const steps = cachedAfterChange(await rebuild(folder));
    expect(steps['COPY . .']).toBe(false);
    expect(steps["RUN sed 's/^/installed: /' deps.txt > installed.txt && date > installed-at.txt"]).toBe(false);
    expect((await execInSandbox(host, instance, `cd ${folder} && sha256sum app.sh`)).stdout).toBe(before.stdout);
    expect(await leftovers()).toEqual([]);
  });

  it('takes the first build from the cache the CLI filled, so the check agrees with docker build', async () => {
    const folder = await project('cli-first', depsFirst.replace('WORKDIR /app', 'WORKDIR /cli'));
    const built = await execInSandbox(host, instance, `cd ${folder} && docker build -q --label ${testLabel}=${runId} .`);
    expect(built.exitCode, built.stderr).toBe(0);
    const result = await rebuild(folder);
    if (result.outcome !== 'rebuilt') throw new Error(JSON.stringify(result));
    expect(result.asIs.filter((step) => !step.isCached && !/\] FROM /.test(step.name))).toEqual([]);
  });

  it('says the folder is missing, and creates none on the engine host', async () => {
    const folder = `${root}/missing`;
    const result = await rebuild(folder);
    expect(result).toMatchObject({ outcome: 'no-folder', folder });
    expect((await execInSandbox(host, instance, `test -e ${folder}`)).exitCode).toBe(1);
    expect(await leftovers()).toEqual([]);
  });

  it("reports a failing build with the builder's own error", async () => {
    const folder = await project('failing', failing);
    const result = await rebuild(folder);
    expect(result).toMatchObject({ outcome: 'build-failed', build: 'as-is' });
    expect(result.outcome === 'build-failed' && result.error).toMatch(/exit code: 3/);
    expect(await leftovers()).toEqual([]);
  });

  it('says which file is missing when the folder has no source file to change', async () => {
    const folder = await project('no-source', depsFirst);
    await execInSandbox(host, instance, `rm ${folder}/app.sh`);
    expect(await rebuild(folder)).toMatchObject({ outcome: 'no-source-file', sourceFile: 'app.sh' });
  });
});
