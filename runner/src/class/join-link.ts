import { usageError } from '../errors.js';
import { classPaths } from './contract.js';

/**
 * The join link a learner is given: the class server's address, the join code, and for a
 * class served over HTTPS the SHA-256 fingerprint of its certificate, which the learner's
 * runner pins (a self-signed certificate can be trusted only by knowing it in advance).
 *
 *   http://127.0.0.1:4848/class/join?code=CODE
 *   https://192.168.1.20:4848/class/join?code=CODE&fp=AB:CD:…
 */
export interface JoinLink {
  /** scheme://host:port of the class server. */
  origin: string;
  isHttps: boolean;
  code: string;
  /** Upper-case hex pairs joined by ":" (as X509Certificate.fingerprint256 writes it). */
  fingerprint?: string;
}

const fingerprintPattern = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export function formatJoinLink(origin: string, code: string, fingerprint?: string): string {
  const url = new URL(classPaths.join, origin);
  url.searchParams.set('code', code);
  if (fingerprint) url.searchParams.set('fp', fingerprint);
  return url.toString();
}

export function parseJoinLink(text: string): JoinLink {
  const problem = (why: string) =>
    usageError(`"${text.length > 200 ? `${text.slice(0, 200)}…` : text}" is not a class join link: ${why}.`, 'Copy the whole join link your instructor gave you (it starts with http:// or https:// and holds ?code=).');
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw problem('it is not an address');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem(`it starts with ${url.protocol} instead of http: or https:`);
  if (url.pathname !== classPaths.join) throw problem(`its path is ${url.pathname}, not ${classPaths.join}`);
  const code = url.searchParams.get('code');
  if (!code || !/^[\w-]{8,200}$/.test(code)) throw problem('it has no join code');
  const isHttps = url.protocol === 'https:';
  const fingerprint = url.searchParams.get('fp')?.toUpperCase() ?? undefined;
  if (isHttps && !fingerprint) throw problem('an https link must carry the certificate fingerprint (fp=)');
  if (fingerprint !== undefined && !fingerprintPattern.test(fingerprint)) throw problem('its fingerprint (fp=) is not a SHA-256 fingerprint');
  return { origin: url.origin, isHttps, code, ...(fingerprint ? { fingerprint } : {}) };
}
