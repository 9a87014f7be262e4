import type http from 'node:http';
import type net from 'node:net';
import { afterEach } from 'vitest';

/**
 * Real servers on 127.0.0.1 for a describe block: `listening(server)` starts one on a free
 * port and resolves with it; after each test every server and its open connections close.
 */
export function useLocalServers(): { listening<T extends http.Server | net.Server>(server: T): Promise<number> } {
  const servers: Array<http.Server | net.Server> = [];
  const sockets = new Set<net.Socket>();
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  return {
    async listening(server) {
      servers.push(server);
      server.on('connection', (socket: net.Socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as net.AddressInfo).port;
    },
  };
}
