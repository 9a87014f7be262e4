import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesDir } from '../../../runner/src/project-root.js';
import { learnerDroppedCapabilities } from '../../../runner/src/sandbox/host-config.js';
import { asLearner, learnerWrapper } from '../../../runner/src/sandbox/learner-shell.js';
import { terminalsTool } from '../../../runner/src/terminal/sandbox-processes.js';

describe('the learner wrapper', () => {
  it('drops exactly the capabilities host-config.ts names, as its last step', async () => {
    const script = await readFile(path.join(imagesDir, 'sandbox', 'learner.sh'), 'utf8');
    const lastLine = script.trim().split('\n').at(-1)!;
    const dropped = learnerDroppedCapabilities.map((capability) => `-${capability.toLowerCase()}`).join(',');
    expect(lastLine).toBe(`exec setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=${dropped} -- "$@"`);
  });

  it('is where the sandbox image installs it, and wraps any command', async () => {
    const dockerfile = await readFile(path.join(imagesDir, 'sandbox', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`COPY learner.sh ${learnerWrapper}`);
    expect(dockerfile).toContain(`COPY terminals.sh ${terminalsTool}`);
    expect(asLearner(['bash', '-c', 'id'])).toEqual([learnerWrapper, 'bash', '-c', 'id']);
  });
});
