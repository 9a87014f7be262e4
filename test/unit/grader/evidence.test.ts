import { describe, expect, it } from 'vitest';
import { describeLayer } from '../../../runner/src/grader/describe.js';
import { buildToolsAbsent } from '../../../runner/src/grader/kinds/build-tools-absent.js';
import { pathNeverInLayers } from '../../../runner/src/grader/kinds/path-never-in-layers.js';
import { facts, layer, tool } from './builders.js';

// The Check panel lists these: grouped by layer, every item, in reading order.
describe('evidence behind a failed check', () => {
  it('groups build tools by the layers that add and hide them, listing every file', () => {
    const tools = Array.from({ length: 7 }, (_, index) => tool({ family: 'go', tool: `t${index}`, path: `/go/t${index}`, addedInLayer: 1, evidence: 'named t' }));
    const hidden = tool({ family: 'go', tool: 'go', path: '/opt/go', addedInLayer: 0, hiddenInLayer: 1, hiddenBy: 'whiteout', evidence: 'Go build info names cmd/go' });
    const image = facts({
      layers: [layer(0, { instruction: 'COPY go /opt/go' }), layer(1, { instruction: 'RUN apt-get install golang-go' })],
      buildTools: [...tools, hidden, tool({ family: 'make', tool: 'make', path: '/usr/bin/make', addedInLayer: 1, evidence: 'named make' })],
    });
    const outcome = buildToolsAbsent.evaluate(image, { families: ['go', 'make'] });
    expect(outcome.status).toBe('fail');
    const evidence = outcome.status === 'fail' ? outcome.evidence : undefined;
    expect(evidence?.map((group) => [group.layer, group.heading, group.items.length])).toEqual([
      [1, 'The Go toolchain: all added by layer 2 (`RUN apt-get install golang-go`)', 7],
      [0, 'The Go toolchain: added by layer 1 (`COPY go /opt/go`), deleted by layer 2 (`RUN apt-get install golang-go`), yet still shipped in layer 1', 1],
      [1, 'Make: added by layer 2 (`RUN apt-get install golang-go`)', 1],
    ]);
    expect(evidence?.[0]?.items[0]).toBe('/go/t0 (named t)');
  });

  it('groups paths found in layers by where they are and whether a container sees them', () => {
    const numbers = (index: number, path: string) => layer(index, { instruction: 'COPY . /srv', entries: [{ path, type: 'file', sizeBytes: 2000 }] });
    const image = facts({ layers: [numbers(0, 'srv/a.txt'), numbers(1, 'srv/b.txt'), layer(2, { instruction: 'RUN rm /srv/a.txt', whiteouts: ['srv/a.txt'] })] });
    const outcome = pathNeverInLayers.evaluate(image, { paths: ['/srv/*.txt'] });
    const evidence = outcome.status === 'fail' ? outcome.evidence : undefined;
    expect(evidence).toEqual([
      { layer: 0, heading: 'Layer 1 (`COPY . /srv`): layer 3 (`RUN rm /srv/a.txt`) deletes these, but their bytes still ship', items: ['/srv/a.txt (2 kB)'] },
      { layer: 1, heading: 'Layer 2 (`COPY . /srv`): a container still sees these', items: ['/srv/b.txt (2 kB)'] },
    ]);
  });

  it('names an imported base layer in words, not as its history row', () => {
    expect(describeLayer(layer(0, { instruction: 'Imported from -' }), 0)).toBe('layer 1 (an imported base filesystem)');
  });
});
