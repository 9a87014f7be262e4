import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { connectEngine } from '../../runner/src/engine.js';
import { sandboxAddress } from '../../runner/src/grade-and-record.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * What every learner's check is given (grade-and-record.ts sandboxAddress): the sandbox's inner engine publishes ports inside
 * the sandbox container, so they are dialled at the sandbox's address on the engine that
 * runs it. Against the real engines, with a real published port.
 */
describe('where a port published in the sandbox can be dialled', () => {
  it('is the sandbox container\'s own address, and a port published there answers from here', async () => {
    const instance = instanceFor(inject('sandboxEnv'));
    const host = await connectEngine();
    const nested = await connectNestedEngine(instance);
    const sandbox = await host.docker.getContainer(instance.containerName).inspect();
    const sandboxAddresses = Object.values(sandbox.NetworkSettings.Networks ?? {}).map((network) => network.IPAddress).filter(Boolean);
    expect(sandboxAddresses.length).toBeGreaterThan(0);

    const dialHost = await sandboxAddress(instance, host);
    expect(sandboxAddresses).toContain(dialHost);

    const container = await nested.docker.createContainer({
      Image: 'busybox:latest',
      Cmd: ['sh', '-c', 'mkdir /www && echo "published-$((6*7))" > /www/index.html && exec httpd -f -p 8080 -h /www'],
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostPort: '' }] } },
      Labels: { [testLabel]: inject('testRunId') },
    });
    try {
      await container.start();
      const binding = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0];
      expect(binding?.HostPort).toMatch(/^\d+$/);
      // httpd starts a moment after the container; the test's timeout bounds the wait.
      let body: string | undefined;
      while (body === undefined) {
        body = await fetch(`http://${dialHost}:${binding!.HostPort}/`).then(
          (response) => response.text(),
          () => undefined,
        );
        if (body === undefined) await sleep(100);
      }
      expect(body).toBe('published-42\n');
    } finally {
      await container.remove({ force: true });
    }
  });
});
