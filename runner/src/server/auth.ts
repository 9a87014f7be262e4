import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { tokenFragmentName, tokenQueryName } from '../contract/auth.js';
import { sendJson } from './responses.js';

/**
 * Who may talk to the course server: requests addressed to this server by name (no DNS
 * rebinding), carrying the token, and for anything that acts (a Check, the terminal) sent
 * by this server's own pages (Origin).
 *
 * The token never goes into a cookie: browsers send 127.0.0.1's cookies to every port, so any
 * other local web app the learner opens would receive it. The API and the terminal accept it
 * only as `Authorization: Bearer` or `?token=` (the page keeps it in origin-scoped storage:
 * contract/auth.ts). Pages, which are the public course text, are also served to a cookie that
 * holds a second, unrelated secret: another server that receives that cookie can read
 * lessons with it and nothing else.
 */
export class Gatekeeper {
  #port = 0;
  readonly #pageSecret = randomBytes(24).toString('base64url');

  constructor(readonly token: string) {}

  /** Set once the server listens (port 0 picks one). */
  set port(port: number) {
    this.#port = port;
  }

  get cookieName(): string {
    return `layerlab_pages_${this.#port}`;
  }

  isAllowedHost(request: http.IncomingMessage): boolean {
    return this.#allowedHosts().includes(request.headers.host ?? '');
  }

  /** For the API and the terminal: the token itself, never a cookie. */
  isAuthorized(request: http.IncomingMessage, url: URL): boolean {
    const offered = [url.searchParams.get(tokenQueryName), request.headers.authorization?.replace(/^Bearer\s+/i, '')];
    return offered.some((candidate) => candidate !== null && candidate !== undefined && sameSecret(candidate, this.token));
  }

  /** For the pages: the token, or the page cookie given in exchange for it. */
  mayReadPages(request: http.IncomingMessage, url: URL): boolean {
    const cookie = readCookie(request.headers.cookie, this.cookieName);
    return this.isAuthorized(request, url) || (cookie !== undefined && sameSecret(cookie, this.#pageSecret));
  }

  isOwnOrigin(request: http.IncomingMessage): boolean {
    return request.headers.origin !== undefined && this.#allowedHosts().some((host) => request.headers.origin === `http://${host}`);
  }

  /** The page cookie given for the token in the address bar. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.#pageSecret}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** Where the page goes after the trade: the same address, the token moved into the fragment for the page's script. */
  addressAfterTrade(url: URL): string {
    const clean = new URL(url);
    clean.searchParams.delete(tokenQueryName);
    return `${clean.pathname}${clean.search}#${tokenFragmentName}=${encodeURIComponent(this.token)}`;
  }

  #allowedHosts(): string[] {
    return [`127.0.0.1:${this.#port}`, `localhost:${this.#port}`];
  }
}

/** The answer to a request without a valid token: JSON for the API, a short page otherwise. */
export function refuseUnauthorized(response: http.ServerResponse, url: URL): void {
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

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export function sameSecret(offered: string, expected: string): boolean {
  const a = Buffer.from(offered);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
