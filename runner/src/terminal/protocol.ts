import { z } from 'zod';
import { terminalSizeLimits, type ClientMessage, type ServerMessage } from '../contract/terminal.js';

export { closeCodes, maxFrameBytes, terminalSocketPath, type ClientMessage, type ServerMessage } from '../contract/terminal.js';

/**
 * Validation of the terminal WebSocket's messages on arrival. Their shapes (and what the
 * frames carry) are defined once, in the runner–page contract (contract/terminal.ts); the
 * schemas below must match them exactly, which the compiler checks at the end.
 */

const size = {
  cols: z.number().int().min(terminalSizeLimits.minCols).max(terminalSizeLimits.maxCols),
  rows: z.number().int().min(terminalSizeLimits.minRows).max(terminalSizeLimits.maxRows),
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

// Compile-time proof that the schemas accept exactly the contract's shapes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<z.infer<typeof clientMessage>, ClientMessage>;
true satisfies Same<z.infer<typeof serverMessage>, ServerMessage>;

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
