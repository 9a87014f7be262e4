import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildToolsAbsent } from '../../../runner/src/grader/kinds/build-tools-absent.js';
import { fileRecoveredFromLayer } from '../../../runner/src/grader/kinds/file-recovered-from-layer.js';
import { checkKinds } from '../../../runner/src/grader/kinds/index.js';
import type { BuildToolFinding, FileFacts, ReferenceFileFacts } from '../../../runner/src/grader/types.js';
import { facts, layer, tool } from './builders.js';

// Gaps the mutation run showed: each test here failed against a mutant that survived the others.

describe('the kind registry', () => {
  it('names every kind the exercises can use', () => {
    expect(Object.keys(checkKinds).sort()).toEqual([
      'adds-only',
      'base-named-by-digest',
      'build-tools-absent',
      'computed-in-build',
      'copies-context',
      'exec-form',
      'file-contains',
      'file-recovered-from-layer',
      'files-absent',
      'files-present',
      'http-responds',
      'label-equals',
      'layer-not-shipped',
      'max-layers',
      'max-size',
      'no-secret',
      'path-never-in-layers',
      'pipe-failures-fail-the-build',
      'port-exposed',
      'run-output',
      'runs-as-non-root',
      'shared-libraries-resolve',
      'shares-base-layers',
      'step-stays-cached',
    ]);
  });
});

describe('build-tools-absent: ranking and order', () => {
  const layers = [layer(0), layer(1, { instruction: 'RUN apt-get install gcc' }), layer(2, { instruction: 'RUN rm -rf /usr/lib/gcc' }), layer(3, { instruction: 'RUN rm /x' })];
  const cTool = (name: string, overrides: Partial<BuildToolFinding> = {}) => tool({ family: 'c-compiler', tool: name, path: `/usr/lib/${name}`, addedInLayer: 1, evidence: name, ...overrides });

  it('lists the tools a learner knows by name in the order go, gofmt, compile, link, gcc, cc1, make, git', () => {
    const names = ['git', 'make', 'cc1', 'gcc', 'link', 'compile', 'gofmt', 'go', 'aaa'];
    const outcome = buildToolsAbsent.evaluate(facts({ layers, buildTools: names.map((name) => cTool(name)) }), { families: ['c-compiler'] });
    expect(outcome.status === 'fail' && outcome.evidence?.[0]?.items).toEqual(['go', 'gofmt', 'compile', 'link', 'gcc', 'cc1', 'make', 'git', 'aaa'].map((name) => `/usr/lib/${name} (${name})`));
  });

  it('puts every hidden group before every visible one, whatever order they were found in', () => {
    const found = [cTool('v1', { addedInLayer: 1 }), cTool('h1', { addedInLayer: 1, hiddenInLayer: 2 }), cTool('v2', { addedInLayer: 2 }), cTool('h2', { addedInLayer: 1, hiddenInLayer: 3 })];
    const message = buildToolsAbsent.evaluate(facts({ layers, buildTools: found }), { families: ['c-compiler'] }).message ?? '';
    const order = ['h1', 'h2', 'v1', 'v2'].map((name) => message.indexOf(`/usr/lib/${name} `));
    expect(order.every((at) => at > 0)).toBe(true);
    expect(Math.max(order[0]!, order[1]!)).toBeLessThan(Math.min(order[2]!, order[3]!));
  });
});

describe('file-recovered-from-layer: gaps', () => {
  const madeBy = ['RUN a', 'RUN b'];
  const params = { path: '/out/code.txt', from: { image: 'vault', path: '/vault/code.txt', madeBy } };
  const reference = (content: Buffer): ReferenceFileFacts => ({
    image: 'vault',
    path: '/vault/code.txt',
    isImagePresent: true,
    layerCount: 2,
    layerInstructions: madeBy,
    versions: [{ layer: 0, diffId: '', layerFiles: [], type: 'file', sizeBytes: content.length, content }],
    isVisible: false,
  });
  const copy = (content: Buffer): FileFacts => ({ path: 'out/code.txt', type: 'file', sizeBytes: content.length, mode: 0o644, layer: 0, content });

  it('skips when no reference file was read at all', () => {
    expect(fileRecoveredFromLayer.evaluate(facts({ probes: {} }, [copy(Buffer.from('x'))]), params)).toMatchObject({ status: 'skip', actual: 'not read' });
  });

  it('fingerprints the bytes as they are, not as UTF-8 text', () => {
    const bytes = Buffer.from([0x63, 0xe9, 0xff, 0x41]);
    const outcome = fileRecoveredFromLayer.evaluate(facts({ probes: { referenceFiles: [reference(bytes)] } }, [copy(bytes)]), params);
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    expect(outcome).toMatchObject({ status: 'pass', actual: `the same bytes as /vault/code.txt in layer 1 of vault (sha256 ${digest}…, 4 B)` });
  });
});
