import { describe, expect, inject, it } from 'vitest';
import { findExercise } from '../../exercises/index.js';
import { gradeInSandbox } from '../../runner/src/grade-and-record.js';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import type { ImageFacts } from '../../runner/src/grader/types.js';
import { sandboxLayerFolders } from '../../runner/src/sandbox/layer-folders.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import { useSandboxImage } from '../support/sandbox-image.js';

/**
 * An image without layers (FROM scratch and config alone) is one a learner can build, and one
 * no engine will `docker save` ("empty export - not implemented"). It is graded like any other
 * image: its config and history read from the layer folders or, where there are none, from the
 * API, the same either way, and a verdict, never a crash or an engine error.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const tag = `ll-layerless:${runId}`;


const dockerfile = `FROM scratch
LABEL org.opencontainers.image.authors="Ada Lovelace <ada@example.com>"
USER 1000
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/greet"]
CMD ["world"]
`;

const engines = useSandboxImage({ instance, runId, tag, dockerfile });

/** What a check can judge, leaving out only where the facts came from. */
const judged = ({ archiveLayout: _from, probes: _probes, ...facts }: ImageFacts) => ({ ...facts, files: [...facts.files] });

describe('an image without layers', () => {
  it('is one the engine itself refuses to save', async () => {
    await expect(engines.nested.docker.getImage(tag).get()).rejects.toThrow(/empty export/);
  });

  it('has the same facts from the layer folders as from the API, its config and every history row', async () => {
    const fromFolders = (await gatherImageFacts(engines.nested, tag, { layerFolders: sandboxLayerFolders(async () => engines.host, instance) }))!;
    const fromApi = (await gatherImageFacts(engines.nested, tag))!;
    expect(fromApi.archiveLayout).toBeUndefined();
    expect(fromFolders.archiveLayout).toBe('oci');
    expect(judged(fromApi)).toEqual(judged(fromFolders));
    expect(fromApi.layers).toEqual([]);
    expect(fromApi.files.size).toBe(0);
    expect(fromApi.config).toMatchObject({
      user: '1000',
      entrypoint: ['/usr/local/bin/greet'],
      cmd: ['world'],
      exposedPorts: ['8080/tcp'],
      labels: { 'org.opencontainers.image.authors': 'Ada Lovelace <ada@example.com>' },
    });
    expect(fromApi.history.map((row) => [row.createdBy, row.isEmptyLayer])).toEqual([
      ['LABEL org.opencontainers.image.authors=Ada Lovelace <ada@example.com>', true],
      ['USER 1000', true],
      ['EXPOSE map[8080/tcp:{}]', true],
      ['ENTRYPOINT ["/usr/local/bin/greet"]', true],
      ['CMD ["world"]', true],
    ]);
  });

  it('gets a verdict on lesson 3: the config checks pass, the checks that need greet fail', async () => {
    const run = await gradeInSandbox({ exercise: findExercise('lesson-3'), instance, image: tag, labels: { [testLabel]: runId } });
    const statuses = Object.fromEntries(run.checks.map((check) => [check.id, check.status]));
    expect(statuses).toMatchObject({ 'image-exists': 'pass', 'authors-label': 'pass', 'port-8080': 'pass', 'runs-without-args': 'fail', 'runs-with-args': 'fail' });
    expect(run.passed).toBe(false);
  });
});
