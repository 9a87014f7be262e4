import { describe, expect, inject, it } from 'vitest';
import { connectEngine, isNotFound } from '../../runner/src/engine.js';
import { removeTestObjects } from '../support/cleanup.js';
import { testLabel } from '../support/test-run.js';

describe('removeTestObjects', () => {
  it('removes a run\'s fixtures but leaves the sandbox its test files share', async () => {
    const { docker } = await connectEngine();
    const runId = inject('testRunId');
    const fixture = `ll-cleanup-fixture-${runId}`;
    const storage = `ll-cleanup-storage-${runId}`;
    await docker.createVolume({ Name: fixture, Labels: { [testLabel]: runId } });
    await docker.createVolume({ Name: storage, Labels: { [testLabel]: runId, 'layerlab.role': 'sandbox-storage' } });
    try {
      const removed = await removeTestObjects(docker, runId);
      expect(removed).toContain(`volume ${fixture}`);
      expect(removed.join()).not.toContain('-sandbox');
      await expect(docker.getVolume(fixture).inspect()).rejects.toSatisfy(isNotFound);
      expect((await docker.getVolume(storage).inspect()).Name).toBe(storage);
    } finally {
      await docker.getVolume(storage).remove();
    }
  });
});
