import { z } from 'zod';

/**
 * The terminal WebSocket's messages, defined once for both ends (the browser imports this
 * file too). Binary frames carry terminal bytes: shell output from the server, keystrokes
 * from the browser. Text frames carry one JSON control message each, validated on arrival.
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

const size = {
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(2).max(500),
};

export const clientMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('attach'),
      /** The session to reattach to; absent for a new shell. */
      sessionId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional(),
      /** Output bytes the browser already shows; the server sends only what follows. Absent after a reload. */
      offset: z.number().int().min(0).optional(),
      ...size,
    })
    .strict(),
  /** Keystrokes or pasted text (binary frames carry the same). */
  z.object({ type: z.literal('input'), data: z.string().max(1 << 20) }).strict(),
  z.object({ type: z.literal('resize'), ...size }).strict(),
  /** The browser's terminal has too much unprocessed output: stop reading the shell. */
  z.object({ type: z.literal('pause') }).strict(),
  z.object({ type: z.literal('resume') }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

export const serverMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('attached'),
      sessionId: z.string(),
      /** True when this socket started a new shell. */
      isNew: z.boolean(),
      /**
       * Offset of the first byte that follows. When `reset` is true the browser must clear
       * its screen first: what it showed is older than the replay buffer holds.
       */
      offset: z.number().int().min(0),
      reset: z.boolean(),
    })
    .strict(),
  /** The shell ended (the learner typed exit, or it was killed). */
  z.object({ type: z.literal('exit'), code: z.number().int().nullable(), signal: z.number().int().nullable() }).strict(),
  /** Another tab attached to this session; this socket is closed next. */
  z.object({ type: z.literal('taken-over') }).strict(),
  /** Something the learner can act on, in one line, then what to do. */
  z.object({ type: z.literal('error'), message: z.string(), nextStep: z.string() }).strict(),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

/** WebSocket close codes the browser acts on (4000–4999 are for applications). */
export const closeCodes = {
  /** The shell ended; start a new one only when the learner asks. */
  shellExited: 4000,
  /** Another tab took this session over; do not reconnect on your own. */
  takenOver: 4001,
  /** The attach failed (sandbox down, bad message); the error message said why. */
  attachFailed: 4002,
  /** The server is stopping. */
  serverStopping: 4003,
} as const;

/** Turns a text frame into a message, or explains in one line why it is not one. */
export function parseClientMessage(text: string): { message: ClientMessage } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'a text frame that is not JSON' };
  }
  const parsed = clientMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `${issue.path.join('.') || 'message'}: ${issue.message}` };
  }
  return { message: parsed.data };
}
