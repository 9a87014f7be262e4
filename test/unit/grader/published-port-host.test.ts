import { describe, expect, it } from 'vitest';
import { publishedPortHostOf } from '../../../runner/src/grader/facts/published-port-host.js';

describe('where a published port can be dialled', () => {
  it("is the engine's host for a tcp engine, and the loopback address for a local socket", () => {
    expect(publishedPortHostOf('tcp://ci-docker:2375')).toBe('ci-docker');
    expect(publishedPortHostOf('tcp://[::1]:2375')).toBe('::1');
    expect(publishedPortHostOf('unix:///var/run/docker.sock')).toBe('127.0.0.1');
  });
});
