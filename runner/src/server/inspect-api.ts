import type http from 'node:http';
import type { Engine } from '../engine.js';
import { messageOf, UserError } from '../errors.js';
import { layerFactsFolder } from '../grade-and-record.js';
import { openLayerFactsCache } from '../grader/facts/layer-cache.js';
import { analyseImage } from '../inspect/analyse-image.js';
import type { InspectReport } from '../contract/inspect.js';
import { readImageFromEngine } from '../inspect/image-source.js';
import { exploreContainer } from '../inspect/overlay.js';
import { listSandboxContainers, listSandboxImages } from '../inspect/sandbox-images.js';
import { connectNestedEngine } from '../sandbox/nested-engine.js';
import type { Instance } from '../settings.js';
import { sendJson } from './responses.js';
import { explainSandboxBuild } from '../inspect/cache-explainer.js';
import { execInSandbox } from '../inspect/overlay.js';
import { explainTerminalBuilds, readTerminalBuilds } from '../inspect/build-history.js';
import type { BuildFolderSummary, ExplainBuildRequest } from '../contract/inspect.js';
import path from 'node:path';

export interface InspectApiOptions {
  instance: Instance;
  /** The learner's engine, where the sandbox container runs. */
  engine: Engine;
  log: (text: string) => void;
  /** Whether a request comes from the course's own pages: only they may start a build. */
  isOwnOrigin: (request: http.IncomingMessage) => boolean;
}

/** A build request is a folder, a tag and a few build arguments: never more than this. */
const maxRequestBytes = 16 * 1024;
const maxFolders = 200;
const maxTerminalBuilds = 8;

/** Reports of the last few images, by image id: an id names content, so they never go stale. */
const keptReports = 6;

/**
 * The image explorer's API: GET /api/inspect/images, /api/inspect/image?ref=, /api/inspect/containers
 * and /api/inspect/container?name=. Answers undefined for other paths, so api.ts goes on.
 */
export function createInspectApi(options: InspectApiOptions): (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => Promise<boolean> {
  const reports = new Map<string, InspectReport>();
  const nested = () => connectNestedEngine(options.instance);
  const layerCache = openLayerFactsCache(layerFactsFolder(options.instance.dataDir));

  const answer = async (response: http.ServerResponse, work: () => Promise<unknown>, usageStatus = 404) => {
    try {
      sendJson(response, 200, await work());
    } catch (error) {
      if (error instanceof UserError) return sendJson(response, error.exitCode === 2 ? usageStatus : 503, { error: { message: error.message, nextStep: error.nextStep } });
      options.log(`inspect API failed: ${error instanceof Error ? error.stack : String(error)}`);
      sendJson(response, 500, { error: { message: `Could not read the sandbox: ${messageOf(error).split('\n')[0]}`, nextStep: 'The window running `course start` shows the details.' } });
    }
  };

  /** Folders under /root in the sandbox that hold a Dockerfile (the exercises, and the learner's own). */
  async function listBuildFolders(): Promise<BuildFolderSummary[]> {
    const found = await execInSandbox({ host: options.engine, instance: options.instance, nested: await nested() }, [
      'find', '/root', '-maxdepth', '4', '-path', '*/.*', '-prune', '-o', '-type', 'f', '-name', 'Dockerfile', '-print',
    ]);
    return found
      .split('\n')
      .filter(Boolean)
      .map((file) => path.posix.dirname(file))
      .sort()
      .slice(0, maxFolders)
      .map((folder) => ({ path: folder, suggestedTag: suggestedTag(folder) }));
  }

  // One build at a time: two at once would fight over the sandbox's cores and the same tag.
  let isBuilding = false;

  async function explainBuildRequest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (request.method !== 'POST') return sendJson(response, 405, { error: { message: 'Use POST to build and explain a folder.', nextStep: '' } });
    if (!options.isOwnOrigin(request)) return sendJson(response, 403, { error: { message: 'Builds start only from the course pages.', nextStep: 'Use the page\'s Build and explain button.' } });
    let body: Partial<ExplainBuildRequest>;
    try {
      body = JSON.parse(await readBody(request, maxRequestBytes)) as Partial<ExplainBuildRequest>;
    } catch (error) {
      return sendJson(response, 400, { error: { message: `The request is not a build to explain: ${messageOf(error)}`, nextStep: 'Send {"folder": "...", "tag": "...", "buildArgs": {}} as JSON.' } });
    }
    const buildArgs = body.buildArgs ?? {};
    if (typeof body.folder !== 'string' || !body.folder || typeof body.tag !== 'string' || typeof buildArgs !== 'object' || Array.isArray(buildArgs) || Object.values(buildArgs).some((value) => typeof value !== 'string')) {
      return sendJson(response, 400, { error: { message: 'Name a folder and a tag (and build arguments as NAME: value).', nextStep: '' } });
    }
    if (isBuilding) return sendJson(response, 409, { error: { message: 'Another build is being explained.', nextStep: 'Wait for it to finish, then try again.' } });
    isBuilding = true;
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort();
    });
    try {
      await answer(response, async () => explainSandboxBuild(await nested(), options.instance, { folder: body.folder!, tag: body.tag!, buildArgs, signal: abort.signal }), 422);
    } finally {
      isBuilding = false;
    }
  }

  return async function handleInspect(request, response, url) {
    if (!url.pathname.startsWith('/api/inspect/')) return false;
    if (url.pathname === '/api/inspect/explain-build') {
      await explainBuildRequest(request, response);
      return true;
    }
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: { message: 'The inspect API only reads: use GET.', nextStep: '' } });
      return true;
    }
    switch (url.pathname) {
      case '/api/inspect/images':
        await answer(response, async () => ({ images: await listSandboxImages(await nested()) }));
        return true;
      case '/api/inspect/builds':
        await answer(response, async () => {
          await nested(); // checks the socket is the sandbox engine's own before speaking gRPC on it
          return { builds: explainTerminalBuilds(await readTerminalBuilds(options.instance.socketPath, maxTerminalBuilds * 3)).slice(0, maxTerminalBuilds) };
        });
        return true;
      case '/api/inspect/build-folders':
        await answer(response, async () => ({ folders: await listBuildFolders() }));
        return true;
      case '/api/inspect/containers':
        await answer(response, async () => ({ containers: await listSandboxContainers(await nested()) }));
        return true;
      case '/api/inspect/image': {
        const ref = url.searchParams.get('ref') ?? '';
        if (!/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]{0,255}$/.test(ref)) {
          sendJson(response, 400, { error: { message: 'Name an image: ?ref=NAME or an id.', nextStep: '' } });
          return true;
        }
        await answer(response, async () => {
          const engine = await nested();
          const id = (await engine.docker.getImage(ref).inspect().catch(() => undefined))?.Id;
          const kept = id ? reports.get(id) : undefined;
          if (kept) return { ...kept, ref };
          const report = analyseImage(await readImageFromEngine(engine, ref, { layerCache }));
          if (report.id) {
            reports.set(report.id, report);
            for (const oldest of reports.keys()) if (reports.size > keptReports) reports.delete(oldest);
          }
          return report;
        });
        return true;
      }
      case '/api/inspect/container': {
        const name = url.searchParams.get('name') ?? '';
        if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(name)) {
          sendJson(response, 400, { error: { message: 'Name a container: ?name=NAME.', nextStep: '' } });
          return true;
        }
        await answer(response, async () => exploreContainer({ host: options.engine, instance: options.instance, nested: await nested() }, name));
        return true;
      }
      default:
        sendJson(response, 404, { error: { message: `There is no API at ${url.pathname}.`, nextStep: '' } });
        return true;
    }
  };
}

/** A tag from a folder's name: /root/exercises/lesson-5 builds as lesson-5. */
export function suggestedTag(folder: string): string {
  const name = path.posix.basename(folder).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return name || 'my-image';
}

/** The body, or an error when it is bigger than `limit` (the rest is read and dropped, so the answer still arrives). */
async function readBody(request: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw new Error(`it is larger than ${limit / 1024} KiB`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
