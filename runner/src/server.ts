import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { Engine } from './engine.js';
import { environmentError, messageOf, UserError } from './errors.js';
import { readCourseCatalog } from './course-catalog.js';
import { lessonStatus, lessonStatusLabels, readProgress } from './progress-store.js';
import { inspectContainer } from './sandbox/sandbox.js';
import type { Instance } from './settings.js';
import { TerminalBridge } from './terminal/bridge.js';
import { terminalSocketPath } from './terminal/protocol.js';

/** What the Check button's request streams back, one JSON object per line. */
export type CheckStreamEvent =
  | { type: 'progress'; text: string }
  | { type: 'result'; run: unknown; lessonComplete: boolean; isNewlyComplete: boolean }
  | { type: 'error'; message: string; nextStep: string };

/** Grades one exercise and records the result; the server streams what it reports. */
export type CheckRunner = (
  exercise: string,
  report: (text: string) => void,
  signal: AbortSignal,
) => Promise<{ run: unknown; passed: boolean; lessonComplete: boolean; isNewlyComplete: boolean }>;

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

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The local web server of `course start`: the built site, its small API and the terminal
 * WebSocket, on 127.0.0.1 only. Every request needs the token (in the URL once, then in a
 * cookie that only this host and port get), and the WebSocket and POSTs must come from
 * this server's own pages (Origin check): another site open in the same browser can
 * neither read the pages nor type into the terminal.
 */
export async function startCourseServer(options: CourseServerOptions): Promise<CourseServer> {
  const log = options.log ?? (() => {});
  const bridge = new TerminalBridge({
    instance: options.instance,
    engine: options.engine,
    logProblem: log,
    ...(options.detachedShellLifetimeMs !== undefined ? { detachedLifetimeMs: options.detachedShellLifetimeMs } : {}),
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 2 * 1024 * 1024 });
  let port = options.port;
  const cookieName = () => `layerlab_token_${port}`;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  let checkQueue: Promise<unknown> = Promise.resolve();

  const isAuthorized = (request: http.IncomingMessage, url: URL): boolean => {
    const offered = [
      url.searchParams.get('token'),
      readCookie(request.headers.cookie, cookieName()),
      request.headers.authorization?.replace(/^Bearer\s+/i, ''),
    ];
    return offered.some((candidate) => candidate !== null && candidate !== undefined && sameSecret(candidate, options.token));
  };
  const isOwnOrigin = (request: http.IncomingMessage): boolean =>
    request.headers.origin !== undefined && allowedHosts().some((host) => request.headers.origin === `http://${host}`);

  const server = http.createServer((request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      log(`request ${request.method} ${request.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { error: { message: 'The runner hit an internal error.', nextStep: 'Look at the window running `course start` for details.' } });
      else response.destroy();
    });
  });

  async function handleRequest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    setCommonHeaders(response);
    if (!allowedHosts().includes(request.headers.host ?? '')) {
      // A page on another name that resolves to 127.0.0.1 (DNS rebinding) lands here.
      return sendText(response, 403, 'This server answers only as 127.0.0.1 or localhost.');
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    if (!isAuthorized(request, url)) return refuse(response, url);

    if (url.searchParams.has('token') && request.method === 'GET' && !url.pathname.startsWith('/api/')) {
      // Trade the token in the address bar for a cookie, then show the address without it.
      url.searchParams.delete('token');
      response.setHeader('Set-Cookie', `${cookieName()}=${options.token}; Path=/; HttpOnly; SameSite=Strict`);
      response.writeHead(303, { Location: `${url.pathname}${url.search}` });
      return void response.end();
    }

    if (url.pathname.startsWith('/api/')) return await handleApi(request, response, url);
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed.');
    return await serveStatic(request, response, url.pathname);
  }

  async function handleApi(request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<void> {
    response.setHeader('Cache-Control', 'no-store');
    if (request.method === 'GET' && url.pathname === '/api/status') {
      const container = await inspectContainer(options.engine, options.instance).catch(() => undefined);
      return sendJson(response, 200, { runner: 'layerlab', sandboxRunning: Boolean(container?.State.Running) });
    }
    if (request.method === 'GET' && url.pathname === '/api/progress') {
      const { progress, warning } = await readProgress(options.instance.dataDir);
      // Every lesson of the course, also those never checked, so the map shows the words `course list` prints.
      // Without course.json (a stub site in tests) the lessons with progress are still reported.
      const catalog = await readCourseCatalog(options.siteDir).catch(() => undefined);
      const ids = new Set([...(catalog?.lessons.map((lesson) => lesson.id) ?? []), ...Object.keys(progress.lessons)]);
      const lessons = Object.fromEntries(
        [...ids].map((id) => {
          const status = lessonStatus(progress, id);
          return [id, { isComplete: status === 'complete', status, statusLabel: lessonStatusLabels[status], ...progress.lessons[id] }];
        }),
      );
      return sendJson(response, 200, { lessons, ...(warning ? { warning } : {}) });
    }
    const checkMatch = /^\/api\/check\/([a-z0-9-]+)$/.exec(url.pathname);
    if (checkMatch) {
      if (request.method !== 'POST') return sendJson(response, 405, { error: { message: 'Use POST to run a check.', nextStep: '' } });
      if (!isOwnOrigin(request)) return sendJson(response, 403, { error: { message: 'Checks run only from the course pages.', nextStep: 'Use the Check button on the lesson page.' } });
      return await streamCheck(request, response, checkMatch[1]!);
    }
    return sendJson(response, 404, { error: { message: `There is no API at ${url.pathname}.`, nextStep: 'Reload the page; if it persists, rebuild with `npm run build`.' } });
  }

  async function streamCheck(request: http.IncomingMessage, response: http.ServerResponse, exercise: string): Promise<void> {
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort();
    });
    response.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const emit = (event: CheckStreamEvent) => {
      if (!response.writableEnded) response.write(`${JSON.stringify(event)}\n`);
    };
    // One check at a time: two at once would fight over the sandbox's two cores.
    const previous = checkQueue;
    const mine = previous.catch(() => {}).then(async () => {
      if (abort.signal.aborted) return;
      emit({ type: 'progress', text: 'Starting the check' });
      try {
        const result = await options.runCheck(exercise, (text) => emit({ type: 'progress', text }), abort.signal);
        emit({ type: 'result', run: result.run, lessonComplete: result.lessonComplete, isNewlyComplete: result.isNewlyComplete });
      } catch (error) {
        if (error instanceof UserError) {
          emit({ type: 'error', message: error.message, nextStep: error.nextStep });
        } else if (!abort.signal.aborted) {
          log(`check of ${exercise} failed: ${error instanceof Error ? error.stack : String(error)}`);
          emit({ type: 'error', message: `The check could not run: ${messageOf(error).split('\n')[0]}`, nextStep: 'This is a bug in Layerlab; the window running `course start` shows the details.' });
        }
      }
    });
    checkQueue = mine;
    await mine;
    response.end();
  }

  async function serveStatic(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return sendText(response, 400, 'Bad address.');
    }
    const root = path.resolve(options.siteDir);
    let file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) return sendText(response, 404, 'Not found.');
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      if (!pathname.endsWith('/')) {
        response.writeHead(301, { Location: `${pathname}/` });
        return void response.end();
      }
      file = path.join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    let status = 200;
    if (!info?.isFile()) {
      status = 404;
      file = path.join(root, '404.html');
      info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) return sendText(response, 404, 'Not found.');
    }
    const type = contentTypes[path.extname(file)] ?? 'application/octet-stream';
    // Astro puts a content hash in every file name under _astro/, so those never change.
    const isHashed = pathname.startsWith('/_astro/');
    response.writeHead(status, {
      'Content-Type': type,
      'Content-Length': info.size,
      'Cache-Control': isHashed ? 'private, max-age=31536000, immutable' : 'no-cache',
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file).pipe(response);
  }

  server.on('upgrade', (request, socket: Duplex, head) => {
    const refuseUpgrade = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!allowedHosts().includes(request.headers.host ?? '')) return refuseUpgrade(403, 'Forbidden');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    if (url.pathname !== terminalSocketPath) return refuseUpgrade(404, 'Not Found');
    if (!isAuthorized(request, url)) return refuseUpgrade(401, 'Unauthorized');
    // Browsers always send Origin on a WebSocket; a page of any other site is refused here.
    if (!isOwnOrigin(request)) return refuseUpgrade(403, 'Forbidden');
    sockets.handleUpgrade(request, socket, head, (webSocket) => bridge.accept(webSocket));
  });

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
  port = (server.address() as AddressInfo).port;
  server.on('error', (error) => log(`server error: ${error.stack}`));

  return {
    port,
    url: `http://${listenHost}:${port}/?token=${options.token}`,
    bridge,
    async close() {
      for (const client of sockets.clients) client.terminate();
      await bridge.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function setCommonHeaders(response: http.ServerResponse): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  // The token may be in the address; never hand it to another site.
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Frame-Options', 'DENY');
}

function refuse(response: http.ServerResponse, url: URL): void {
  if (url.pathname.startsWith('/api/')) {
    return sendJson(response, 401, {
      error: { message: 'This request has no valid token.', nextStep: 'Open the address that `course start` printed (it ends in ?token=…).' },
    });
  }
  response.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Layerlab: open the link with its token</title>
<style>body{font:17px/1.6 system-ui,sans-serif;max-width:34rem;margin:18vh auto;padding:0 1.5rem;color:#1f2430}code{background:#eef0f5;padding:.1em .35em;border-radius:4px}</style>
<h1>Open the link with its token</h1>
<p>This page belongs to your Layerlab runner, which only answers the address it printed. In the terminal where you ran <code>course start</code>, open the address that ends in <code>?token=…</code>.</p>
<p>No runner? Start one with <code>course start</code>.</p></html>`);
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

function sendText(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function sameSecret(offered: string, expected: string): boolean {
  const a = Buffer.from(offered);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
