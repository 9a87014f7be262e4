import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveInstance, type Instance } from '../../runner/src/settings.js';

/**
 * The environment that points Layerlab at a test sandbox of its own: its own instance name
 * (so its own container and volumes) and its own data folder, never the learner's.
 */
export function testSandboxEnv(runId: string, suffix: string): Record<string, string> {
  return {
    LAYERLAB_INSTANCE: `ll-test-${runId}-${suffix}`,
    LAYERLAB_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'll-test-')),
    LAYERLAB_TEST_RUN: runId,
  };
}

export function instanceFor(env: Record<string, string>): Instance {
  return resolveInstance({ ...process.env, ...env });
}
