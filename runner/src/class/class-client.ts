import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { ClassErrorBody } from './contract.js';
import type { JoinLink } from './join-link.js';

/**
 * How a learner's runner talks to the class server. Over HTTPS the server's certificate
 * must have the fingerprint the join link carries: the TLS handshake finishes, the
 * fingerprint is compared, and only then is a single byte of the request (with the
 * learner's key) written. Anything else is refused.
 */

export class ClassUnreachableError extends Error {
  override readonly name = 'ClassUnreachableError';
}

/** The server answered with a certificate other than the one in the join link. */
export class CertificateMismatchError extends Error {
  override readonly name = 'CertificateMismatchError';
  constructor(
    readonly origin: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      `The class server at ${origin} showed a certificate whose fingerprint (${actual ?? 'none'}) is not the one in the join link (${expected}). ` +
        'Nothing was sent: another machine may be pretending to be the class.',
    );
  }
}

export interface ClassResponse {
  status: number;
  body: unknown;
}

export interface ClassRequestOptions {
  body?: unknown;
  bearer?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const maxResponseBytes = 4 * 1024 * 1024;

export async function requestClass(link: JoinLink, method: 'GET' | 'POST', pathname: string, options: ClassRequestOptions = {}): Promise<ClassResponse> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = await openSocket(link, timeoutMs);
  const url = new URL(pathname, link.origin);
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return await new Promise<ClassResponse>((resolve, reject) => {
    const request = http.request(
      {
        createConnection: () => socket,
        method,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: {
          Host: url.host,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
          ...(options.bearer ? { Authorization: `Bearer ${options.bearer}` } : {}),
        },
        timeout: timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) request.destroy(new ClassUnreachableError('the class server sent an answer too large to read'));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON (a proxy's page, say): kept as text for the error message.
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
        response.on('error', (error) => reject(new ClassUnreachableError(error.message)));
      },
    );
    request.on('timeout', () => request.destroy(new ClassUnreachableError(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', (error) => reject(error instanceof ClassUnreachableError ? error : new ClassUnreachableError(describeNetworkError(error))));
    request.end(payload);
  });
}

async function openSocket(link: JoinLink, timeoutMs: number): Promise<net.Socket> {
  const url = new URL(link.origin);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (link.isHttps ? 443 : 80));
  return await new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ClassUnreachableError(`no connection within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error instanceof CertificateMismatchError ? error : new ClassUnreachableError(describeNetworkError(error)));
    };
    let socket: net.Socket;
    if (link.isHttps) {
      // Verification is by pinning, below: a self-signed certificate has no authority to check.
      const secure = tls.connect({ host, port, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) });
      socket = secure;
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        const actual = secure.getPeerX509Certificate()?.fingerprint256;
        if (actual !== link.fingerprint) {
          secure.destroy();
          reject(new CertificateMismatchError(link.origin, link.fingerprint ?? '(none)', actual));
          return;
        }
        resolve(secure);
      });
    } else {
      socket = net.connect({ host, port });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
    }
    socket.once('error', fail);
  });
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'nothing is listening there (is `course class serve` running?)';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'that address cannot be reached from this machine';
  if (code === 'ETIMEDOUT') return 'the connection timed out';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was cut';
  if (code === 'ENOTFOUND') return 'that host name is unknown';
  return error.message;
}

/** The server's own explanation of a refusal, when it gave one. */
export function errorOf(response: ClassResponse): { message: string; nextStep: string } {
  const body = response.body as Partial<ClassErrorBody> | undefined;
  if (body && typeof body === 'object' && body.error && typeof body.error.message === 'string') {
    // Printed on the learner's terminal: a server's words never carry escape sequences there.
    return { message: printable(body.error.message), nextStep: typeof body.error.nextStep === 'string' ? printable(body.error.nextStep) : '' };
  }
  return { message: `The class server answered ${response.status}.`, nextStep: 'Ask your instructor whether the class server is running the same Layerlab version.' };
}

function printable(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, ' ').slice(0, 1000);
}
