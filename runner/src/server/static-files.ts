import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { sendText } from './responses.js';

/** Encodings made at build time (site/integrations/precompress.mjs), best first, with their file suffix. */
const encodings = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

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
  const isHashed = status === 200 && pathname.startsWith('/_astro/');
  const copy = await precompressedCopy(file, request.headers['accept-encoding']);
  const hasCopies = copy !== undefined || (await hasPrecompressedCopies(file));
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': copy?.size ?? info.size,
    'Cache-Control': isHashed ? 'private, max-age=31536000, immutable' : 'no-cache',
    // Caches must keep the encodings apart when there is more than one.
    ...(hasCopies ? { Vary: 'Accept-Encoding' } : {}),
    ...(copy ? { 'Content-Encoding': copy.encoding } : {}),
  });
  if (request.method === 'HEAD') return void response.end();
  const stream = createReadStream(copy?.file ?? file);
  // A file removed or unreadable mid-way (a rebuild of the site) ends this answer, not the server.
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/** The encodings a client accepts (q=0 refuses one), from its Accept-Encoding header. */
export function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name, ...parameters] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const quality = parameters.map((parameter) => /^\s*q=([\d.]+)\s*$/.exec(parameter)?.[1]).find((value) => value !== undefined);
    if (quality !== undefined && Number(quality) === 0) continue;
    accepted.add(name);
  }
  return accepted;
}

/** The best precompressed copy of `file` the client accepts, if the build made one. */
async function precompressedCopy(file: string, header: string | string[] | undefined): Promise<{ file: string; encoding: string; size: number } | undefined> {
  const accepted = acceptedEncodings(header);
  for (const { encoding, suffix } of encodings) {
    if (!accepted.has(encoding) && !accepted.has('*')) continue;
    const info = await stat(`${file}${suffix}`).catch(() => undefined);
    if (info?.isFile()) return { file: `${file}${suffix}`, encoding, size: info.size };
  }
  return undefined;
}

async function hasPrecompressedCopies(file: string): Promise<boolean> {
  for (const { suffix } of encodings) if ((await stat(`${file}${suffix}`).catch(() => undefined))?.isFile()) return true;
  return false;
}
