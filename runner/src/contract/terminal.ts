/**
 * The terminal WebSocket, as both ends see it. Binary frames carry terminal bytes (shell
 * output from the server, keystrokes from the browser); text frames carry one JSON control
 * message each. runner/src/terminal/protocol.ts validates these shapes on arrival.
 *
 * A socket starts with the browser's `attach`; the server answers `attached` and then
 * streams output. Byte offsets count every output byte the shell produced since it started,
 * so a browser that lost its socket can ask for exactly what it has not seen yet.
 */

/** Path of the terminal socket on the local server. */
export const terminalSocketPath = '/api/terminal';

/**
 * The largest frame the server reads. A larger one closes the socket with 1009 (message too
 * big); the page never sends one, because it splits pastes into `input` chunks.
 */
export const maxFrameBytes = 2 * 1024 * 1024;

/**
 * The page sends input (a paste of any size) in binary frames of at most this many bytes,
 * and holds the rest while more than `inputBufferedHighWaterBytes` wait in its socket: the
 * runner reads the socket only as fast as the shell takes input, so the paste waits in the
 * page, in pieces the runner always accepts.
 */
export const inputChunkBytes = 64 * 1024;
export const inputBufferedHighWaterBytes = 256 * 1024;

/** Bounds of a terminal size the server accepts. */
export const terminalSizeLimits = { minCols: 2, maxCols: 1000, minRows: 2, maxRows: 500 } as const;

export type ClientMessage =
  | {
      type: 'attach';
      /** The session to reattach to; absent for a new shell. */
      sessionId?: string;
      /** Output bytes the browser already shows; the server sends only what follows. Absent after a reload. */
      offset?: number;
      cols: number;
      rows: number;
    }
  /** Keystrokes or pasted text (binary frames carry the same). */
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  /** The browser's terminal has too much unprocessed output: stop reading the shell. */
  | { type: 'pause' }
  | { type: 'resume' };

export type ServerMessage =
  | {
      type: 'attached';
      sessionId: string;
      /** True when this socket started a new shell. */
      isNew: boolean;
      /**
       * Offset of the first byte that follows. When `reset` is true the browser must clear
       * its screen first: what it showed is older than the replay buffer holds.
       */
      offset: number;
      reset: boolean;
    }
  /** The shell ended (the learner typed exit, or it was killed). */
  | { type: 'exit'; code: number | null; signal: number | null }
  /** Another tab attached to this session; this socket is closed next. */
  | { type: 'taken-over' }
  /** Something the learner can act on, in one line, then what to do. */
  | { type: 'error'; message: string; nextStep: string };

/** WebSocket close codes the browser acts on (4000–4999 are for applications). */
export const closeCodes = {
  /** The shell ended; start a new one only when the learner asks. */
  shellExited: 4000,
  /** Another tab took this session over; do not reconnect on your own. */
  takenOver: 4001,
  /** The attach failed (sandbox down, bad message); the error message said why. */
  attachFailed: 4002,
  /** The server is stopping (it may come back: the page reconnects). */
  serverStopping: 4003,
  /** The runner already holds as many terminals as it runs at once; the error message said so. */
  tooManyTerminals: 4004,
} as const;

/**
 * Closes after which the page does not reconnect on its own: the learner has to act first.
 * Every other close (a dropped network, a stopping or restarted runner, 1006) is followed by
 * reconnecting with backoff, to the same shell when the runner still holds it.
 */
export const finalCloseCodes: readonly number[] = [closeCodes.shellExited, closeCodes.takenOver, closeCodes.attachFailed, closeCodes.tooManyTerminals];
