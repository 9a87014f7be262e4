import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../../runner/src/engine.js';
import { gatherImageFacts, type GatherOptions } from '../../../runner/src/grader/facts/gather.js';
import { openLayerFactsCache } from '../../../runner/src/grader/facts/layer-cache.js';
import type { ProbeNeeds } from '../../../runner/src/grader/types.js';
import { useLocalServers } from '../../support/local-servers.js';

// gatherImageFacts end to end, as the grader calls it, against an engine that answers with
// what a real one answered (Docker Engine 20.10.24, recorded with curl on its socket; see
// test/fixtures/probes/README.md): two images' inspect data and `docker save` archives, and
// its answers for an image it lacks and for a name that is no image reference. The answers
// come over real HTTP, through dockerode, as they do from an engine on a TCP address.

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/probes/${name}`, import.meta.url));
const appInspect = JSON.parse(fixture('gather-image-inspect.json').toString()) as { Id: string; RootFS: { Layers: string[] } };
const referenceInspect = JSON.parse(fixture('reference-image-inspect.json').toString()) as { Id: string; RootFS: { Layers: string[] } };
const errors = JSON.parse(fixture('image-inspect-errors.json').toString()) as Record<string, { statusCode: number; json: unknown }>;
const appRef = 'll-facts16-gather:1';
const referenceRef = 'll-facts16-ref:1';
const missingRef = 'll-facts16-missing:1';

const images = new Map<string, { inspect: Buffer; save: Buffer }>();
for (const [names, inspect, save] of [
  [[appRef, appInspect.Id], 'gather-image-inspect.json', 'gather-image-save.tar'],
  [[referenceRef, referenceInspect.Id], 'reference-image-inspect.json', 'reference-image-save.tar'],
] as const) {
  for (const name of names) images.set(name, { inspect: fixture(inspect), save: fixture(save) });
}

const servers = useLocalServers();

const containerAnswers = JSON.parse(fixture('container-answers.json').toString()) as Record<'created' | 'startNoSuchFile' | 'createNoSuchImage' | 'removeGone' | 'archiveAbsent', { statusCode: number; json: { Id?: string; message?: string } }>;
const probeId = containerAnswers.created.json.Id!;
/** A probe container a grader left behind, created at 22:38 on 2026-11-30: stale (300 s or older) ever since. */
const staleProbes = fixture('containers-list-probes.json');
const staleProbeId = (JSON.parse(staleProbes.toString()) as Array<{ Id: string }>)[0]!.Id;
const containerInspect = { exited: fixture('container-inspect-exited.json'), running: fixture('container-inspect-running.json') };
const publishedInspect = fixture('container-inspect-published.json');
const containerLogs = { exited: fixture('logs-both-streams.bin'), running: fixture('logs-running.bin') };

const engineErrors = JSON.parse(fixture('engine-errors.json').toString()) as Record<'missingBindSource' | 'buildBadTag' | 'removeNoSuchImage' | 'removeImageInUse', { statusCode: number; json: { message: string } }>;
const imageRemoveAnswers = JSON.parse(fixture('image-remove-answers.json').toString()) as { removed: { statusCode: number; json: object } };
const buildStreams = { 'as-is': fixture('rebuild-as-is.jsonl'), 'after-change': fixture('rebuild-after-change.jsonl'), 'run-fails': fixture('build-run-fails.jsonl') };
const exerciseFolderArchive = fixture('exercise-folder-archive.tar');
/** `GET /containers/{id}/archive?path=…` of a container of an image with /app/summary.txt ("total: 42"), /app/link -> summary.txt, /app/link2 -> /app/link and /app/dir/. */
const imageFileArchives: Record<string, Buffer> = {
  '/app/summary.txt': fixture('container-archive-summary.tar'),
  '/app/link': fixture('container-archive-link.tar'),
  '/app/link2': fixture('container-archive-link2.tar'),
  '/app/dir': fixture('container-archive-dir.tar'),
};

interface RecordedEngine {
  engine: Engine;
  requests: string[];
  /** The bodies of `POST /containers/create`, with the name asked for. */
  created: Array<Record<string, unknown>>;
  /** Each `POST /build`: its query and the build context sent. */
  builds: Array<{ query: URLSearchParams; context: Buffer }>;
  removedTags: string[];
}

/** Which recorded answer the engine gives where a real one answered in more than one way. */
interface EngineScript {
  create?: 'created' | 'no-such-image' | 'missing-folder';
  /** The answers to successive `POST /build`s: the recorded streams, or the engine refusing the build. */
  builds?: Array<'as-is' | 'after-change' | 'run-fails' | 'refused'>;
  removeImage?: 'removed' | 'gone' | 'in-use';
  /** Called when a container is asked for; its answer waits until the promise settles. */
  onCreate?: () => Promise<void>;
  start?: 'started' | 'no-such-file';
  /** `published`: the recorded `httpd -p 8080` container, its port 8080 published on `servicePort` (recorded: 32768). */
  state?: 'exited' | 'running' | 'published';
  servicePort?: number;
  remove?: 'removed' | 'gone';
}

/**
 * The recorded engine; `requests` lists what was asked of it ("GET /images/<name>/json",
 * "POST /containers/create", ...) and `created` the bodies of the containers asked for.
 */
async function recordedEngine(script: EngineScript = {}): Promise<RecordedEngine> {
  const requests: string[] = [];
  const created: Array<Record<string, unknown>> = [];
  const builds: RecordedEngine['builds'] = [];
  const removedTags: string[] = [];
  const answer = (response: http.ServerResponse, statusCode: number, body?: Buffer | string | object, type = 'application/json') => {
    response.writeHead(statusCode, body === undefined ? {} : { 'Content-Type': type });
    response.end(body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://engine');
      const pathname = url.pathname.replace(/^\/v[\d.]+/, '');
      const image = /^\/images\/(.+)\/(json|get)$/.exec(pathname);
      if (image) {
        const name = decodeURIComponent(image[1]!);
        requests.push(`${request.method} /images/${name}/${image[2]}`);
        const found = images.get(name);
        const error = errors[name];
        if (found) return answer(response, 200, image[2] === 'json' ? found.inspect : found.save, image[2] === 'json' ? 'application/json' : 'application/x-tar');
        return answer(response, error?.statusCode ?? 404, error?.json ?? { message: `No such image: ${name}` });
      }
      if (pathname === '/build' && request.method === 'POST') {
        requests.push('POST /build');
        builds.push({ query: url.searchParams, context: Buffer.concat(chunks) });
        const answerOf = script.builds?.[builds.length - 1] ?? 'as-is';
        if (answerOf === 'refused') return answer(response, engineErrors.buildBadTag.statusCode, engineErrors.buildBadTag.json);
        return answer(response, 200, buildStreams[answerOf]);
      }
      const imageTag = /^\/images\/(layerlab-probe-rebuild(?::|%3A)[^/]+)$/.exec(pathname);
      if (imageTag && request.method === 'DELETE') {
        requests.push('DELETE /images/{probe tag}');
        removedTags.push(decodeURIComponent(imageTag[1]!));
        const reply = script.removeImage === 'gone' ? engineErrors.removeNoSuchImage : script.removeImage === 'in-use' ? engineErrors.removeImageInUse : imageRemoveAnswers.removed;
        return answer(response, reply.statusCode, reply.json);
      }
      const container = /^\/containers\/([0-9a-f]{64})(?:\/(start|json|logs|archive))?$/.exec(pathname);
      requests.push(`${request.method} ${pathname.replace(probeId, '{id}').replace(staleProbeId, '{stale}')}`);
      if (pathname === '/containers/json') return answer(response, 200, staleProbes);
      if (pathname === '/containers/create') {
        created.push({ name: url.searchParams.get('name'), ...(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) });
        const replying = script.onCreate?.() ?? Promise.resolve();
        const reply = script.create === 'no-such-image' ? containerAnswers.createNoSuchImage : script.create === 'missing-folder' ? engineErrors.missingBindSource : containerAnswers.created;
        return void replying.then(() => answer(response, reply.statusCode, reply.json));
      }
      if (container?.[2] === 'archive') {
        const wanted = url.searchParams.get('path') ?? '';
        const archive = wanted === '/layerlab-context' ? exerciseFolderArchive : imageFileArchives[wanted];
        if (!archive) return answer(response, containerAnswers.archiveAbsent.statusCode, containerAnswers.archiveAbsent.json);
        return answer(response, 200, archive, 'application/x-tar');
      }
      if (container?.[2] === 'start') return script.start === 'no-such-file' ? answer(response, containerAnswers.startNoSuchFile.statusCode, containerAnswers.startNoSuchFile.json) : answer(response, 204);
      if (container?.[2] === 'json' && script.state === 'published') return answer(response, 200, publishedInspect.toString().replaceAll('"HostPort": "32768"', `"HostPort": "${script.servicePort}"`));
      if (container?.[2] === 'json') return answer(response, 200, containerInspect[script.state === 'running' ? 'running' : 'exited']);
      if (container?.[2] === 'logs') return answer(response, 200, containerLogs[script.state === 'running' ? 'running' : 'exited'], 'application/vnd.docker.raw-stream');
      if (container && request.method === 'DELETE') {
        if (script.remove === 'gone') return answer(response, containerAnswers.removeGone.statusCode, containerAnswers.removeGone.json);
        return answer(response, 204);
      }
      return answer(response, 404, { message: 'page not found' });
    });
  });
  const port = await servers.listening(server);
  const docker = new Docker({ protocol: 'http', host: '127.0.0.1', port });
  return { engine: { docker, address: `tcp://127.0.0.1:${port}`, version: '20.10.24+dfsg1', apiVersion: '1.41' }, requests, created, builds, removedTags };
}

let cacheFolder: string;
beforeEach(async () => {
  cacheFolder = await mkdtemp(path.join(tmpdir(), 'layerlab-gather-recorded-'));
});
afterEach(async () => {
  await rm(cacheFolder, { recursive: true, force: true });
});

describe('gatherImageFacts on a recorded engine', () => {
  it("gives the image's config, layers, history and files, reading the archive docker save sends", async () => {
    const { engine, requests } = await recordedEngine();
    const phases: string[] = [];
    const facts = await gatherImageFacts(engine, appRef, { onPhase: (phase) => phases.push(phase) });
    expect(facts).toBeDefined();
    expect(facts!.ref).toBe(appRef);
    expect(facts!.id).toBe(appInspect.Id);
    expect(facts!.sizeBytes).toBe(49);
    expect(facts!.created).toBe('2026-11-30T22:35:21.875323382Z');
    expect(facts!.config).toEqual({
      user: '1000:1000',
      entrypoint: ['/app/run.sh'],
      cmd: ['--serve'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'],
      exposedPorts: ['8080/tcp'],
      workingDir: '/app',
      labels: { 'layerlab.test': 'facts16-record' },
    });
    expect(facts!.archiveLayout).toBe('docker-legacy');
    expect(facts!.layers.map((layer) => [layer.diffId, layer.instruction, layer.entryCount, layer.sizeBytes])).toEqual([
      [appInspect.RootFS.Layers[0], expect.stringMatching(/^COPY dir:[0-9a-f]{12}… in \/app\/$/), 3, 37],
      [appInspect.RootFS.Layers[1], expect.stringMatching(/^COPY dir:[0-9a-f]{12}… in \/etc\/$/), 2, 12],
    ]);
    expect(facts!.history.map((row) => [row.isEmptyLayer, row.createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').split(' ')[0]])).toEqual([
      [true, 'LABEL'],
      [false, 'COPY'],
      [true, 'ENV'],
      [false, 'COPY'],
      [true, 'USER'],
      [true, 'WORKDIR'],
      [true, 'EXPOSE'],
      [true, 'ENTRYPOINT'],
      [true, 'CMD'],
    ]);
    expect([...facts!.files.keys()].sort()).toEqual(['app', 'app/hello.txt', 'app/run.sh', 'etc', 'etc/app.conf']);
    expect(facts!.files.get('app/run.sh')).toMatchObject({ type: 'file', sizeBytes: 18, mode: 0o755, layer: 0 });
    expect(facts!.files.get('etc/app.conf')?.content).toBeUndefined();
    expect(facts!.probes).toEqual({});
    expect(phases).toEqual(['reading-layers']);
    // By the name it was given, then by its id; then the archive, once.
    expect(requests).toEqual([`GET /images/${appRef}/json`, `GET /images/${appInspect.Id}/json`, `GET /images/${appInspect.Id}/get`]);
  });

  it('keeps the bytes of the files a check asked for', async () => {
    const { engine } = await recordedEngine();
    const facts = await gatherImageFacts(engine, appRef, { probes: { fileContents: ['/etc/app.conf', 'app/hello.txt'] } });
    expect(facts!.files.get('etc/app.conf')?.content?.toString()).toBe('name=gather\n');
    expect(facts!.files.get('app/hello.txt')?.content?.toString()).toBe('hello from the app\n');
    expect(facts!.files.get('app/run.sh')?.content).toBeUndefined();
  });

  it('is undefined for an image the engine does not have, and fails on any other answer', async () => {
    const { engine, requests } = await recordedEngine();
    expect(await gatherImageFacts(engine, missingRef)).toBeUndefined();
    expect(requests).toEqual([`GET /images/${missingRef}/json`]);
    await expect(gatherImageFacts(engine, 'Upper:Case')).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('repository name must be lowercase') });
  });

  it('reads the layers from its cache the second time, without docker save', async () => {
    const { engine, requests } = await recordedEngine();
    const layerCache = openLayerFactsCache(cacheFolder);
    const first = await gatherImageFacts(engine, appRef, { layerCache });
    requests.length = 0;
    const second = await gatherImageFacts(engine, appRef, { layerCache });
    expect(requests).toEqual([`GET /images/${appRef}/json`, `GET /images/${appInspect.Id}/json`]);
    expect([...second!.files.keys()]).toEqual([...first!.files.keys()]);
    expect(second!.layers.map((layer) => layer.instruction)).toEqual(first!.layers.map((layer) => layer.instruction));
  });

  it('describes the reference images a check names, once each, present or not', async () => {
    const { engine, requests } = await recordedEngine();
    const facts = await gatherImageFacts(engine, appRef, { probes: { referenceImages: [referenceRef, missingRef, referenceRef] } });
    expect(facts!.probes.referenceImages).toEqual({
      [referenceRef]: { ref: referenceRef, isPresent: true, id: referenceInspect.Id, diffIds: referenceInspect.RootFS.Layers },
      [missingRef]: { ref: missingRef, isPresent: false },
    });
    expect(requests.filter((request) => request === `GET /images/${referenceRef}/json`)).toHaveLength(1);
    await expect(gatherImageFacts(engine, appRef, { probes: { referenceImages: ['Upper:Case'] } })).rejects.toMatchObject({ statusCode: 400 });
  });

  it("looks a path up in other images' layers, reading each image once", async () => {
    const { engine, requests } = await recordedEngine();
    const probes: ProbeNeeds = {
      referenceFiles: [
        { image: referenceRef, path: '/data/notes.txt' },
        { image: referenceRef, path: '/data/absent.txt' },
        { image: missingRef, path: '/data/notes.txt' },
      ],
    };
    const facts = await gatherImageFacts(engine, appRef, { probes });
    expect(facts!.probes.referenceFiles).toEqual([
      {
        image: referenceRef,
        path: '/data/notes.txt',
        isImagePresent: true,
        layerCount: 1,
        layerInstructions: [expect.stringMatching(/^COPY dir:[0-9a-f]{12}… in \/data\/$/)],
        versions: [
          {
            layer: 0,
            instruction: expect.stringMatching(/^COPY dir:/),
            type: 'file',
            sizeBytes: 16,
            content: Buffer.from('recovered words\n'),
            diffId: referenceInspect.RootFS.Layers[0],
            layerFiles: [{ path: 'data/notes.txt', type: 'file', sizeBytes: 16 }],
          },
        ],
        isVisible: true,
      },
      { image: referenceRef, path: '/data/absent.txt', isImagePresent: true, layerCount: 1, layerInstructions: [expect.any(String)], versions: [], isVisible: false },
      { image: missingRef, path: '/data/notes.txt', isImagePresent: false },
    ]);
    expect(requests.filter((request) => request === `GET /images/${referenceInspect.Id}/get`)).toHaveLength(1);
    // The image being checked keeps no bytes for the other image's paths.
    expect(facts!.files.get('data/notes.txt')).toBeUndefined();
    await expect(gatherImageFacts(engine, appRef, { probes: { referenceFiles: [{ image: 'Upper:Case', path: '/x' }] } })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('says a rebuild or a changed-context build was not given a folder, and runs nothing', async () => {
    const { engine, requests } = await recordedEngine();
    const phases: string[] = [];
    const options: GatherOptions = {
      probes: { rebuild: { sourceFile: 'main.go', withinMs: 60_000 }, contextChange: { value: 'sk-live-1234', pieceCharacters: 8, path: '/app/config.json', withinMs: 60_000 } },
      onPhase: (phase) => phases.push(phase),
    };
    const facts = await gatherImageFacts(engine, appRef, options);
    expect(facts!.probes.rebuild).toEqual({ sourceFile: 'main.go', withinMs: 60_000, folder: '', outcome: 'not-given' });
    expect(facts!.probes.contextChange).toEqual({ value: 'sk-live-1234', pieceCharacters: 8, path: '/app/config.json', withinMs: 60_000, outcome: 'not-given' });
    expect(phases).toEqual(['reading-layers']);
    expect(requests.every((request) => request.startsWith('GET /images/'))).toBe(true);
  });

  it('needs to know where published ports are before it runs an HTTP probe', async () => {
    const { engine, requests } = await recordedEngine();
    await expect(gatherImageFacts(engine, appRef, { probes: { http: { port: 8080, paths: ['/healthz'], withinMs: 5000 } } })).rejects.toThrow('gatherImageFacts: an HTTP probe needs publishedPortHost');
    // Nothing was started: only images were asked about.
    expect(requests.every((request) => request.startsWith('GET /images/'))).toBe(true);
  });

  it('stops before reading the archive when the check is stopped', async () => {
    const { engine, requests } = await recordedEngine();
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(gatherImageFacts(engine, appRef, { signal: controller.signal })).rejects.toThrow('stopped');
    expect(requests).toEqual([`GET /images/${appRef}/json`]);
  });
});

describe('a command run through gatherImageFacts on a recorded engine', () => {
  const runs = (withinMs = 10_000) => [{ args: ['--version'], withinMs: 4000 }, { args: ['--version'], withinMs }];

  it("is the exit code and each stream's words, from one container per distinct command, removed afterwards", async () => {
    const { engine, requests, created } = await recordedEngine();
    const phases: string[] = [];
    const facts = await gatherImageFacts(engine, appRef, { probes: { runs: runs() }, labels: { 'layerlab.test': 'run-1' }, onPhase: (phase) => phases.push(phase) });
    expect(facts!.probes.runs).toEqual([{ args: ['--version'], withinMs: 10_000, outcome: 'exited', exitCode: 3, afterMs: expect.any(Number), stdout: 'out-1\nout-2\n', stderr: 'err-1\nerr-2\n' }]);
    expect(phases).toEqual(['reading-layers', 'running-container']);
    expect(created).toEqual([
      {
        name: expect.stringMatching(/^layerlab-probe-[0-9a-f]{8}$/),
        Image: appInspect.Id,
        Cmd: ['--version'],
        Labels: { 'layerlab.role': 'grader-probe', 'layerlab.test': 'run-1' },
        Tty: false,
        OpenStdin: false,
        HostConfig: { NetworkMode: 'none', Memory: 256 * 1024 * 1024, PidsLimit: 128 },
      },
    ]);
    const containerRequests = requests.filter((request) => !request.includes('/images/'));
    // A dead grader's probe (created long ago) goes first; then the run's container, start to removal.
    expect(containerRequests).toEqual([
      'GET /containers/json',
      'DELETE /containers/{stale}',
      'POST /containers/create',
      'POST /containers/{id}/start',
      'GET /containers/{id}/json',
      'GET /containers/{id}/logs',
      'DELETE /containers/{id}',
    ]);
  });

  it("runs the image's own command when the check gives no arguments", async () => {
    const { engine, created } = await recordedEngine();
    const facts = await gatherImageFacts(engine, appRef, { probes: { runs: [{ withinMs: 5000 }] } });
    expect(facts!.probes.runs).toEqual([expect.objectContaining({ withinMs: 5000, outcome: 'exited', exitCode: 3 })]);
    expect(created).toHaveLength(1);
    expect('Cmd' in created[0]!).toBe(false);
    expect(created[0]!.Labels).toEqual({ 'layerlab.role': 'grader-probe' });
  });

  it("is not started, in the engine's words, when the engine cannot start it, and the container is still removed", async () => {
    const { engine, requests } = await recordedEngine({ start: 'no-such-file', remove: 'gone' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { runs: [{ args: ['/nope'], withinMs: 5000 }] } });
    expect(facts!.probes.runs).toEqual([
      { args: ['/nope'], withinMs: 5000, outcome: 'not-started', reason: containerAnswers.startNoSuchFile.json.message },
    ]);
    expect(facts!.probes.runs![0]).toMatchObject({ reason: expect.stringContaining('exec: "/nope": stat /nope: no such file or directory') });
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });

  it('is not started when the engine will not create it, and nothing is removed', async () => {
    const { engine, requests } = await recordedEngine({ create: 'no-such-image' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { runs: [{ withinMs: 5000 }] } });
    expect(facts!.probes.runs).toEqual([{ withinMs: 5000, outcome: 'not-started', reason: containerAnswers.createNoSuchImage.json.message }]);
    expect(requests.filter((request) => request.includes('{id}'))).toEqual([]);
  });

  it('is timed out with what it wrote so far when it still runs at its time, and removed', async () => {
    const { engine, requests } = await recordedEngine({ state: 'running' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { runs: [{ args: ['serve'], withinMs: 250 }] } });
    expect(facts!.probes.runs).toEqual([{ args: ['serve'], withinMs: 250, outcome: 'timed-out', stdout: 'started\n', stderr: '' }]);
    expect(requests.filter((request) => request === 'GET /containers/{id}/json').length).toBeGreaterThan(1);
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });

  it('stops when the check is stopped while the container is being created, and removes it once it is', async () => {
    const controller = new AbortController();
    const { engine, requests } = await recordedEngine({
      onCreate: async () => controller.abort(new Error('the learner stopped the check')),
    });
    await expect(gatherImageFacts(engine, appRef, { probes: { runs: [{ withinMs: 60_000 }] }, signal: controller.signal })).rejects.toThrow('the learner stopped the check');
    expect(requests.filter((line) => line.includes('{id}'))).toEqual(['DELETE /containers/{id}']);
  });

  it('stops when the check is stopped while it runs, and removes the container', async () => {
    const { engine, requests } = await recordedEngine({ state: 'running' });
    const controller = new AbortController();
    const gathering = gatherImageFacts(engine, appRef, { probes: { runs: [{ withinMs: 60_000 }] }, signal: controller.signal });
    while (!requests.includes('GET /containers/{id}/json')) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('the learner stopped the check'));
    await expect(gathering).rejects.toThrow('the learner stopped the check');
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });
});

describe('an HTTP probe through gatherImageFacts on a recorded engine', () => {
  it('asks the published port until the service answers, then each other path once', async () => {
    const asked: string[] = [];
    const service = http.createServer((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(request.url === '/healthz' ? 200 : 404);
      response.end(request.url === '/healthz' ? 'ok' : 'no such page');
    });
    const servicePort = await servers.listening(service);
    const { engine, requests, created } = await recordedEngine({ state: 'published', servicePort });
    const phases: string[] = [];
    const request = { port: 8080, paths: ['/healthz', '/missing'], withinMs: 5000 };
    const facts = await gatherImageFacts(engine, appRef, { probes: { http: request }, publishedPortHost: '127.0.0.1', labels: { 'layerlab.test': 'http-1' }, onPhase: (phase) => phases.push(phase) });
    expect(facts!.probes.http).toEqual({
      ...request,
      outcome: 'answered',
      answers: [
        { path: '/healthz', statusCode: 200, bodyStart: 'ok' },
        { path: '/missing', statusCode: 404, bodyStart: 'no such page' },
      ],
      afterMs: expect.any(Number),
    });
    expect(asked).toEqual(['/healthz', '/missing']);
    expect(phases).toEqual(['reading-layers', 'running-container']);
    expect(created).toEqual([
      {
        name: expect.stringMatching(/^layerlab-probe-[0-9a-f]{8}$/),
        Image: appInspect.Id,
        Labels: { 'layerlab.role': 'grader-probe', 'layerlab.test': 'http-1' },
        ExposedPorts: { '8080/tcp': {} },
        Tty: false,
        OpenStdin: false,
        HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '' }] }, Memory: 512 * 1024 * 1024, PidsLimit: 256 },
      },
    ]);
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });

  it('is timed out with the last error and the last words when nothing answers on the published port', async () => {
    const closed = http.createServer();
    const closedPort = await servers.listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { engine, requests } = await recordedEngine({ state: 'published', servicePort: closedPort });
    const request = { port: 8080, paths: ['/'], withinMs: 300 };
    const facts = await gatherImageFacts(engine, appRef, { probes: { http: request }, publishedPortHost: '127.0.0.1' });
    expect(facts!.probes.http).toEqual({ ...request, outcome: 'timed-out', logTail: 'out-1\nerr-1\nout-2\nerr-2', lastError: 'connection refused' });
    expect(requests.filter((line) => line === 'GET /containers/{id}/json').length).toBeGreaterThan(1);
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });

  it('is the exit code and the last words of a service that exited, when the engine published no port', async () => {
    const { engine, requests } = await recordedEngine({ state: 'exited' });
    const request = { port: 8080, paths: ['/'], withinMs: 5000 };
    const facts = await gatherImageFacts(engine, appRef, { probes: { http: request }, publishedPortHost: '127.0.0.1' });
    expect(facts!.probes.http).toEqual({ ...request, outcome: 'exited', exitCode: 3, logTail: 'out-1\nerr-1\nout-2\nerr-2', afterMs: expect.any(Number) });
    expect(requests.at(-1)).toBe('DELETE /containers/{id}');
  });

  it('is not started, in the engine\'s words, and the run probe still gets a container of its own', async () => {
    const { engine, created } = await recordedEngine({ start: 'no-such-file' });
    const request = { port: 8080, paths: ['/'], withinMs: 5000 };
    const facts = await gatherImageFacts(engine, appRef, { probes: { http: request, runs: [{ withinMs: 1000 }] }, publishedPortHost: '127.0.0.1' });
    expect(facts!.probes.http).toEqual({ ...request, outcome: 'not-started', reason: containerAnswers.startNoSuchFile.json.message });
    // The run probe still runs, in a container of its own.
    expect(facts!.probes.runs).toEqual([{ withinMs: 1000, outcome: 'not-started', reason: containerAnswers.startNoSuchFile.json.message }]);
    expect(created.map((body) => 'ExposedPorts' in body)).toEqual([true, false]);
  });
});

describe('the rebuild probe through gatherImageFacts on a recorded engine', () => {
  /** The recorded builds' project: a Dockerfile and main.sh, in a folder on this machine. */
  async function projectHere(): Promise<string> {
    const folder = path.join(cacheFolder, 'project');
    await mkdir(folder);
    await writeFile(path.join(folder, 'Dockerfile'), 'FROM layerlab/busybox:latest\nLABEL layerlab.test=facts16-record\nCOPY . /app/\nRUN wc -c /app/main.sh\n');
    await writeFile(path.join(folder, 'main.sh'), 'echo hello\n');
    return folder;
  }
  const fromBusybox = expect.stringMatching(/^\[1\/3\] FROM \S*layerlab\/busybox:latest$/);

  it("builds the folder as it is and after a comment is added to the source, keeps BuildKit's steps of each, and removes both tags", async () => {
    const { engine, requests, builds, removedTags } = await recordedEngine({ builds: ['as-is', 'after-change'] });
    const folder = await projectHere();
    const phases: string[] = [];
    const facts = await gatherImageFacts(engine, appRef, {
      probes: { rebuild: { sourceFile: './main.sh', withinMs: 60_000 } },
      exerciseFolder: { where: 'here', path: folder },
      labels: { 'layerlab.test': 'rebuild-1' },
      onPhase: (phase) => phases.push(phase),
    });
    expect(facts!.probes.rebuild).toEqual({
      sourceFile: './main.sh',
      withinMs: 60_000,
      folder,
      outcome: 'rebuilt',
      asIs: [
        { name: '[2/3] COPY . /app/', isCached: false },
        { name: '[3/3] RUN wc -c /app/main.sh', isCached: false },
        { name: fromBusybox, isCached: true },
      ],
      afterChange: [
        { name: fromBusybox, isCached: true },
        { name: '[2/3] COPY . /app/', isCached: false },
        { name: '[3/3] RUN wc -c /app/main.sh', isCached: false },
      ],
    });
    expect(phases).toEqual(['reading-layers', 'rebuilding']);
    // Two builds of the probe's own tags, labelled as probes, with BuildKit.
    expect(builds.map((build) => [build.query.get('version'), JSON.parse(build.query.get('labels') ?? 'null')])).toEqual([
      ['2', { 'layerlab.role': 'grader-probe', 'layerlab.test': 'rebuild-1' }],
      ['2', { 'layerlab.role': 'grader-probe', 'layerlab.test': 'rebuild-1' }],
    ]);
    const [asIsTag, changedTag] = builds.map((build) => build.query.get('t'));
    expect(asIsTag).toMatch(/^layerlab-probe-rebuild:[0-9a-f]{8}-as-is$/);
    expect(changedTag).toBe(asIsTag!.replace(/-as-is$/, '-after-change'));
    expect(removedTags).toEqual([asIsTag, changedTag]);
    // The contexts: the folder as it is, then with one line added to main.sh and nothing else changed.
    const [asIs, changed] = await Promise.all(builds.map((build) => contextFiles(build.context)));
    expect(asIs).toEqual({ './': '', Dockerfile: expect.stringContaining('RUN wc -c /app/main.sh'), 'main.sh': 'echo hello\n' });
    expect(changed).toEqual({ ...asIs, 'main.sh': expect.stringMatching(/^echo hello\n\n# layerlab: a source-only change \([0-9a-f]{12}\)\n$/) });
    expect(requests.filter((request) => request.includes('/containers/'))).toEqual([]);
  });

  it("reads a folder on the engine's host through a never-started helper container, and removes it", async () => {
    const { engine, requests, created, builds } = await recordedEngine({ builds: ['as-is', 'after-change'], removeImage: 'gone' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'src/main.go', withinMs: 60_000 } }, exerciseFolder: { where: 'engine-host', path: '/root/exercises/lesson-5' } });
    expect(facts!.probes.rebuild).toMatchObject({ outcome: 'rebuilt', folder: '/root/exercises/lesson-5' });
    expect(created).toEqual([
      {
        name: expect.stringMatching(/^layerlab-probe-[0-9a-f]{8}$/),
        Image: appInspect.Id,
        Cmd: ['layerlab-never-started'],
        Labels: { 'layerlab.role': 'grader-probe' },
        NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'bind', Source: '/root/exercises/lesson-5', Target: '/layerlab-context', ReadOnly: true }] },
      },
    ]);
    expect(requests.filter((request) => request.includes('/containers/'))).toEqual(['POST /containers/create', 'GET /containers/{id}/archive', 'DELETE /containers/{id}']);
    const sent = await contextFiles(builds[0]!.context);
    expect(sent).toEqual({ './': '', '.hidden': 'x', Dockerfile: 'FROM scratch\nCOPY . /\n', 'link.go': '-> src/main.go', 'src/': '', 'src/main.go': 'package main\n\nfunc main() {}\n' });
    expect((await contextFiles(builds[1]!.context))['src/main.go']).toMatch(/^package main\n\nfunc main\(\) \{\}\n\n\/\/ layerlab: a source-only change \([0-9a-f]{12}\)\n$/);
  });

  it("says the folder is not there in the engine's words, and builds nothing", async () => {
    const { engine, builds } = await recordedEngine({ create: 'missing-folder' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'main.go', withinMs: 60_000 } }, exerciseFolder: { where: 'engine-host', path: '/root/exercises/nope' } });
    expect(facts!.probes.rebuild).toEqual({ sourceFile: 'main.go', withinMs: 60_000, folder: '/root/exercises/nope', outcome: 'no-folder', reason: engineErrors.missingBindSource.json.message });
    expect(builds).toEqual([]);
  });

  it('says the source file is not in the folder, and builds nothing', async () => {
    const { engine, builds } = await recordedEngine();
    const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'main.go', withinMs: 60_000 } }, exerciseFolder: { where: 'engine-host', path: '/root/exercises/lesson-5' } });
    expect(facts!.probes.rebuild).toMatchObject({ outcome: 'no-source-file' });
    expect(builds).toEqual([]);
  });

  it("stops at the first build that fails, with the engine's error, and removes its tag", async () => {
    const { engine, builds, removedTags } = await recordedEngine({ builds: ['run-fails'] });
    const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'main.sh', withinMs: 60_000 } }, exerciseFolder: { where: 'here', path: await projectHere() } });
    expect(facts!.probes.rebuild).toMatchObject({ outcome: 'build-failed', build: 'as-is', error: 'executor failed running [/bin/sh -c echo about to fail && exit 7]: exit code: 7' });
    expect(builds).toHaveLength(1);
    expect(removedTags).toHaveLength(1);
  });

  it('says a build the engine refused in its words, the second build too', async () => {
    const { engine, removedTags } = await recordedEngine({ builds: ['as-is', 'refused'] });
    const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'main.sh', withinMs: 60_000 } }, exerciseFolder: { where: 'here', path: await projectHere() } });
    expect(facts!.probes.rebuild).toMatchObject({ outcome: 'build-failed', build: 'after-change', error: engineErrors.buildBadTag.json.message });
    expect(removedTags).toHaveLength(2);
  });

  it("warns when a probe's tag could not be removed, but not when it was gone already", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      for (const removeImage of ['gone', 'in-use'] as const) {
        const { engine } = await recordedEngine({ builds: ['as-is', 'after-change'], removeImage });
        const facts = await gatherImageFacts(engine, appRef, { probes: { rebuild: { sourceFile: 'main.sh', withinMs: 60_000 } }, exerciseFolder: { where: 'here', path: await projectHere() } });
        expect(facts!.probes.rebuild).toMatchObject({ outcome: 'rebuilt' });
        await new Promise((resolve) => setImmediate(resolve));
        await rm(path.join(cacheFolder, 'project'), { recursive: true });
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([
      expect.stringMatching(/^Could not remove the probe image layerlab-probe-rebuild:[0-9a-f]{8}-as-is: conflict: unable to delete e1b2ff9dfaad \(must be forced\)/),
      expect.stringMatching(/^Could not remove the probe image layerlab-probe-rebuild:[0-9a-f]{8}-after-change: conflict:/),
    ]);
  });
});

/** A build context's entries: a file's text, a folder as '', a link as '-> target'. */
async function contextFiles(context: Buffer): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files[entry.header.name] = entry.header.type === 'symlink' ? `-> ${entry.header.linkname}` : Buffer.concat(chunks).toString();
    }
  })();
  extract.end(context);
  await reading;
  return files;
}

describe('the changed-context probe through gatherImageFacts on a recorded engine', () => {
  const value = 'total: 42';
  async function projectWith(files: Record<string, string>): Promise<string> {
    const folder = path.join(cacheFolder, 'context');
    await mkdir(folder);
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(folder, name), text);
    return folder;
  }
  const request = (filePath: string) => ({ value, pieceCharacters: 6, path: filePath, withinMs: 60_000 });

  it('builds the folder with the value overwritten in the files that hold it, and reads the file from the image made', async () => {
    const { engine, builds, created, removedTags, requests } = await recordedEngine();
    const folder = await projectWith({ Dockerfile: 'FROM layerlab/busybox:latest\n', 'notes.txt': `the sum is ${value} today\n`, 'other.txt': 'nothing here\n' });
    const phases: string[] = [];
    const facts = await gatherImageFacts(engine, appRef, {
      probes: { contextChange: request('/app/summary.txt') },
      exerciseFolder: { where: 'here', path: folder },
      labels: { 'layerlab.test': 'context-1' },
      onPhase: (phase) => phases.push(phase),
    });
    // The image still holds it: the build computed it.
    expect(facts!.probes.contextChange).toEqual({ ...request('/app/summary.txt'), outcome: 'rebuilt', holders: [{ path: 'notes.txt', holds: 'text' }], file: { state: 'read', holdsValue: true } });
    expect(phases).toEqual(['reading-layers', 'rebuilding-changed-context']);
    expect(builds).toHaveLength(1);
    const tag = builds[0]!.query.get('t')!;
    expect(tag).toMatch(/^layerlab-probe-rebuild:[0-9a-f]{12}-context$/);
    expect(JSON.parse(builds[0]!.query.get('labels')!)).toEqual({ 'layerlab.role': 'grader-probe', 'layerlab.test': 'context-1' });
    const sent = await contextFiles(builds[0]!.context);
    expect(sent['notes.txt']).toBe('the sum is xxxxxxxxx today\n');
    expect(sent['other.txt']).toBe('nothing here\n');
    expect(created).toEqual([
      { name: expect.stringMatching(/^layerlab-probe-[0-9a-f]{8}$/), Image: tag, Cmd: ['layerlab-never-started'], Labels: { 'layerlab.role': 'grader-probe', 'layerlab.test': 'context-1' }, NetworkDisabled: true, HostConfig: { NetworkMode: 'none' } },
    ]);
    expect(requests.filter((line) => line.includes('/containers/'))).toEqual(['POST /containers/create', 'GET /containers/{id}/archive', 'DELETE /containers/{id}']);
    expect(removedTags).toEqual([tag]);
  });

  it('follows links in the image as a container would, and tells a folder or a missing path apart', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const filePath of ['/app/link2', '/app/./dir', '/app/absent']) {
      const { engine } = await recordedEngine();
      const folder = await projectWith({ 'notes.txt': value });
      const facts = await gatherImageFacts(engine, appRef, { probes: { contextChange: request(filePath) }, exerciseFolder: { where: 'here', path: folder } });
      outcomes[filePath] = (facts!.probes.contextChange as { file?: unknown }).file;
      await rm(folder, { recursive: true });
    }
    expect(outcomes).toEqual({ '/app/link2': { state: 'read', holdsValue: true }, '/app/./dir': { state: 'not-a-file', type: 'directory' }, '/app/absent': { state: 'absent' } });
  });

  it('says the image no longer holds a value that came from the folder', async () => {
    const { engine } = await recordedEngine();
    const other = { value: 'words: 1234', pieceCharacters: 6, path: '/app/summary.txt', withinMs: 60_000 };
    const folder = await projectWith({ 'count.txt': 'words: 1234\n' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { contextChange: other }, exerciseFolder: { where: 'here', path: folder } });
    expect(facts!.probes.contextChange).toEqual({ ...other, outcome: 'rebuilt', holders: [{ path: 'count.txt', holds: 'text' }], file: { state: 'read', holdsValue: false } });
  });

  it('says which files hold the value when the build fails, and builds nothing when none does', async () => {
    const failing = await recordedEngine({ builds: ['run-fails'] });
    const folder = await projectWith({ 'a.txt': value, 'b.txt': 'nothing' });
    const failed = await gatherImageFacts(failing.engine, appRef, { probes: { contextChange: request('/app/summary.txt') }, exerciseFolder: { where: 'here', path: folder } });
    expect(failed!.probes.contextChange).toEqual({ ...request('/app/summary.txt'), outcome: 'build-failed', holders: [{ path: 'a.txt', holds: 'text' }], error: 'executor failed running [/bin/sh -c echo about to fail && exit 7]: exit code: 7' });
    expect(failing.created).toEqual([]);
    expect(failing.removedTags).toHaveLength(1);

    const idle = await recordedEngine();
    await writeFile(path.join(folder, 'a.txt'), 'tot al 42');
    const none = await gatherImageFacts(idle.engine, appRef, { probes: { contextChange: request('/app/summary.txt') }, exerciseFolder: { where: 'here', path: folder } });
    expect(none!.probes.contextChange).toEqual({ ...request('/app/summary.txt'), outcome: 'no-holder' });
    expect(idle.builds).toEqual([]);
  });

  it("says the folder cannot be read in the engine's words", async () => {
    const { engine, builds } = await recordedEngine({ create: 'missing-folder' });
    const facts = await gatherImageFacts(engine, appRef, { probes: { contextChange: request('/app/summary.txt') }, exerciseFolder: { where: 'engine-host', path: '/root/exercises/nope' } });
    expect(facts!.probes.contextChange).toEqual({ ...request('/app/summary.txt'), outcome: 'unreadable', reason: engineErrors.missingBindSource.json.message });
    expect(builds).toEqual([]);
  });
});
