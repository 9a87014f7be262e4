import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedEncodings, serveStatic } from '../../runner/src/server/static-files.js';

const script = 'console.log("layer by layer");\n'.repeat(200);
let siteDir: string;
let server: http.Server;
let origin: string;

/** A raw GET (fetch would decode the body and hide Content-Encoding's effect on the bytes). */
function get(pathname: string, acceptEncoding?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${origin}${pathname}`, { headers: acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
  });
}

beforeAll(async () => {
  siteDir = await mkdtemp(path.join(os.tmpdir(), 'll-precompressed-'));
  await mkdir(path.join(siteDir, '_astro'));
  await writeFile(path.join(siteDir, '_astro', 'page.abc123.js'), script);
  await writeFile(path.join(siteDir, '_astro', 'page.abc123.js.br'), brotliCompressSync(script));
  await writeFile(path.join(siteDir, '_astro', 'page.abc123.js.gz'), gzipSync(script));
  await writeFile(path.join(siteDir, 'plain.txt'), 'no copies of this one');
  server = http.createServer((request, response) => void serveStatic(siteDir, request, response, new URL(request.url!, 'http://x').pathname));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

describe('precompressed assets', () => {
  it('serves the brotli copy to a browser that accepts it, with a long cache and Vary', async () => {
    const answer = await get('/_astro/page.abc123.js', 'gzip, deflate, br, zstd');
    expect(answer.headers['content-encoding']).toBe('br');
    expect(answer.headers.vary).toBe('Accept-Encoding');
    expect(answer.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    expect(answer.body.length).toBeLessThan(script.length / 10);
    expect(brotliDecompressSync(answer.body).toString()).toBe(script);
  });

  it('falls back to gzip, then to the plain file, honouring q=0', async () => {
    expect((await get('/_astro/page.abc123.js', 'gzip')).headers['content-encoding']).toBe('gzip');
    expect((await get('/_astro/page.abc123.js', 'br;q=0, gzip;q=0.8')).headers['content-encoding']).toBe('gzip');
    const plain = await get('/_astro/page.abc123.js', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe(script);
    expect((await get('/_astro/page.abc123.js')).headers['content-encoding']).toBeUndefined();
  });

  it('sends a file without copies as it is, without Vary', async () => {
    const answer = await get('/plain.txt', 'br, gzip');
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.headers.vary).toBeUndefined();
    expect(answer.headers['cache-control']).toBe('no-cache');
  });

  it('reads Accept-Encoding as browsers and proxies write it', () => {
    expect([...acceptedEncodings('gzip, deflate, br')]).toEqual(['gzip', 'deflate', 'br']);
    expect([...acceptedEncodings('br;q=0, GZIP;q=0.5')]).toEqual(['gzip']);
    expect([...acceptedEncodings(undefined)]).toEqual([]);
  });
});
