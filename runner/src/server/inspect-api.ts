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

export interface InspectApiOptions {
  instance: Instance;
  /** The learner's engine, where the sandbox container runs. */
  engine: Engine;
  log: (text: string) => void;
}

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

  const answer = async (response: http.ServerResponse, work: () => Promise<unknown>) => {
    try {
      sendJson(response, 200, await work());
    } catch (error) {
      if (error instanceof UserError) return sendJson(response, error.exitCode === 2 ? 404 : 503, { error: { message: error.message, nextStep: error.nextStep } });
      options.log(`inspect API failed: ${error instanceof Error ? error.stack : String(error)}`);
      sendJson(response, 500, { error: { message: `Could not read the sandbox: ${messageOf(error).split('\n')[0]}`, nextStep: 'The window running `course start` shows the details.' } });
    }
  };

  return async function handleInspect(request, response, url) {
    if (!url.pathname.startsWith('/api/inspect/')) return false;
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: { message: 'The inspect API only reads: use GET.', nextStep: '' } });
      return true;
    }
    switch (url.pathname) {
      case '/api/inspect/images':
        await answer(response, async () => ({ images: await listSandboxImages(await nested()) }));
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
