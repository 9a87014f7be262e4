import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { sendText } from './responses.js';

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
 * Serves a file of the built site (GET or HEAD), never one outside `siteDir`: folders get
 * their index.html, anything missing the site's 404 page.
 */
export async function serveStatic(siteDir: string, request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return sendText(response, 400, 'Bad address.');
  }
  const root = path.resolve(siteDir);
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
  const stream = createReadStream(file);
  // A file removed or unreadable mid-way (a rebuild of the site) ends this answer, not the server.
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
