import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine } from '../engine.js';
import { environmentError } from '../errors.js';
import type { Instance } from '../settings.js';
import { TerminalBridge } from '../terminal/bridge.js';
import { createApiHandler, type CheckRunner } from './api.js';
import { Gatekeeper, refuseUnauthorized } from './auth.js';
import { sendJson, sendText, setCommonHeaders } from './responses.js';
import { serveStatic } from './static-files.js';
import { TerminalUpgrade } from './terminal-upgrade.js';

export type { CheckRunner, CheckStreamEvent } from './api.js';

export interface CourseServerOptions {
  instance: Instance;
  /** The learner's engine, where the sandbox container runs. */
  engine: Engine;
  /** The built site (site/dist). */
  siteDir: string;
  /** The secret every request must carry; printed in the URL once. */
  token: string;
  /** 0 picks a free port. */
  port: number;
  runCheck: CheckRunner;
  /** Problems that are Layerlab's, not the learner's, with their details. */
  log?: (text: string) => void;
  detachedShellLifetimeMs?: number;
  /** The most terminals held at once (terminal/bridge.ts has the default). */
  maxTerminals?: number;
}

export interface CourseServer {
  port: number;
  /** The address to open, token included. */
  url: string;
  bridge: TerminalBridge;
  /** Closes every socket, ends every shell and stops listening. */
  close(): Promise<void>;
}

/** Loopback only: the terminal is a root shell in the sandbox. */
const listenHost = '127.0.0.1';

/**
 * The local web server of `course start`: the built site (static-files.ts), its small API
 * (api.ts) and the terminal WebSocket (terminal-upgrade.ts), on 127.0.0.1 only. Every
 * request needs the token and the right Host, and what acts must come from this server's
 * own pages (auth.ts): another site open in the same browser can neither read the pages
 * nor type into the terminal.
 */
export async function startCourseServer(options: CourseServerOptions): Promise<CourseServer> {
  const log = options.log ?? (() => {});
  const gatekeeper = new Gatekeeper(options.token);
  const bridge = new TerminalBridge({
    instance: options.instance,
    engine: options.engine,
    logProblem: log,
    ...(options.detachedShellLifetimeMs !== undefined ? { detachedLifetimeMs: options.detachedShellLifetimeMs } : {}),
    ...(options.maxTerminals !== undefined ? { maxTerminals: options.maxTerminals } : {}),
  });
  const terminal = new TerminalUpgrade(gatekeeper, bridge, log);
  const handleApi = createApiHandler({
    instance: options.instance,
    engine: options.engine,
    siteDir: options.siteDir,
    runCheck: options.runCheck,
    isOwnOrigin: (request) => gatekeeper.isOwnOrigin(request),
    log,
  });

  async function handleRequest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    setCommonHeaders(response);
    if (!gatekeeper.isAllowedHost(request)) {
      // A page on another name that resolves to 127.0.0.1 (DNS rebinding) lands here.
      return sendText(response, 403, 'This server answers only as 127.0.0.1 or localhost.');
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const isApi = url.pathname.startsWith('/api/');
    if (!(isApi ? gatekeeper.isAuthorized(request, url) : gatekeeper.mayReadPages(request, url))) return refuseUnauthorized(response, url);

    if (url.searchParams.has('token') && request.method === 'GET' && !isApi) {
      // Trade the token in the address bar for a page cookie; the page's script takes the
      // token from the fragment into storage that only this origin can read.
      response.setHeader('Set-Cookie', gatekeeper.sessionCookie());
      response.writeHead(303, { Location: gatekeeper.addressAfterTrade(url) });
      return void response.end();
    }

    if (url.pathname.startsWith('/api/')) return await handleApi(request, response, url);
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed.');
    return await serveStatic(options.siteDir, request, response, url.pathname);
  }

  const server = http.createServer((request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      log(`request ${request.method} ${request.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { error: { message: 'The runner hit an internal error.', nextStep: 'Look at the window running `course start` for details.' } });
      else response.destroy();
    });
  });
  server.on('upgrade', (request, socket, head) => terminal.handle(request, socket, head));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(environmentError(`Port ${options.port} on 127.0.0.1 is already in use (another \`course start\`, or another program).`, `Stop that program, or choose another port: \`course start --port ${options.port + 1}\`.`));
      } else if (error.code === 'EACCES') {
        reject(environmentError(`This user may not listen on port ${options.port}.`, 'Choose a port above 1024, e.g. `course start --port 4747`.'));
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen(options.port, listenHost, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  gatekeeper.port = port;
  server.on('error', (error) => log(`server error: ${error.stack}`));

  return {
    port,
    url: `http://${listenHost}:${port}/?token=${options.token}`,
    bridge,
    async close() {
      // Stop listening first, so no page reconnects while the shells are being ended.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      terminal.terminateAll();
      await bridge.close();
      terminal.terminateAll();
      server.closeAllConnections();
      await closed;
    },
  };
}
