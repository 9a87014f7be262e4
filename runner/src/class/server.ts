import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { environmentError } from '../errors.js';
import { readCookie, sameSecret } from '../server/auth.js';
import { sendJson, setCommonHeaders } from '../server/responses.js';
import type { ServerCertificate } from './certificate.js';
import { classEventTypes, classPaths, maxSubmissionBytes, type ClassChangedEvent, type ClassErrorBody } from './contract.js';
import { renderCsv, renderExportJson } from './export.js';
import { formatJoinLink } from './join-link.js';
import { maxResultsPerLearner, type ClassStore, type ExerciseDescription, type StoredLearner, type SubmissionOutcome } from './store.js';
import { describeZodError, joinRequestSchema, reportRequestSchema, submissionSchema, type Submission } from './submission.js';

export interface ClassServerOptions {
  store: ClassStore;
  /** The course's exercises, for the dashboard's columns, titles, hints and reference marks. */
  exercises: readonly ExerciseDescription[];
  /** The built site; the server serves its /class/ page and the page's assets. */
  siteDir: string;
  /** The address to listen on, e.g. 127.0.0.1 or 0.0.0.0. */
  listen: string;
  /** The address learners use in the join link (the listen address, unless that is "any"). */
  advertisedHost: string;
  /** 0 picks a free port. */
  port: number;
  /** Serve HTTPS with this certificate (beyond loopback); plain HTTP without. */
  certificate?: ServerCertificate;
  /** Problems that are Layerlab's, not the caller's. */
  log?: (text: string) => void;
}

export interface ClassServer {
  port: number;
  origin: string;
  /** For the instructor: the dashboard, token included. */
  instructorUrl: string;
  /** For learners: `course join <this> --name NAME`. */
  joinLink: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** How often the dashboard is told of changes at most: a burst of results is one reload. */
const changeNoticeIntervalMs = 250;

type Caller = { role: 'instructor' } | { role: 'learner'; learner: StoredLearner } | { role: 'unknown-key' } | { role: 'anonymous' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly nextStep: string,
  ) {
    super(message);
  }
}

/**
 * The class server: learners register and send results; the instructor reads the dashboard
 * and exports. A thin shell over the ClassStore; every answer is JSON or a file, nothing a
 * learner sent is ever put into HTML here (the dashboard page renders it as text).
 */
export async function startClassServer(options: ClassServerOptions): Promise<ClassServer> {
  const { store } = options;
  const log = options.log ?? (() => {});
  const settings = store.settings();
  const scheme = options.certificate ? 'https' : 'http';
  let port = options.port;
  const cookieName = () => `layerlab_class_${port}`;
  const eventStreams = new Set<http.ServerResponse>();
  let noticeTimer: NodeJS.Timeout | undefined;
  let lastNoticeAt = 0;

  const announceChange = () => {
    if (noticeTimer) return;
    const wait = Math.max(0, lastNoticeAt + changeNoticeIntervalMs - Date.now());
    noticeTimer = setTimeout(() => {
      noticeTimer = undefined;
      lastNoticeAt = Date.now();
      const event: ClassChangedEvent = { revision: store.revision };
      for (const stream of eventStreams) stream.write(`event: ${classEventTypes.changed}\ndata: ${JSON.stringify(event)}\n\n`);
    }, wait);
  };

  const identify = (request: http.IncomingMessage, url: URL): Caller => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const offered = [bearer, readCookie(request.headers.cookie, cookieName()), request.method === 'GET' ? url.searchParams.get('token') ?? undefined : undefined];
    if (offered.some((secret) => secret !== undefined && sameSecret(secret, settings.instructorToken))) return { role: 'instructor' };
    if (bearer) {
      const learner = store.findLearnerByKey(bearer);
      return learner ? { role: 'learner', learner } : { role: 'unknown-key' };
    }
    return { role: 'anonymous' };
  };

  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    route(request, response).catch((error: unknown) => {
      if (error instanceof HttpError) return sendError(response, error.status, error.message, error.nextStep);
      log(`request ${request.method} ${request.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent) sendError(response, 500, 'The class server hit an internal error; nothing was stored.', 'Try again; the window running `course class serve` shows the details.');
      else response.destroy();
    });
  };

  async function route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    setClassHeaders(response);
    const url = new URL(request.url ?? '/', `${scheme}://${request.headers.host ?? 'class'}`);
    const { pathname } = url;
    const method = request.method ?? 'GET';
    const caller = identify(request, url);

    // Learners' side: no instructor rights needed, each call says what it needs.
    if (pathname === classPaths.join && method === 'GET') return sendJoinPage(response);
    if (pathname === classPaths.apiJoin) return await join(request, response);
    if (pathname === classPaths.apiReport) return await report(request, response);
    if (pathname === classPaths.apiSubmissions) return await submit(request, response, caller);
    if (pathname === classPaths.apiWhoami) {
      if (caller.role === 'learner') return sendJson(response, 200, { learnerId: caller.learner.id, name: caller.learner.name });
      throw refusalFor(caller);
    }

    // Everything else is the instructor's.
    if (caller.role !== 'instructor') {
      if (caller.role === 'learner') throw new HttpError(403, 'A learner key can only send its own results; the class is the instructor\'s to read.', 'Use the instructor link that `course class serve` printed.');
      if (pathname.startsWith('/class/api/') || pathname.startsWith('/class/export')) throw refusalFor(caller);
      return sendLoginPage(response);
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed here.`, 'Only GET reads the class.');
    if (url.searchParams.has('token') && !pathname.startsWith('/class/api/') && !pathname.startsWith('/class/export')) {
      // Trade the token in the address bar for a cookie, then show the address without it.
      url.searchParams.delete('token');
      response.setHeader('Set-Cookie', `${cookieName()}=${settings.instructorToken}; Path=/; HttpOnly; SameSite=Strict${scheme === 'https' ? '; Secure' : ''}`);
      response.writeHead(303, { Location: `${pathname}${url.search}` });
      return void response.end();
    }
    if (pathname === '/' || pathname === '/class') {
      response.writeHead(302, { Location: classPaths.dashboardPage });
      return void response.end();
    }
    if (pathname === classPaths.apiDashboard) return sendJson(response, 200, store.dashboard(options.exercises));
    if (pathname === classPaths.apiEvents) return openEventStream(request, response);
    const historyMatch = /^\/class\/api\/learners\/(\d{1,12})\/history$/.exec(pathname);
    if (historyMatch) {
      const history = store.history(Number(historyMatch[1]));
      if (!history) throw new HttpError(404, `There is no learner ${historyMatch[1]} in this class.`, 'Reload the dashboard to see the current learners.');
      return sendJson(response, 200, history);
    }
    if (pathname === classPaths.exportCsv || pathname === classPaths.exportJson) {
      const rows = store.exportRows(options.exercises.map((exercise) => exercise.id));
      const isCsv = pathname === classPaths.exportCsv;
      const day = new Date().toISOString().slice(0, 10);
      response.writeHead(200, {
        'Content-Type': isCsv ? 'text/csv; charset=utf-8; header=present' : 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="layerlab-class-${day}.${isCsv ? 'csv' : 'json'}"`,
        'Cache-Control': 'no-store',
      });
      return void response.end(isCsv ? renderCsv(rows) : renderExportJson(rows));
    }
    if (pathname.startsWith('/class/api/')) throw new HttpError(404, `There is no API at ${pathname}.`, 'Reload the dashboard; if it persists, rebuild with `npm run build`.');
    return await serveStatic(request, response, pathname);
  }

  async function join(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    requirePost(request);
    const body = joinRequestSchema.safeParse(await readJsonBody(request));
    if (!body.success) throw new HttpError(422, `The join request is not valid: ${describeZodError(body.error)}.`, 'Give your name with --name, e.g. --name "Ada Lovelace".');
    checkJoinCode(body.data.code);
    const joined = store.registerLearner(body.data.name, 'join');
    if (joined.outcome === 'name-taken') {
      throw new HttpError(409, `Someone in this class is already called "${joined.takenBy}".`, 'Join with another name (add your surname or an initial), or ask your instructor.');
    }
    announceChange();
    sendJson(response, 201, { learnerId: joined.learner.id, name: joined.learner.name, key: joined.key });
  }

  async function submit(request: http.IncomingMessage, response: http.ServerResponse, caller: Caller): Promise<void> {
    requirePost(request);
    if (caller.role !== 'learner') {
      if (caller.role === 'instructor') throw new HttpError(403, 'The instructor token cannot send results; results come from learners.', 'Send results with a learner key (`course join`).');
      throw refusalFor(caller);
    }
    const body = submissionSchema.safeParse(await readJsonBody(request));
    if (!body.success) throw new HttpError(422, `The result is not valid: ${describeZodError(body.error)}.`, 'Update Layerlab on this machine; a runner of another version may send results this class cannot read.');
    await storeResult(response, caller.learner, body.data);
  }

  async function report(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    requirePost(request);
    const body = reportRequestSchema.safeParse(await readJsonBody(request));
    if (!body.success) throw new HttpError(422, `The report is not valid: ${describeZodError(body.error)}.`, 'Run `course check <exercise> --report-to JOIN_LINK --learner NAME` from the same Layerlab version as the class.');
    checkJoinCode(body.data.code);
    const learner = store.learnerForReport(body.data.name);
    if (learner === 'joined-with-key') {
      throw new HttpError(409, `"${body.data.name}" joined this class with \`course join\`; a CI job cannot report in their name.`, 'Use another --learner name for CI results (for example "Ada Lovelace (CI)").');
    }
    await storeResult(response, learner, body.data.submission);
  }

  /** Results waiting for the next group commit, with who waits for each. */
  let pendingWrites: Array<{ learnerId: number; submission: Submission; settle: (outcome: SubmissionOutcome | Error) => void }> = [];

  const writePending = () => {
    const batch = pendingWrites;
    pendingWrites = [];
    try {
      const outcomes = store.recordSubmissions(batch);
      batch.forEach((item, index) => item.settle(outcomes[index]!));
    } catch (error) {
      for (const item of batch) item.settle(error as Error);
    }
  };

  /** Everything that arrives in one turn of the event loop is written in one transaction. */
  const record = (learnerId: number, submission: Submission) =>
    new Promise<SubmissionOutcome>((resolve, reject) => {
      pendingWrites.push({ learnerId, submission, settle: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)) });
      if (pendingWrites.length === 1) setImmediate(writePending);
    });

  async function storeResult(response: http.ServerResponse, learner: StoredLearner, submission: Submission): Promise<void> {
    if (Date.parse(submission.checkedAt) > Date.now() + 10 * 60_000) {
      throw new HttpError(422, `The result says it was checked at ${submission.checkedAt}, later than now on the class server.`, 'Set this machine\'s clock right, then run the check again.');
    }
    // A clock years behind (or a result from before the class) would make its first attempt and
    // time to pass nonsense; a day's grace covers a wrong time zone.
    if (Date.parse(submission.checkedAt) < Date.parse(settings.createdAt) - 24 * 3600_000) {
      throw new HttpError(422, `The result says it was checked at ${submission.checkedAt}, before this class began (${settings.createdAt}).`, 'Set this machine\'s clock right, then run the check again.');
    }
    if (!options.exercises.some((exercise) => exercise.id === submission.exercise)) {
      throw new HttpError(422, `This class has no exercise ${submission.exercise}.`, 'Check one of the course\'s exercises (`course list` shows them); if it is one, this machine runs another Layerlab version than the class server: update the older one.');
    }
    // Acknowledged only once the transaction holding it is committed.
    const outcome = await record(learner.id, submission);
    if (outcome.outcome === 'id-taken') throw new HttpError(409, `Submission ${submission.submissionId} belongs to another learner.`, 'Nothing was stored; run the check again to send a new result.');
    if (outcome.outcome === 'learner-full') {
      throw new HttpError(422, `The class already holds ${maxResultsPerLearner} results from you, as many as it keeps for one learner; this one was not stored.`, 'Tell your instructor; your progress on this machine is kept all the same.');
    }
    if (outcome.outcome === 'stored') announceChange();
    sendJson(response, outcome.outcome === 'stored' ? 201 : 200, { submissionId: submission.submissionId, stored: outcome.outcome === 'stored' });
  }

  function checkJoinCode(code: string): void {
    if (!sameSecret(code, settings.joinCode)) throw new HttpError(403, 'This join link is not (or no longer) the class\'s.', 'Ask your instructor for the current join link.');
  }

  function openEventStream(request: http.IncomingMessage, response: http.ServerResponse): void {
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const event: ClassChangedEvent = { revision: store.revision };
    response.write(`retry: 2000\nevent: ${classEventTypes.changed}\ndata: ${JSON.stringify(event)}\n\n`);
    eventStreams.add(response);
    const heartbeat = setInterval(() => response.write(': still here\n\n'), 25_000);
    request.on('close', () => {
      clearInterval(heartbeat);
      eventStreams.delete(response);
    });
  }

  async function serveStatic(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
    // Only the class page and the assets it loads; the lessons belong to `course start`.
    if (!pathname.startsWith('/class/') && !pathname.startsWith('/_astro/')) throw new HttpError(404, `There is nothing at ${pathname} on a class server.`, `The dashboard is at ${classPaths.dashboardPage}.`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      throw new HttpError(400, 'Bad address.', `The dashboard is at ${classPaths.dashboardPage}.`);
    }
    const root = path.resolve(options.siteDir);
    let file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
    if (!file.startsWith(`${root}${path.sep}`)) throw new HttpError(404, 'Not found.', `The dashboard is at ${classPaths.dashboardPage}.`);
    if (decoded.endsWith('/')) file = path.join(file, 'index.html');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      if (pathname === classPaths.dashboardPage) throw new HttpError(500, `The dashboard page is missing from ${root}.`, 'Build the site with `npm run build`, then start the class again.');
      throw new HttpError(404, `There is nothing at ${pathname}.`, `The dashboard is at ${classPaths.dashboardPage}.`);
    }
    response.writeHead(200, {
      'Content-Type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cache-Control': pathname.startsWith('/_astro/') ? 'private, max-age=31536000, immutable' : 'no-cache',
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file).pipe(response);
  }

  const server = options.certificate ? https.createServer({ key: options.certificate.key, cert: options.certificate.cert }, handler) : http.createServer(handler);
  // Many learners sending at once keep their connections; a slow client cannot hold one forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(environmentError(`Port ${options.port} on ${options.listen} is already in use.`, `Stop the other program, or choose another port: \`course class serve --port ${options.port + 1}\`.`));
      else if (error.code === 'EADDRNOTAVAIL') reject(environmentError(`${options.listen} is not an address of this machine.`, 'Give one of this machine\'s addresses with --listen (`ip -brief address` lists them), or 0.0.0.0 for all.'));
      else if (error.code === 'EACCES') reject(environmentError(`This user may not listen on port ${options.port}.`, 'Choose a port above 1024, e.g. --port 4848.'));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(options.port, options.listen, () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (error) => log(`server error: ${error.stack}`));
  const host = options.advertisedHost.includes(':') ? `[${options.advertisedHost}]` : options.advertisedHost;
  const origin = `${scheme}://${host}:${port}`;

  return {
    port,
    origin,
    instructorUrl: `${origin}${classPaths.dashboardPage}?token=${settings.instructorToken}`,
    joinLink: formatJoinLink(origin, settings.joinCode, options.certificate?.fingerprint),
    async close() {
      if (noticeTimer) clearTimeout(noticeTimer);
      for (const stream of eventStreams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refusalFor(caller: Caller): HttpError {
  if (caller.role === 'unknown-key') return new HttpError(401, 'This class does not know your learner key.', 'The class may have been started afresh: run `course leave`, then `course join` with the current join link.');
  if (caller.role === 'instructor') return new HttpError(403, 'This is for learners\' keys, not the instructor token.', 'Use a learner key from `course join`.');
  return new HttpError(401, 'This request carries no valid token or key.', 'Instructors: open the link `course class serve` printed. Learners: run `course join JOIN_LINK --name NAME`.');
}

function requirePost(request: http.IncomingMessage): void {
  if (request.method !== 'POST') throw new HttpError(405, `Use POST here, not ${request.method}.`, 'Send results with `course check` after `course join`.');
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, `The body must be JSON (Content-Type: application/json), not "${type.slice(0, 80)}".`, 'Send results with the `course` command.');
}

/** Reads a JSON body of at most maxSubmissionBytes; a bigger one is refused before it is stored anywhere. */
async function readJsonBody(request: http.IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? '0');
  const tooLarge = () => new HttpError(413, `The body is larger than ${maxSubmissionBytes / 1024} KiB.`, 'Send one result per request; results are small.');
  if (declared > maxSubmissionBytes) {
    request.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxSubmissionBytes) {
      request.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'The body is not valid JSON.', 'Send results with the `course` command.');
  }
}

function setClassHeaders(response: http.ServerResponse): void {
  setCommonHeaders(response);
  // The dashboard shows what learners sent; should any of it ever reach markup, it cannot run.
  response.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

function sendError(response: http.ServerResponse, status: number, message: string, nextStep: string): void {
  const body: ClassErrorBody = { error: { message, nextStep } };
  sendJson(response, status, body);
}

const pageStyle = '<style>body{font:17px/1.6 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1.5rem;color:#1f2430}code{background:#eef0f5;padding:.1em .35em;border-radius:4px}</style>';

function sendJoinPage(response: http.ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Join the class · Layerlab</title>${pageStyle}
<h1>Join the class from your terminal</h1>
<p>This is a Layerlab class. Copy this page's full address from the address bar, then run, with your own name:</p>
<p><code>course join 'ADDRESS' --name "Your Name"</code></p>
<p>From then on every <code>course check</code> and every Check button press is also sent to your instructor.</p></html>`);
}

function sendLoginPage(response: http.ServerResponse): void {
  response.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Open the instructor link · Layerlab</title>${pageStyle}
<h1>Open the instructor link</h1>
<p>This class dashboard answers only the instructor link that <code>course class serve</code> printed (it ends in <code>?token=…</code>).</p>
<p>Learners: you do not need this page. Run <code>course join JOIN_LINK --name "Your Name"</code>.</p></html>`);
}
