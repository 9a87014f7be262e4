import { StringDecoder } from 'node:string_decoder';
import { WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '../../runner/src/terminal/protocol.js';
import { terminalSocketPath } from '../../runner/src/terminal/protocol.js';

/**
 * A terminal socket client as the browser's would be, for tests and benchmarks: it sends
 * the page's Origin and the token, collects the shell's output and waits on conditions.
 */
export class TerminalClient {
  readonly output: Buffer[] = [];
  readonly control: ServerMessage[] = [];
  outputBytes = 0;
  /** The output decoded as it arrives (a character split across chunks waits for its end). */
  #text = '';
  readonly #decoder = new StringDecoder('utf8');
  #waiters: Array<() => void> = [];
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        const chunk = data as Buffer;
        this.output.push(chunk);
        this.outputBytes += chunk.length;
        this.#text += this.#decoder.write(chunk);
      } else {
        this.control.push(JSON.parse(data.toString()) as ServerMessage);
      }
      this.#wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.#wake();
    });
  }

  /** `cookie` sends the given Cookie header instead of the token (which must then be refused). */
  static async open(baseUrl: string, token: string, options: { origin?: string; cookie?: string } = {}): Promise<TerminalClient> {
    const url = new URL(terminalSocketPath, baseUrl);
    url.protocol = 'ws:';
    const origin = options.origin ?? new URL(baseUrl).origin;
    const headers: Record<string, string> = options.cookie ? { Cookie: options.cookie } : {};
    if (!options.cookie) url.searchParams.set('token', token);
    const socket = new WebSocket(url, { origin, headers });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
    return new TerminalClient(socket);
  }

  send(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Attaches (to a session when given) and resolves with the server's `attached`. */
  async attach(options: { sessionId?: string; offset?: number; cols?: number; rows?: number } = {}): Promise<Extract<ServerMessage, { type: 'attached' }>> {
    this.send({ type: 'attach', cols: options.cols ?? 100, rows: options.rows ?? 30, ...options });
    await this.waitFor(() => this.control.some((message) => message.type === 'attached' || message.type === 'error'));
    const attached = this.control.find((message) => message.type === 'attached');
    if (!attached) throw new Error(`attach failed: ${JSON.stringify(this.control)}`);
    return attached as Extract<ServerMessage, { type: 'attached' }>;
  }

  type(text: string): void {
    this.send({ type: 'input', data: text });
  }

  text(): string {
    return this.#text;
  }

  /** Resolves when `condition` holds, checked after every message; the test's timeout bounds it. */
  async waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (this.closeCode !== undefined && !condition()) throw new Error(`socket closed (${this.closeCode}) before the condition held; output: ${this.text().slice(-500)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Searches only what arrived since the last look: a flood of output stays cheap to wait on. */
  async waitForText(text: string): Promise<void> {
    let from = 0;
    await this.waitFor(() => {
      if (this.#text.indexOf(text, from) !== -1) return true;
      from = Math.max(0, this.#text.length - text.length + 1);
      return false;
    });
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
