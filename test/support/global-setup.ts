import { rm } from 'node:fs/promises';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { terminalProgress } from '../../runner/src/cli/terminal-progress.js';
import { connectEngine } from '../../runner/src/engine.js';
import { UserError } from '../../runner/src/errors.js';
import { bringUpSandbox, resetSandbox } from '../../runner/src/sandbox/sandbox.js';
import { removeTestObjects } from './cleanup.js';
import { instanceFor, testSandboxEnv } from './sandbox-env.js';
import { newTestRunId } from './test-run.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run id every object a test creates is labelled with. */
    testRunId: string;
    /** Environment that points `course` and the core at the shared test sandbox. */
    sandboxEnv: Record<string, string>;
  }
}

/**
 * Once per run: remove leftovers of dead runs, build the base images if needed (shared with
 * the learner's, never rebuilt when current), and start one test sandbox for all files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const progress = terminalProgress(process.stderr);
  let engine;
  try {
    engine = await connectEngine();
  } catch (error) {
    if (error instanceof UserError) throw new Error(`${error.message}\n${error.nextStep}\nThe integration tests need a running Docker engine.`);
    throw error;
  }
  const leftovers = await removeTestObjects(engine.docker);
  if (leftovers.length) progress.note(`Removed leftovers of earlier test runs: ${leftovers.join(', ')}`);

  const runId = process.env.LAYERLAB_TEST_RUN ?? newTestRunId();
  const sandboxEnv = testSandboxEnv(runId, 'shared');
  const instance = instanceFor(sandboxEnv);
  await bringUpSandbox(engine, instance, progress, { limits: { memoryBytes: 3 * 1024 ** 3, cpus: 2, pids: 4096 } });
  project.provide('testRunId', runId);
  project.provide('sandboxEnv', sandboxEnv);

  return async () => {
    await resetSandbox(engine, instance, progress);
    await removeTestObjects(engine.docker, runId);
    await rm(sandboxEnv.LAYERLAB_DATA_DIR!, { recursive: true, force: true });
  };
}
