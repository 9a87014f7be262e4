import { authHeaders } from './runner-token';

/**
 * Small helpers the explorer views share. Everything they show that came from an image,
 * a container or the learner is set as text (textContent), never as markup.
 */

/** Control characters and bidi overrides made visible, so a name cannot pose as another. */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The runner's JSON, or an Error whose message is the runner's own explanation. */
export async function requestJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, { cache: 'no-store', ...init, headers: { Accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) } });
  let body: (T & { error?: { message: string; nextStep?: string } }) | undefined;
  try {
    body = (await response.json()) as T & { error?: { message: string; nextStep?: string } };
  } catch {
    throw new Error(`The runner answered ${response.status} without a readable body.`);
  }
  if (!response.ok) throw new Error(body.error ? `${body.error.message} ${body.error.nextStep ?? ''}`.trim() : `The runner answered ${response.status}.`);
  return body;
}

/** Short form of a digest: "sha256:0123456789ab". */
export function shortDigest(digest: string | undefined): string {
  if (!digest) return '';
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['sha256', digest];
  return `${algorithm}:${(hex ?? '').slice(0, 12)}`;
}
