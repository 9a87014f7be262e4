/**
 * How long-running core work reports itself. The CLI draws it on a terminal; tests and the
 * server pass their own. `detail` lines are the step's own output (build steps, downloads).
 */
export interface Progress {
  step<T>(title: string, run: (detail: (line: string) => void) => Promise<T>): Promise<T>;
  /** A finished fact worth telling ("Sandbox is already running"). */
  note(line: string): void;
}

/** Reports nothing: for tests and callers that only want the result. */
export const silentProgress: Progress = {
  step: (_title, run) => run(() => {}),
  note: () => {},
};
