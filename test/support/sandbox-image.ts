import { afterAll, beforeAll } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import type { Instance } from '../../runner/src/settings.js';
import { buildInSandbox } from './build-image.js';
import { removeTestObjects } from './cleanup.js';
import { testLabel } from './test-run.js';

export interface SandboxImageEngines {
  /** This machine's engine, which runs the sandbox. */
  host: Engine;
  /** The sandbox's own engine, which holds the image. */
  nested: Engine;
}

/**
 * For the test file that calls it: builds one image in the test sandbox from a Dockerfile
 * alone, with BuildKit as a learner does, before its tests, and removes what this run made on
 * the sandbox's engine after them. The engines are there once the tests run.
 */
export function useSandboxImage(options: { instance: Instance; runId: string; tag: string; dockerfile: string }): SandboxImageEngines {
  const engines = {} as SandboxImageEngines;
  beforeAll(async () => {
    engines.host = await connectEngine();
    engines.nested = await connectNestedEngine(options.instance);
    const context = new Map([['Dockerfile', Buffer.from(options.dockerfile)]]);
    await buildInSandbox(engines.host, options.instance, { context, tag: options.tag, labels: { [testLabel]: options.runId } });
  });
  afterAll(async () => {
    if (engines.nested) await removeTestObjects(engines.nested.docker, options.runId);
  });
  return engines;
}
