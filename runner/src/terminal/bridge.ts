import type { WebSocket } from 'ws';
import { inspectContainer } from '../sandbox/sandbox.js';
import type { Engine } from '../engine.js';
import { messageOf } from '../errors.js';
import type { Instance } from '../settings.js';
import { closeCodes, parseClientMessage, type ClientMessage, type ServerMessage } from './protocol.js';
import { ShellSession } from './shell-session.js';

/** Output bytes sent but not yet written to the socket before the shell is paused. */
const socketHighWaterBytes = 512 * 1024;
const socketLowWaterBytes = 64 * 1024;

export interface TerminalBridgeOptions {
  instance: Instance;
  engine: Engine;
  /** How long a shell with no browser attached lives on, waiting for a reload or reconnect. */
  detachedLifetimeMs?: number;
  /** Server-side problems that are not the learner's (with their stack), for the server's log. */
  logProblem?: (text: string) => void;
}

interface Attachment {
  socket: WebSocket;
  session: ShellSession;
}

/**
 * Connects browser sockets to shell sessions. A session is kept by id while no socket is
 * attached, for `detachedLifetimeMs`, so a reload or a dropped connection finds the same
 * shell (and a running build) again; after that, or when the server stops, it is ended.
 */
export class TerminalBridge {
  readonly #sessions = new Map<string, ShellSession>();
  readonly #attached = new Map<ShellSession, WebSocket>();
  readonly #expiryTimers = new Map<ShellSession, NodeJS.Timeout>();
  readonly #options: Required<TerminalBridgeOptions>;
  #isClosing = false;

  constructor(options: TerminalBridgeOptions) {
    this.#options = { detachedLifetimeMs: 5 * 60_000, logProblem: () => {}, ...options };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Serves one socket: waits for its `attach`, then relays both ways until it closes. */
  accept(socket: WebSocket): void {
    let attachment: Attachment | undefined;
    let isAttaching = false;
    socket.binaryType = 'nodebuffer';

    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        attachment?.session.write(data as Buffer);
        return;
      }
      const parsed = parseClientMessage(data.toString('utf8'));
      if ('problem' in parsed) {
        send(socket, { type: 'error', message: `The terminal sent a message the runner does not understand (${parsed.problem}).`, nextStep: 'Reload the page.' });
        socket.close(closeCodes.attachFailed, 'bad message');
        return;
      }
      const message = parsed.message;
      if (message.type === 'attach') {
        if (attachment || isAttaching) return;
        isAttaching = true;
        this.#attach(socket, message).then(
          (result) => {
            attachment = result;
          },
          (error: unknown) => {
            if (error instanceof SandboxDownError) {
              send(socket, { type: 'error', message: 'The sandbox is not running.', nextStep: 'Run `course start` again, then reload this page.' });
            } else {
              this.#options.logProblem(`terminal attach failed: ${error instanceof Error ? error.stack : String(error)}`);
              send(socket, { type: 'error', message: `The terminal could not start a shell (${messageOf(error)}).`, nextStep: 'Look at the window running `course start` for details, then reload this page.' });
            }
            socket.close(closeCodes.attachFailed, 'attach failed');
          },
        );
        return;
      }
      if (!attachment) return;
      relayControl(attachment.session, message);
    });

    socket.on('close', () => {
      if (!attachment) return;
      const { session } = attachment;
      if (this.#attached.get(session) !== socket) return;
      this.#attached.delete(session);
      session.setOutputListener(undefined);
      if (!session.hasExited && !this.#isClosing) this.#expireLater(session);
    });
  }

  async #attach(socket: WebSocket, message: Extract<ClientMessage, { type: 'attach' }>): Promise<Attachment> {
    let session = message.sessionId ? this.#sessions.get(message.sessionId) : undefined;
    const isNew = !session;
    if (!session) {
      await this.#ensureSandboxRunning();
      session = this.#startSession(message.cols, message.rows);
    }
    if (this.#isClosing || socket.readyState !== socket.OPEN) throw new Error('the connection closed while the shell was starting');
    clearTimeout(this.#expiryTimers.get(session));
    this.#expiryTimers.delete(session);

    const previous = this.#attached.get(session);
    if (previous) {
      // One browser per shell: two tabs typing into one prompt would confuse both.
      send(previous, { type: 'taken-over' });
      previous.close(closeCodes.takenOver, 'opened elsewhere');
    }
    this.#attached.set(session, socket);
    session.resize(message.cols, message.rows);

    const replay = session.replay.since(isNew ? undefined : message.offset);
    send(socket, { type: 'attached', sessionId: session.id, isNew, offset: replay.offset, reset: replay.reset });
    const current = session;
    let pendingBytes = 0;
    const forward = (chunk: Buffer) => {
      if (socket.readyState !== socket.OPEN) return;
      pendingBytes += chunk.length;
      if (pendingBytes > socketHighWaterBytes) current.pause('socket');
      socket.send(chunk, { binary: true }, () => {
        pendingBytes -= chunk.length;
        if (pendingBytes < socketLowWaterBytes) current.resume('socket');
      });
    };
    if (replay.bytes.length) forward(replay.bytes);
    current.setOutputListener(forward);
    if (current.hasExited) this.#sendExit(current, socket);
    return { socket, session: current };
  }

  #startSession(cols: number, rows: number): ShellSession {
    const session = new ShellSession({ instance: this.#options.instance, cols, rows });
    this.#sessions.set(session.id, session);
    session.onExit(async () => {
      // The shell is gone; whatever it left running in the background goes with it, as
      // when a terminal window closes. The browser hears of the exit once that is done.
      await session.end();
      this.#sessions.delete(session.id);
      clearTimeout(this.#expiryTimers.get(session));
      this.#expiryTimers.delete(session);
      const socket = this.#attached.get(session);
      this.#attached.delete(session);
      if (socket) this.#sendExit(session, socket);
    });
    return session;
  }

  #sendExit(session: ShellSession, socket: WebSocket): void {
    session.onExit((exit) => {
      send(socket, { type: 'exit', code: exit.code, signal: exit.signal });
      socket.close(this.#isClosing ? closeCodes.serverStopping : closeCodes.shellExited, 'shell ended');
    });
  }

  #expireLater(session: ShellSession): void {
    const timer = setTimeout(() => {
      this.#expiryTimers.delete(session);
      void session.end();
    }, this.#options.detachedLifetimeMs);
    timer.unref();
    this.#expiryTimers.set(session, timer);
  }

  async #ensureSandboxRunning(): Promise<void> {
    const container = await inspectContainer(this.#options.engine, this.#options.instance);
    if (!container?.State.Running) throw new SandboxDownError();
  }

  /** Ends every shell; for the server's shutdown. */
  async close(): Promise<void> {
    this.#isClosing = true;
    for (const timer of this.#expiryTimers.values()) clearTimeout(timer);
    this.#expiryTimers.clear();
    await Promise.all([...this.#sessions.values()].map((session) => session.end()));
  }
}

export class SandboxDownError extends Error {
  constructor() {
    super('the sandbox is not running');
  }
}

function relayControl(session: ShellSession, message: Exclude<ClientMessage, { type: 'attach' }>): void {
  switch (message.type) {
    case 'input':
      session.write(message.data);
      return;
    case 'resize':
      session.resize(message.cols, message.rows);
      return;
    case 'pause':
      session.pause('browser');
      return;
    case 'resume':
      session.resume('browser');
      return;
  }
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
