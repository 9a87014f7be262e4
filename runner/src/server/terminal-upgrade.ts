import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { TerminalBridge } from '../terminal/bridge.js';
import { maxFrameBytes, terminalSocketPath } from '../terminal/protocol.js';
import type { Gatekeeper } from './auth.js';

/**
 * Turns an HTTP upgrade on the terminal path into a WebSocket for the bridge, after the same
 * checks as every request plus the Origin check (browsers always send Origin on a
 * WebSocket, so a page of another site is refused here).
 *
 * No client frame may end the runner: every socket has an `error` listener. A frame the
 * WebSocket library refuses (too large, invalid UTF-8, unmasked, unknown opcode) closes
 * that one socket with the standard code (1009, 1007, 1002) and leaves the server up.
 */
export class TerminalUpgrade {
  readonly #sockets = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
  #isClosing = false;

  constructor(
    readonly gatekeeper: Gatekeeper,
    readonly bridge: TerminalBridge,
    readonly log: (text: string) => void,
  ) {
    this.#sockets.on('error', (error) => log(`terminal socket server error: ${error.stack}`));
  }

  handle(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removes its own error listener from a socket it hands over for an upgrade; a peer
    // that resets the connection now must not raise an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    // The server is stopping: a page reconnecting now must not hold it open.
    if (this.#isClosing) return void socket.destroy();
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!this.gatekeeper.isAllowedHost(request)) return refuse(403, 'Forbidden');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    if (url.pathname !== terminalSocketPath) return refuse(404, 'Not Found');
    if (!this.gatekeeper.isAuthorized(request, url)) return refuse(401, 'Unauthorized');
    if (!this.gatekeeper.isOwnOrigin(request)) return refuse(403, 'Forbidden');
    this.#sockets.handleUpgrade(request, socket, head, (webSocket) => {
      webSocket.on('error', (error: Error & { code?: string }) => {
        // The library has already started closing the socket with the matching code.
        this.log(`terminal socket closed after a bad frame (${error.code ?? 'error'}: ${error.message})`);
      });
      this.bridge.accept(webSocket);
    });
  }

  /**
   * Drops every terminal socket at once and refuses new ones (the server is stopping). Pages
   * reconnect within a second, and one that upgraded meanwhile would keep the server's
   * close waiting for ever: call again once the shells are ended.
   */
  terminateAll(): void {
    this.#isClosing = true;
    for (const client of this.#sockets.clients) client.terminate();
  }
}
