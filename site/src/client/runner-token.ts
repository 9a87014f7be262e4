import { tokenFragmentName, tokenQueryName, tokenStorageKey } from '../../../runner/src/contract/auth';

/**
 * The runner's token, as runner/src/contract/auth.ts describes: taken once from the address's
 * fragment (where the server put it) into localStorage, which only this exact origin can
 * read, and sent with every API call and on the terminal socket. Never a cookie: those reach
 * every port of 127.0.0.1.
 */
function takeTokenFromAddress(): void {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get(tokenFragmentName);
  if (!token) return;
  try {
    localStorage.setItem(tokenStorageKey, token);
  } catch {
    // Storage refused (a private window's quota): the token still works for this page.
    memoryToken = token;
  }
  fragment.delete(tokenFragmentName);
  const rest = fragment.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}

let memoryToken: string | undefined;
takeTokenFromAddress();

export function runnerToken(): string | undefined {
  try {
    return localStorage.getItem(tokenStorageKey) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

/** Headers for an API call: the token as a bearer credential, when the page has one. */
export function authHeaders(): Record<string, string> {
  const token = runnerToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The terminal socket's address with the token (browsers cannot set headers on a WebSocket). */
export function withToken(url: URL): URL {
  const token = runnerToken();
  if (token) url.searchParams.set(tokenQueryName, token);
  return url;
}
