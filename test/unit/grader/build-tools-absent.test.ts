import { describe, expect, it } from 'vitest';
import { buildToolsAbsent } from '../../../runner/src/grader/kinds/build-tools-absent.js';
import type { BuildToolFinding } from '../../../runner/src/grader/types.js';
import { facts, layer, tool } from './builders.js';

// The whole outcome a learner reads when build tools ship: which families, how many files, the
// layers that added and hid them, and the evidence list in reading order.

const layers = [layer(0, { instruction: 'FROM scratch' }), layer(1, { instruction: 'RUN apt-get install golang-go make' }), layer(2, { instruction: 'RUN rm -rf /usr/lib/go' })];
const goTool = (name: string, overrides: Partial<BuildToolFinding> = {}) =>
  tool({ family: 'go', tool: name, path: `/usr/lib/go/bin/${name}`, addedInLayer: 1, evidence: `named ${name}`, ...overrides });

describe('build-tools-absent: parameters', () => {
  it('takes one or more known families and nothing else', () => {
    const accepts = (value: unknown) => buildToolsAbsent.params.safeParse(value).success;
    expect(accepts({ families: ['go'] })).toBe(true);
    expect(accepts({ families: [] })).toBe(false);
    expect(accepts({ families: ['rust'] })).toBe(false);
    expect(accepts({ families: ['go'], extra: true })).toBe(false);
  });
});

describe('build-tools-absent: verdicts', () => {
  it('names the families it looked for, in the order asked', () => {
    expect(buildToolsAbsent.evaluate(facts({ layers }), { families: ['make', 'c-compiler', 'git'] })).toEqual({
      status: 'pass',
      expected: 'none of make, the C compiler (gcc), git',
      actual: 'none found',
    });
  });

  it('skips, naming every unreadable layer, when nothing was found but not every layer was read', () => {
    const image = facts({ layers: [layer(0, { instruction: 'FROM scratch', unreadable: 'it is compressed with zstd' }), layers[1]!, layer(2, { unreadable: 'it is truncated' })] });
    expect(buildToolsAbsent.evaluate(image, { families: ['go'] })).toEqual({
      status: 'skip',
      expected: 'none of the Go toolchain',
      actual: 'unknown',
      message: 'Not every layer could be checked: layer 1 (`FROM scratch`) could not be read: it is compressed with zstd; layer 3 could not be read: it is truncated.',
    });
  });

  it('fails one tool, naming its file, evidence and layer', () => {
    const image = facts({ layers, buildTools: [tool({ family: 'make', tool: 'make', path: '/usr/bin/make', addedInLayer: 1, evidence: 'named make' })] });
    expect(buildToolsAbsent.evaluate(image, { families: ['go', 'make'] })).toEqual({
      status: 'fail',
      expected: 'none of the Go toolchain, make',
      actual: 'make (1 file)',
      message: 'Make ships (1 file): /usr/bin/make (named make); added by layer 2 (`RUN apt-get install golang-go make`).',
      evidence: [{ heading: 'Make: added by layer 2 (`RUN apt-get install golang-go make`)', layer: 1, items: ['/usr/bin/make (named make)'] }],
    });
  });

  it('lists well-known tools first, then the rest by path, and counts what it does not show', () => {
    const found = [goTool('zzz'), goTool('aaa'), goTool('git', { family: 'go' }), goTool('gofmt'), goTool('go'), goTool('vet')];
    const outcome = buildToolsAbsent.evaluate(facts({ layers, buildTools: found }), { families: ['go'] });
    expect(outcome).toMatchObject({
      status: 'fail',
      actual: 'the Go toolchain (6 files)',
      message:
        'The Go toolchain ships (6 files): /usr/lib/go/bin/go (named go), /usr/lib/go/bin/gofmt (named gofmt), /usr/lib/go/bin/git (named git) and 3 more; all added by layer 2 (`RUN apt-get install golang-go make`).',
    });
    expect(outcome.status === 'fail' && outcome.evidence).toEqual([
      {
        heading: 'The Go toolchain: all added by layer 2 (`RUN apt-get install golang-go make`)',
        layer: 1,
        items: ['go', 'gofmt', 'git', 'aaa', 'vet', 'zzz'].map((name) => `/usr/lib/go/bin/${name} (named ${name})`),
      },
    ]);
  });

  it('shows exactly three paths without a count', () => {
    const outcome = buildToolsAbsent.evaluate(facts({ layers, buildTools: [goTool('compile'), goTool('link'), goTool('go')] }), { families: ['go'] });
    expect(outcome.message).toBe(
      'The Go toolchain ships (3 files): /usr/lib/go/bin/go (named go), /usr/lib/go/bin/compile (named compile), /usr/lib/go/bin/link (named link); all added by layer 2 (`RUN apt-get install golang-go make`).',
    );
  });

  it('says how a later layer hid a tool that still ships, hidden ones first', () => {
    const how = (hiddenBy: 'whiteout' | 'opaque-directory' | 'replaced' | undefined) =>
      buildToolsAbsent.evaluate(facts({ layers, buildTools: [goTool('go'), goTool('gofmt', { hiddenInLayer: 2, hiddenBy })] }), { families: ['go'] }).message;
    const visible = '/usr/lib/go/bin/go (named go); added by layer 2 (`RUN apt-get install golang-go make`).';
    const hidden = (words: string) =>
      `The Go toolchain ships (2 files): /usr/lib/go/bin/gofmt (named gofmt); added by layer 2 (\`RUN apt-get install golang-go make\`), ${words} by layer 3 (\`RUN rm -rf /usr/lib/go\`), yet still shipped in layer 2. ${visible}`;
    expect(how('whiteout')).toBe(hidden('deleted'));
    expect(how(undefined)).toBe(hidden('deleted'));
    expect(how('opaque-directory')).toBe(hidden('hidden (its directory was emptied)'));
    expect(how('replaced')).toBe(hidden('replaced'));
  });

  it('keeps hidden tools first whatever order they were found in', () => {
    const outcome = buildToolsAbsent.evaluate(facts({ layers, buildTools: [goTool('gofmt', { hiddenInLayer: 2 }), goTool('go')] }), { families: ['go'] });
    expect(outcome.message).toMatch(/^The Go toolchain ships \(2 files\): \/usr\/lib\/go\/bin\/gofmt .*yet still shipped in layer 2\. \/usr\/lib\/go\/bin\/go /);
    expect(outcome.status === 'fail' && outcome.evidence?.map((group) => group.heading)).toEqual([
      'The Go toolchain: added by layer 2 (`RUN apt-get install golang-go make`), deleted by layer 3 (`RUN rm -rf /usr/lib/go`), yet still shipped in layer 2',
      'The Go toolchain: added by layer 2 (`RUN apt-get install golang-go make`)',
    ]);
  });

  it('gives a line per family, in the order asked, and adds the layers it could not read', () => {
    const image = facts({
      layers: [layer(0, { unreadable: 'it is compressed with zstd' }), ...layers.slice(1)],
      buildTools: [tool({ family: 'git', tool: 'git', path: '/usr/bin/git', addedInLayer: 1 }), goTool('go'), goTool('gofmt')],
    });
    expect(buildToolsAbsent.evaluate(image, { families: ['go', 'git'] })).toMatchObject({
      status: 'fail',
      actual: 'the Go toolchain (2 files), git (1 file)',
      message: [
        'The Go toolchain ships (2 files): /usr/lib/go/bin/go (named go), /usr/lib/go/bin/gofmt (named gofmt); all added by layer 2 (`RUN apt-get install golang-go make`).',
        'Git ships (1 file): /usr/bin/git (test evidence); added by layer 2 (`RUN apt-get install golang-go make`).',
        'Also, layer 1 could not be read: it is compressed with zstd.',
      ].join('\n'),
    });
  });
});
