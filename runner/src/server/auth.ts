import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { sendJson } from './responses.js';

/**
 * Who may talk to the course server: requests addressed to this server by name (no DNS
 * rebinding), carrying the token, and for anything that acts (a Check, the terminal) sent
 * by this server's own pages (Origin).
 */
export class Gatekeeper {
  #port = 0;

  constructor(readonly token: string) {}

  /** Set once the server listens (port 0 picks one). */
  set port(port: number) {
    this.#port = port;
  }

  get cookieName(): string {
    return `layerlab_token_${this.#port}`;
  }

  isAllowedHost(request: http.IncomingMessage): boolean {
    return this.#allowedHosts().includes(request.headers.host ?? '');
  }

  isAuthorized(request: http.IncomingMessage, url: URL): boolean {
    const offered = [
      url.searchParams.get('token'),
      readCookie(request.headers.cookie, this.cookieName),
      request.headers.authorization?.replace(/^Bearer\s+/i, ''),
    ];
    return offered.some((candidate) => candidate !== null && candidate !== undefined && sameSecret(candidate, this.token));
  }

  isOwnOrigin(request: http.IncomingMessage): boolean {
    return request.headers.origin !== undefined && this.#allowedHosts().some((host) => request.headers.origin === `http://${host}`);
  }

  /** The cookie that replaces the token in the address bar. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
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
