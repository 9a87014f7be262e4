import {
  finalCloseCodes,
  inputBufferedHighWaterBytes,
  inputChunkBytes,
  terminalSocketPath,
  type ClientMessage,
  type ServerMessage,
} from '../../../runner/src/contract/terminal';
import { authHeaders, withToken } from './runner-token';

/**
 * The browser end of the terminal socket (runner/src/contract/terminal.ts describes the
 * messages). It keeps one shell session per tab across reloads (the id is in
 * sessionStorage), reconnects after an abnormal close as ttyd does, asks only for the output
 * it has not shown yet, and tells the server to pause the shell while the terminal is
 * behind, so a flood such as `yes` neither freezes the page nor fills memory.
 *
 * Input (keystrokes, a 10 MB paste) goes out in binary frames of at most `inputChunkBytes`,
 * and only while the socket holds less than `inputBufferedHighWaterBytes` unsent: the runner
 * reads its end only as fast as the shell takes input, so a big paste waits here, in
 * order, and arrives whole.
 */

const sessionKey = 'layerlab.terminal.session';

/** Bytes handed to the terminal but not yet drawn; above the high mark the shell is paused. */
const highWaterBytes = 256 * 1024;
const lowWaterBytes = 32 * 1024;
const reconnectDelaysMs = [250, 500, 1000, 2000, 4000, 8000];

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected'; isNewShell: boolean }
  | { kind: 'reconnecting'; attempt: number }
  | { kind: 'shell-ended'; code: number | null }
  | { kind: 'taken-over' }
  | { kind: 'failed'; message: string; nextStep: string };

/** What the connection draws into: an xterm.js Terminal fits this. */
export interface TerminalSink {
  readonly cols: number;
  readonly rows: number;
  /** `done` runs once the bytes are parsed and drawn. */
  write(data: Uint8Array | string, done?: () => void): void;
  reset(): void;
}

export class TerminalConnection {
  #socket: WebSocket | undefined;
  #sessionId: string | undefined;
  /** Output bytes received from the session so far (its byte offset). */
  #offset: number | undefined;
  #unrenderedBytes = 0;
  #isPaused = false;
  #attempt = 0;
  #reconnectTimer: number | undefined;
  #hasContent = false;
  /** True once the server has answered this socket's attach: input waits until then. */
  #isAttached = false;
  /** Input not yet handed to the socket, oldest first. */
  readonly #inputQueue: Uint8Array[] = [];
  #pumpTimer: number | undefined;
  readonly #encoder = new TextEncoder();
  readonly #sink: TerminalSink;
  readonly #onState: (state: ConnectionState) => void;

  constructor(sink: TerminalSink, onState: (state: ConnectionState) => void) {
    this.#sink = sink;
    this.#onState = onState;
    this.#sessionId = sessionStorage.getItem(sessionKey) ?? undefined;
  }

  connect(): void {
    window.clearTimeout(this.#reconnectTimer);
    this.#socket?.close();
    this.#onState(this.#attempt ? { kind: 'reconnecting', attempt: this.#attempt } : { kind: 'connecting' });
    const url = new URL(terminalSocketPath, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(withToken(url));
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#isAttached = false;
    let hasOpened = false;

    socket.addEventListener('open', () => {
      hasOpened = true;
      this.#send({
        type: 'attach',
        cols: this.#sink.cols,
        rows: this.#sink.rows,
        ...(this.#sessionId ? { sessionId: this.#sessionId } : {}),
        ...(this.#offset !== undefined ? { offset: this.#offset } : {}),
      });
    });
    socket.addEventListener('message', (event: MessageEvent<ArrayBuffer | string>) => {
      if (socket !== this.#socket) return;
      if (typeof event.data === 'string') this.#onControl(JSON.parse(event.data) as ServerMessage);
      else this.#onOutput(new Uint8Array(event.data));
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#isPaused = false;
      this.#isAttached = false;
      // How much of a paste in flight reached the shell is unknown: the rest is not sent
      // to a shell that may be in another state by the time the socket is back.
      this.#inputQueue.length = 0;
      if (finalCloseCodes.includes(event.code)) return;
      if (hasOpened) return this.#scheduleReconnect();
      // Refused before opening: a runner that restarted has a new token, which no retry fixes.
      void isTokenRefused().then((isRefused) => {
        // Someone pressed Try again meanwhile: that socket decides.
        if (this.#socket) return;
        if (!isRefused) return this.#scheduleReconnect();
        this.#onState({
          kind: 'failed',
          message: 'This page\'s link is from an earlier `course start`: the course server running now has a new one.',
          nextStep: 'Open the link that `course start` printed last.',
        });
      });
    });
  }

  /** Starts a fresh shell after the last one ended. */
  startNewShell(): void {
    this.#forgetSession();
    this.#attempt = 0;
    this.connect();
  }

  /** Keystrokes, pastes and the lesson's Run buttons all arrive here. */
  sendInput(data: string): void {
    this.#queueInput(this.#encoder.encode(data));
  }

  /** xterm's binary input (mouse reports in X10 mode): one byte per character. */
  sendBinaryInput(data: string): void {
    this.#queueInput(Uint8Array.from(data, (character) => character.charCodeAt(0) & 0xff));
  }

  #queueInput(bytes: Uint8Array): void {
    for (let start = 0; start < bytes.byteLength; start += inputChunkBytes) this.#inputQueue.push(bytes.subarray(start, start + inputChunkBytes));
    this.#pumpInput();
  }

  /** Hands queued input to the socket while it holds little; checks again shortly if not. */
  #pumpInput(): void {
    window.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.#isAttached) return;
    while (this.#inputQueue.length && socket.bufferedAmount < inputBufferedHighWaterBytes) socket.send(this.#inputQueue.shift()!);
    // Browsers have no event for "bufferedAmount went down".
    if (this.#inputQueue.length) this.#pumpTimer = window.setTimeout(() => this.#pumpInput(), 10);
  }

  resize(cols: number, rows: number): void {
    this.#send({ type: 'resize', cols, rows });
  }

  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  #onControl(message: ServerMessage): void {
    switch (message.type) {
      case 'attached':
        this.#attempt = 0;
        if (message.reset && !message.isNew) this.#sink.reset();
        if (message.isNew && this.#hasContent) {
          // The old shell is gone (ended while away, or the runner restarted); say so.
          this.#sink.write('\r\n\x1b[2m── a new shell (the previous one has ended) ──\x1b[0m\r\n');
        }
        this.#sessionId = message.sessionId;
        this.#offset = message.offset;
        sessionStorage.setItem(sessionKey, message.sessionId);
        this.#isAttached = true;
        this.#onState({ kind: 'connected', isNewShell: message.isNew });
        this.#pumpInput();
        return;
      case 'exit':
        this.#forgetSession();
        this.#onState({ kind: 'shell-ended', code: message.code });
        return;
      case 'taken-over':
        this.#onState({ kind: 'taken-over' });
        return;
      case 'error':
        this.#onState({ kind: 'failed', message: message.message, nextStep: message.nextStep });
        return;
    }
  }

  #onOutput(bytes: Uint8Array): void {
    this.#hasContent = true;
    if (this.#offset !== undefined) this.#offset += bytes.byteLength;
    this.#unrenderedBytes += bytes.byteLength;
    this.#sink.write(bytes, () => {
      this.#unrenderedBytes -= bytes.byteLength;
      if (this.#isPaused && this.#unrenderedBytes < lowWaterBytes) {
        this.#isPaused = false;
        this.#send({ type: 'resume' });
      }
    });
    if (!this.#isPaused && this.#unrenderedBytes > highWaterBytes) {
      this.#isPaused = true;
      this.#send({ type: 'pause' });
    }
  }

  #scheduleReconnect(): void {
    if (this.#socket) return;
    const delay = reconnectDelaysMs[Math.min(this.#attempt, reconnectDelaysMs.length - 1)]!;
    this.#attempt++;
    this.#onState({ kind: 'reconnecting', attempt: this.#attempt });
    this.#reconnectTimer = window.setTimeout(() => this.connect(), delay);
  }

  #forgetSession(): void {
    this.#sessionId = undefined;
    this.#offset = undefined;
    sessionStorage.removeItem(sessionKey);
  }

  #send(message: ClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }
}

/** Whether the runner answers this page's token with 401 (it is not the runner that gave it). */
async function isTokenRefused(): Promise<boolean> {
  try {
    return (await fetch('/api/status', { headers: authHeaders(), cache: 'no-store' })).status === 401;
  } catch {
    return false;
  }
}
