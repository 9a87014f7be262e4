import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../runner/src/engine.js';
import { findPublishedPortHost } from '../../../runner/src/grader/facts/published-port-host.js';

const engineAt = (address: string) => ({ address }) as Engine;

describe('where a published port can be dialled', () => {
  it('is the engine\'s host for a tcp engine, and the loopback address for a local socket', async () => {
    expect(await findPublishedPortHost(engineAt('tcp://ci-docker:2375'))).toBe('ci-docker');
    expect(await findPublishedPortHost(engineAt('tcp://[::1]:2375'))).toBe('::1');
    expect(await findPublishedPortHost(engineAt('unix:///var/run/docker.sock'))).toBe('127.0.0.1');
  });
});
