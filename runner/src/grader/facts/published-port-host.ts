/**
 * Where a port that an engine publishes can be dialled from this process, for an engine the
 * caller reached by its address (a CI's own, or the local one):
 * - tcp://host:port: that host;
 * - a unix socket: a local engine, 127.0.0.1. Engines in a VM (Docker Desktop) publish on
 *   localhost too, so 127.0.0.1 suits them.
 * The sandbox's nested engine is another matter: it publishes in the sandbox container's
 * network namespace, and its caller knows the sandbox (see grade-and-record.ts).
 */
export function publishedPortHostOf(engineAddress: string): string {
  if (engineAddress.startsWith('tcp://')) {
    // URL keeps the brackets of an IPv6 host ("[::1]"); a socket wants the bare address.
    return new URL(engineAddress.replace(/^tcp:/, 'http:')).hostname.replace(/^\[(.*)\]$/, '$1');
  }
  return '127.0.0.1';
}
