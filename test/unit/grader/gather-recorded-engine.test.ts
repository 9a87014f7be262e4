import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
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

/** The recorded engine; `requests` lists what was asked of it, as "GET /images/<name>/<what>". */
async function recordedEngine(): Promise<{ engine: Engine; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://engine');
    const match = /^(?:\/v[\d.]+)?\/images\/(.+)\/(json|get)$/.exec(url.pathname);
    const name = match ? decodeURIComponent(match[1]!) : '';
    requests.push(`${request.method} /images/${name}/${match?.[2] ?? '?'}`);
    const image = images.get(name);
    const error = errors[name];
    if (match && image) {
      response.writeHead(200, { 'Content-Type': match[2] === 'json' ? 'application/json' : 'application/x-tar' });
      response.end(match[2] === 'json' ? image.inspect : image.save);
    } else {
      response.writeHead(error?.statusCode ?? 404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(error?.json ?? { message: `No such image: ${name}` }));
    }
  });
  const port = await servers.listening(server);
  const docker = new Docker({ protocol: 'http', host: '127.0.0.1', port });
  return { engine: { docker, address: `tcp://127.0.0.1:${port}`, version: '20.10.24+dfsg1', apiVersion: '1.41' }, requests };
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
        versions: [{ layer: 0, instruction: expect.stringMatching(/^COPY dir:/), type: 'file', sizeBytes: 16, content: Buffer.from('recovered words\n') }],
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
