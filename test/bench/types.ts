/** One measured number, as written to bench/latest.json. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

/**
 * A group of measurements. `run` gets the shared bench context and returns its results;
 * it must clean up what it creates. Adding one means a file here and a line in suites.ts.
 */
export interface BenchSuite {
  name: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

export interface BenchContext {
  /** Environment pointing the core and `course` at the bench's own sandbox. */
  sandboxEnv: Record<string, string>;
  /** Label value for everything the bench creates (`layerlab.test`). */
  runId: string;
  log(line: string): void;
}
