/**
 * The exit-code table and the one error class for mistakes a person can fix.
 * Only cli/main.ts turns these into process exits.
 */
export const ExitCode = {
  ok: 0,
  /** Checks ran and at least one failed. */
  checksFailed: 1,
  /** The command line was wrong: unknown command, flag or exercise. */
  usage: 2,
  /** The machine is not ready: Docker not answering, a port taken, a missing tool. */
  environment: 3,
  /** A bug in Layerlab. */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake the learner can fix: what went wrong, and what to do next. */
export class UserError extends Error {
  override readonly name = 'UserError';

  constructor(
    message: string,
    readonly nextStep: string,
    readonly exitCode: ExitCodeValue = ExitCode.environment,
  ) {
    super(message);
  }
}

export function usageError(message: string, nextStep: string): UserError {
  return new UserError(message, nextStep, ExitCode.usage);
}

export function environmentError(message: string, nextStep: string): UserError {
  return new UserError(message, nextStep, ExitCode.environment);
}

/** The message of anything thrown, for logs and wrapped errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
