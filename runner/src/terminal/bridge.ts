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

/**
 * Shells one runner holds at once, attached or waiting for their page. Each is a bash in
 * the sandbox (a few MB there) and a connection here; a page that opens sockets in a loop
 * must not exhaust either.
 */
export const defaultMaxTerminals = 64;

export interface TerminalBridgeOptions {
  instance: Instance;
  engine: Engine;
  /** How long a shell with no browser attached lives on, waiting for a reload or reconnect. */
  detachedLifetimeMs?: number;
  /** The most shells held at once; see defaultMaxTerminals. */
  maxTerminals?: number;
  /** Server-side problems that are not the learner's (with their stack), for the server's log. */
  logProblem?: (text: string) => void;
}

/**
 * Connects browser sockets to shell sessions. A session is kept by id while no socket is
 * attached, for `detachedLifetimeMs`, so a reload or a dropped connection finds the same
 * shell (and a running build) again; after that, or when the server stops, it is ended.
 * Every path out of an attach either hands the shell to an open socket or ends or expires
 * it: a socket that closes mid-attach leaves nothing running.
 */
export class TerminalBridge {
  readonly #sessions = new Map<string, ShellSession>();
  readonly #attached = new Map<ShellSession, WebSocket>();
  /** In the order the shells were detached: the first is the one waiting longest. */
  readonly #expiryTimers = new Map<ShellSession, NodeJS.Timeout>();
  readonly #options: Required<TerminalBridgeOptions>;
  /** Shells being started, counted against the cap before they exist. */
  #startingCount = 0;
  #isClosing = false;

  constructor(options: TerminalBridgeOptions) {
    this.#options = { detachedLifetimeMs: 5 * 60_000, maxTerminals: defaultMaxTerminals, logProblem: () => {}, ...options };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Shells with a page attached (the others wait for a reload or their expiry). */
  get attachedCount(): number {
    return this.#attached.size;
  }

  /** Serves one socket: waits for its `attach`, then relays both ways until it closes. */
  accept(socket: WebSocket): void {
    let session: ShellSession | undefined;
    let isAttaching = false;
    socket.binaryType = 'nodebuffer';

    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        if (session) writeInput(socket, session, data as Buffer);
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
        if (session || isAttaching) return;
        isAttaching = true;
        this.#attach(socket, message).then(
          (attached) => {
            session = attached;
          },
          (error: unknown) => this.#refuse(socket, error),
        );
        return;
      }
      if (!session) return;
      if (message.type === 'input') writeInput(socket, session, message.data);
      else relayControl(session, message);
    });
  }

  #refuse(socket: WebSocket, error: unknown): void {
    if (error instanceof SocketGoneError) {
      // Still open: the server is stopping (the page will reconnect to the next one).
      if (socket.readyState === socket.OPEN) socket.close(closeCodes.serverStopping, 'server stopping');
      return;
    }
    if (error instanceof TooManyTerminalsError) {
      send(socket, {
        type: 'error',
        message: `${error.max} terminals are already open, the most one course server runs at once.`,
        nextStep: 'Type `exit` in a terminal you no longer need (or close its tab), then press Try again.',
      });
      socket.close(closeCodes.tooManyTerminals, 'too many terminals');
      return;
    }
    if (error instanceof SandboxDownError) {
      send(socket, { type: 'error', message: 'The sandbox is not running.', nextStep: 'Run `course start` again, then reload this page.' });
    } else {
      this.#options.logProblem(`terminal attach failed: ${error instanceof Error ? error.stack : String(error)}`);
      send(socket, { type: 'error', message: `The terminal could not start a shell (${messageOf(error)}).`, nextStep: 'Look at the window running `course start` for details, then reload this page.' });
    }
    socket.close(closeCodes.attachFailed, 'attach failed');
  }

  async #attach(socket: WebSocket, message: Extract<ClientMessage, { type: 'attach' }>): Promise<ShellSession> {
    const isOpen = () => !this.#isClosing && socket.readyState === socket.OPEN;
    let session = message.sessionId ? this.#sessions.get(message.sessionId) : undefined;
    const isNew = !session;
    if (!session) {
      this.#makeRoom();
      this.#startingCount++;
      try {
        await this.#ensureSandboxRunning();
        // Gone while the sandbox was looked at: start nothing.
        if (!isOpen()) throw new SocketGoneError();
        session = await this.#startSession(message.cols, message.rows);
      } finally {
        this.#startingCount--;
      }
    }
    if (!isOpen()) {
      // The socket closed while the shell was starting. Nobody knows a new shell's id, so it
      // ends now; a shell reattached to keeps the expiry it had.
      if (isNew) void session.end();
      else if (!this.#attached.has(session) && !this.#expiryTimers.has(session) && !session.hasExited) this.#expireLater(session);
      throw new SocketGoneError();
    }
    clearTimeout(this.#expiryTimers.get(session));
    this.#expiryTimers.delete(session);

    const previous = this.#attached.get(session);
    if (previous) {
      // One browser per shell: two tabs typing into one prompt would confuse both.
      send(previous, { type: 'taken-over' });
      previous.close(closeCodes.takenOver, 'opened elsewhere');
    }
    this.#attached.set(session, socket);
    const current = session;
    socket.once('close', () => this.#detach(current, socket));
    session.resize(message.cols, message.rows);

    const replay = session.replay.since(isNew ? undefined : message.offset);
    send(socket, { type: 'attached', sessionId: session.id, isNew, offset: replay.offset, reset: replay.reset });
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
    return current;
  }

  #detach(session: ShellSession, socket: WebSocket): void {
    if (this.#attached.get(session) !== socket) return;
    this.#attached.delete(session);
    session.setOutputListener(undefined);
    if (!session.hasExited && !this.#isClosing) this.#expireLater(session);
  }

  /**
   * Makes room for one more shell under the cap: the shell waiting longest for its page is
   * ended first (its tab is most likely closed); when every shell has a page, the new one is
   * refused.
   */
  #makeRoom(): void {
    if (this.#sessions.size + this.#startingCount < this.#options.maxTerminals) return;
    const oldest = this.#expiryTimers.keys().next().value;
    if (!oldest) throw new TooManyTerminalsError(this.#options.maxTerminals);
    clearTimeout(this.#expiryTimers.get(oldest));
    this.#expiryTimers.delete(oldest);
    this.#sessions.delete(oldest.id);
    void oldest.end();
  }

  async #startSession(cols: number, rows: number): Promise<ShellSession> {
    const session = await ShellSession.start({ engine: this.#options.engine, instance: this.#options.instance, cols, rows });
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
    clearTimeout(this.#expiryTimers.get(session));
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

class TooManyTerminalsError extends Error {
  constructor(readonly max: number) {
    super(`${max} terminals are open`);
  }
}

/** The socket closed before its shell was ready: nobody to tell. */
class SocketGoneError extends Error {
  constructor() {
    super('the connection closed while the shell was starting');
  }
}

/**
 * Input goes on as fast as the shell's connection takes it. When it holds enough, the
 * socket stops being read until it drains, so a 10 MB paste waits in the browser (which
 * sends it in chunks while its own buffer is small) instead of in this process.
 */
function writeInput(socket: WebSocket, session: ShellSession, data: string | Buffer): void {
  if (session.write(data)) return;
  socket.pause();
  session.onDrain(() => socket.resume());
}

function relayControl(session: ShellSession, message: Exclude<ClientMessage, { type: 'attach' | 'input' }>): void {
  switch (message.type) {
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
