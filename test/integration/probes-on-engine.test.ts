import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import { probeHttp } from '../../runner/src/grader/facts/http-probe.js';
import { openLayerFactsCache } from '../../runner/src/grader/facts/layer-cache.js';
import { probeLabels, removeStaleProbes } from '../../runner/src/grader/facts/probe-container.js';
import { publishedPortHostOf } from '../../runner/src/grader/facts/published-port-host.js';
import { probeRun } from '../../runner/src/grader/facts/run-probe.js';
import { buildWithApi } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { newTestRunId, testLabel } from '../support/test-run.js';

/**
 * The run and HTTP probes and gatherImageFacts on the engine this process reaches (DOCKER_HOST
 * or the local socket), with tiny images built on the course's busybox: what the probes report
 * for each way a container can go, and that they leave no container behind. They need no
 * sandbox. (Not in `npm run test:mutation`: each mutant would pay for a container or two.)
 */

const runId = (() => {
  try {
    return inject('testRunId') ?? newTestRunId();
  } catch {
    return newTestRunId();
  }
})();
const labels = { [testLabel]: runId };
const busybox = 'layerlab/busybox:latest';
const tag = (name: string) => `ll-probes-${name}:${runId}`;
const images: Record<string, string> = {
  serves: `FROM ${busybox}\nRUN mkdir /www && echo hello > /www/index.html\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
  sleeps: `FROM ${busybox}\nCMD ["sleep", "30"]\n`,
  exits: `FROM ${busybox}\nCMD ["sh", "-c", "echo starting; sleep 0.3; echo cannot bind >&2; exit 4"]\n`,
  missing: `FROM ${busybox}\nCMD ["/no/such/program"]\n`,
};

let engine: Engine;
let host: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  engine = await connectEngine();
  host = publishedPortHostOf(engine.address);
  for (const [name, dockerfile] of Object.entries(images)) {
    await buildWithApi(engine, { context: new Map([['Dockerfile', Buffer.from(dockerfile)]]), tag: tag(name), labels });
    ids[name] = (await engine.docker.getImage(tag(name)).inspect()).Id;
  }
  ids.busybox = (await engine.docker.getImage(busybox).inspect()).Id;
}, 300_000);

afterAll(async () => {
  await removeTestObjects(engine.docker, runId);
  for (const name of Object.keys(images)) await engine.docker.getImage(tag(name)).remove({ force: true }).catch(() => undefined);
}, 120_000);

async function probeContainersLeft(): Promise<number> {
  const containers = await engine.docker.listContainers({ all: true, filters: { label: [`layerlab.role=${probeLabels['layerlab.role']}`, `${testLabel}=${runId}`] } });
  return containers.length;
}

describe('the run probe on a real engine', () => {
  it('keeps standard output, standard error and the exit code apart, and removes its container', async () => {
    const result = await probeRun(engine, ids.busybox!, { args: ['sh', '-c', 'echo out; echo err >&2; exit 3'], withinMs: 20_000 }, { labels });
    expect(result).toEqual({ args: ['sh', '-c', 'echo out; echo err >&2; exit 3'], withinMs: 20_000, outcome: 'exited', exitCode: 3, stdout: 'out\n', stderr: 'err\n', afterMs: expect.any(Number) });
    expect(result.outcome === 'exited' && result.afterMs).toBeLessThan(20_000);
    expect(await probeContainersLeft()).toBe(0);
  }, 60_000);

  it("runs the image's own CMD without arguments, and caps a flood of output", async () => {
    const own = await probeRun(engine, ids.exits!, { withinMs: 20_000 }, { labels });
    expect(own).toMatchObject({ outcome: 'exited', exitCode: 4, stdout: 'starting\n', stderr: 'cannot bind\n' });
    expect('args' in own).toBe(false);
    const flood = await probeRun(engine, ids.busybox!, { args: ['sh', '-c', "head -c 9000 /dev/zero | tr '\\0' y"], withinMs: 20_000 }, { labels });
    expect(flood.outcome === 'exited' && flood.stdout).toBe(`${'y'.repeat(8000)}…`);
  }, 60_000);

  it('stops a command that runs too long, and reports one that cannot start', async () => {
    const slow = await probeRun(engine, ids.busybox!, { args: ['sh', '-c', 'echo waiting; sleep 30'], withinMs: 1500 }, { labels });
    expect(slow).toEqual({ args: ['sh', '-c', 'echo waiting; sleep 30'], withinMs: 1500, outcome: 'timed-out', stdout: 'waiting\n', stderr: '' });
    const missing = await probeRun(engine, ids.missing!, { withinMs: 20_000 }, { labels });
    expect(missing).toMatchObject({ outcome: 'not-started', reason: expect.stringMatching(/no such file or directory/) });
    expect(missing.outcome === 'not-started' && missing.reason).not.toMatch(/^\(HTTP code/);
    expect(await probeContainersLeft()).toBe(0);
  }, 60_000);

  it('stops when aborted, leaving nothing behind', async () => {
    const controller = new AbortController();
    const running = probeRun(engine, ids.busybox!, { args: ['sleep', '30'], withinMs: 20_000 }, { labels, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('the learner pressed Stop')), 1500);
    await expect(running).rejects.toThrow('the learner pressed Stop');
    expect(await probeContainersLeft()).toBe(0);
  }, 60_000);
});

describe('the HTTP probe on a real engine', () => {
  it('asks the first path until it answers, then every other path once', async () => {
    const result = await probeHttp(engine, ids.serves!, { port: 8080, paths: ['/', '/missing'], withinMs: 20_000 }, { publishedPortHost: host, labels });
    expect(result).toEqual({
      port: 8080,
      paths: ['/', '/missing'],
      withinMs: 20_000,
      outcome: 'answered',
      answers: [
        { path: '/', statusCode: 200, bodyStart: 'hello\n' },
        { path: '/missing', statusCode: 404, bodyStart: expect.stringContaining('404') },
      ],
      afterMs: expect.any(Number),
      // What ran once it answered, as `docker top` shows it: the image's own CMD.
      processes: ['httpd -f -p 8080 -h /www'],
    });
    expect(await probeContainersLeft()).toBe(0);
  }, 60_000);

  it('reports a container that exits before answering, with its last output', async () => {
    const result = await probeHttp(engine, ids.exits!, { port: 8080, paths: ['/'], withinMs: 20_000 }, { publishedPortHost: host, labels });
    expect(result).toEqual({ port: 8080, paths: ['/'], withinMs: 20_000, outcome: 'exited', exitCode: 4, logTail: 'starting\ncannot bind', afterMs: expect.any(Number) });
  }, 60_000);

  it('reports a container that never answers, and one that cannot start', async () => {
    const silent = await probeHttp(engine, ids.sleeps!, { port: 8080, paths: ['/'], withinMs: 1500 }, { publishedPortHost: host, labels });
    expect(silent).toMatchObject({ outcome: 'timed-out', logTail: '' });
    expect(silent.outcome === 'timed-out' && silent.lastError).toMatch(/^(connection refused|the connection was closed without an answer \(nothing listens on the port inside the container\?\))$/);
    const missing = await probeHttp(engine, ids.missing!, { port: 8080, paths: ['/'], withinMs: 5000 }, { publishedPortHost: host, labels });
    expect(missing).toMatchObject({ outcome: 'not-started', reason: expect.stringMatching(/no such file or directory/) });
    expect(await probeContainersLeft()).toBe(0);
  }, 60_000);
});

describe('gatherImageFacts on a real engine', () => {
  let cacheFolder: string;
  beforeAll(async () => {
    cacheFolder = await mkdtemp(path.join(tmpdir(), 'layerlab-gather-'));
  });
  afterAll(async () => {
    await rm(cacheFolder, { recursive: true, force: true });
  });

  it('says there is no such image', async () => {
    expect(await gatherImageFacts(engine, `ll-probes-none:${runId}`)).toBeUndefined();
  });

  it('reads the image, its layers and config, and runs the probes the checks asked for', async () => {
    const phases: string[] = [];
    const facts = await gatherImageFacts(engine, tag('serves'), {
      labels,
      publishedPortHost: host,
      onPhase: (phase) => phases.push(phase),
      probes: {
        http: { port: 8080, paths: ['/'], withinMs: 20_000 },
        runs: [
          { args: ['cat', '/www/index.html'], withinMs: 5000 },
          { args: ['cat', '/www/index.html'], withinMs: 15_000 },
          { withinMs: 1000 },
        ],
        referenceImages: [busybox, `ll-probes-none:${runId}`, busybox],
        referenceFiles: [
          { image: busybox, path: '/bin/sh' },
          { image: `ll-probes-none:${runId}`, path: '/x' },
        ],
        fileContents: ['/www/index.html'],
        rebuild: { sourceFile: 'main.go', withinMs: 60_000 },
      },
    });
    expect(facts).toBeDefined();
    expect(facts!.ref).toBe(tag('serves'));
    expect(facts!.id).toBe(ids.serves);
    expect(facts!.config).toMatchObject({ cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'], exposedPorts: ['8080/tcp'] });
    expect(facts!.layers.at(-1)).toMatchObject({ instruction: expect.stringContaining('mkdir /www'), entries: expect.arrayContaining([expect.objectContaining({ path: 'www/index.html' })]) });
    expect(facts!.files.get('www/index.html')?.content?.toString()).toBe('hello\n');
    expect(facts!.probes.http).toMatchObject({ outcome: 'answered', answers: [{ path: '/', statusCode: 200, bodyStart: 'hello\n' }] });
    expect(facts!.probes.runs).toEqual([
      expect.objectContaining({ args: ['cat', '/www/index.html'], withinMs: 15_000, outcome: 'exited', stdout: 'hello\n' }),
      expect.objectContaining({ withinMs: 1000, outcome: 'timed-out' }),
    ]);
    expect(facts!.probes.referenceImages).toEqual({
      [busybox]: { ref: busybox, isPresent: true, id: ids.busybox, diffIds: expect.any(Array) },
      [`ll-probes-none:${runId}`]: { ref: `ll-probes-none:${runId}`, isPresent: false },
    });
    expect(facts!.probes.referenceFiles).toEqual([
      expect.objectContaining({ image: busybox, path: '/bin/sh', isImagePresent: true, isVisible: true }),
      { image: `ll-probes-none:${runId}`, path: '/x', isImagePresent: false },
    ]);
    expect(facts!.probes.rebuild).toEqual({ sourceFile: 'main.go', withinMs: 60_000, folder: '', outcome: 'not-given' });
    expect(phases).toEqual(['reading-layers', 'running-container']);
    expect(await probeContainersLeft()).toBe(0);
  }, 120_000);

  it('refuses an HTTP probe without a host to dial', async () => {
    await expect(gatherImageFacts(engine, tag('serves'), { probes: { http: { port: 8080, paths: ['/'], withinMs: 1000 } } })).rejects.toThrow('an HTTP probe needs publishedPortHost');
  }, 60_000);

  it('reads the same facts from the layer cache the second time', async () => {
    const layerCache = openLayerFactsCache(cacheFolder);
    const first = await gatherImageFacts(engine, tag('exits'), { layerCache, probes: { fileContents: ['/bin/sh'] } });
    const second = await gatherImageFacts(engine, tag('exits'), { layerCache, probes: { fileContents: ['/bin/sh'] } });
    expect(second!.layers).toEqual(first!.layers);
    expect([...second!.files.keys()]).toEqual([...first!.files.keys()]);
    expect(second!.archiveLayout).toBe(first!.archiveLayout);
    expect(await layerCache.getImage(ids.exits!)).toBeDefined();
  }, 120_000);

  it('clears probe containers a killed grader left behind, and only old ones', async () => {
    const young = await engine.docker.createContainer({ Image: ids.busybox!, Cmd: ['true'], Labels: { ...probeLabels, ...labels } });
    await removeStaleProbes(engine);
    expect(await probeContainersLeft()).toBe(1);
    await young.remove({ force: true });
  }, 60_000);
});
