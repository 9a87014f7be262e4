import { describe, expect, it } from 'vitest';
import { pathNeverInLayers } from '../../../runner/src/grader/kinds/path-never-in-layers.js';
import type { LayerFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// The whole outcome a learner reads: which layers hold the paths, how big they are, which later
// layer hides them (a whiteout, an emptied folder, a replacement) and the evidence list.

const file = (path: string, sizeBytes = 1000) => ({ path, type: 'file' as const, sizeBytes });
const folder = (path: string) => ({ path, type: 'directory' as const, sizeBytes: 0 });
const at = (index: number, instruction: string, overrides: Partial<LayerFacts> = {}) => layer(index, { instruction, ...overrides });
const judge = (layers: LayerFacts[], paths: string[]) => pathNeverInLayers.evaluate(facts({ layers }), { paths });

describe('path-never-in-layers: parameters', () => {
  it('takes one or more absolute paths or patterns, and says what it wants', () => {
    const parse = (value: unknown) => pathNeverInLayers.params.safeParse(value);
    expect(parse({ paths: ['/srv/*.txt', '/data'] }).success).toBe(true);
    expect(parse({ paths: [] }).success).toBe(false);
    expect(parse({ paths: ['/srv'], extra: 1 }).success).toBe(false);
    const relative = parse({ paths: ['srv/numbers.txt'] });
    expect(relative.success ? [] : relative.error.issues.map((issue) => issue.message)).toEqual(['must be an absolute path such as /srv/numbers.txt']);
  });
});

describe('path-never-in-layers: verdicts', () => {
  it('passes when no layer holds a path, counting the layers it read', () => {
    const layers = [at(0, 'FROM scratch', { entries: [file('srv/summary.txt')] }), at(1, 'RUN true', { entries: [folder('srv')] })];
    expect(judge(layers, ['/srv/numbers.txt', '/tmp'])).toEqual({ status: 'pass', expected: 'no layer holds /srv/numbers.txt, /tmp', actual: 'in none of 2 layers' });
  });

  it('skips, naming every unreadable layer and why, when it found nothing', () => {
    const layers = [at(0, 'FROM scratch', { unreadable: 'it is compressed with zstd' }), at(1, 'RUN true'), layer(2, { unreadable: 'it is truncated' })];
    expect(judge(layers, ['/srv'])).toEqual({
      status: 'skip',
      expected: 'no layer holds /srv',
      actual: 'unknown',
      message: 'Not every layer could be read: layer 1 (`FROM scratch`): it is compressed with zstd; layer 3: it is truncated.',
    });
  });

  it('fails a path a container still sees, even when another layer could not be read', () => {
    const layers = [at(0, 'COPY . /srv', { entries: [folder('srv'), file('srv/numbers.txt', 2500)] }), at(1, 'RUN true', { unreadable: 'it is truncated' })];
    expect(judge(layers, ['/srv/numbers.txt'])).toEqual({
      status: 'fail',
      expected: 'no layer holds /srv/numbers.txt',
      actual: 'in layer 1 (2.5 kB)',
      message: '/srv/numbers.txt (2.5 kB) is in layer 1 (`COPY . /srv`), and a container still sees it.',
      evidence: [{ heading: 'Layer 1 (`COPY . /srv`): a container still sees these', layer: 0, items: ['/srv/numbers.txt (2.5 kB)'] }],
    });
  });

  it('names the layer that deletes a path or the folder holding it', () => {
    const written = at(0, 'COPY . /srv', { entries: [file('srv/data/numbers.txt', 3000)] });
    const deleted = (whiteouts: string[]) => judge([written, at(1, 'RUN true'), at(2, 'RUN rm -r /srv', { whiteouts })], ['/srv/data/numbers.txt']);
    const outcome = {
      status: 'fail',
      expected: 'no layer holds /srv/data/numbers.txt',
      actual: 'in layer 1 (3 kB)',
      message: '/srv/data/numbers.txt (3 kB) is in layer 1 (`COPY . /srv`); layer 3 (`RUN rm -r /srv`) deletes it, so a container does not see it, but its bytes still ship in layer 1.',
      evidence: [{ heading: 'Layer 1 (`COPY . /srv`): layer 3 (`RUN rm -r /srv`) deletes these, but their bytes still ship', layer: 0, items: ['/srv/data/numbers.txt (3 kB)'] }],
    };
    expect(deleted(['srv/data/numbers.txt'])).toEqual(outcome);
    expect(deleted(['srv/data'])).toEqual(outcome);
    expect(deleted(['srv'])).toEqual(outcome);
    expect(deleted(['srv/other']).message).toContain('and a container still sees it.');
    expect(deleted(['srv/data/numbers']).message).toContain('and a container still sees it.');
  });

  it('counts a folder emptied above the path as hiding it, but not the emptied folder itself', () => {
    const written = at(0, 'COPY . /srv', { entries: [folder('srv'), file('srv/numbers.txt', 3000)] });
    const emptied = at(1, 'RUN rm -rf /srv && mkdir /srv', { opaqueDirectories: ['srv'] });
    expect(judge([written, emptied], ['/srv/numbers.txt']).message).toBe(
      '/srv/numbers.txt (3 kB) is in layer 1 (`COPY . /srv`); layer 2 (`RUN rm -rf /srv && mkdir /srv`) deletes it, so a container does not see it, but its bytes still ship in layer 1.',
    );
    expect(judge([written, emptied], ['/srv']).message).toBe('/srv (3 kB) is in layer 1 (`COPY . /srv`), and a container still sees it.');
  });

  it('counts a later file at the same path as hiding it, but not the same folder again or a layer below', () => {
    const replaced = judge([at(0, 'COPY a /x'), at(1, 'COPY x /srv/x', { entries: [file('srv/x', 10)] }), at(2, 'COPY y /srv/x', { entries: [file('srv/x', 20)] })], ['/srv/x']);
    expect(replaced).toMatchObject({ status: 'fail', actual: 'in layer 2, layer 3 (30 B)' });
    expect(replaced.message).toBe(
      '/srv/x (10 B) is in layer 2 (`COPY x /srv/x`); layer 3 (`COPY y /srv/x`) deletes it, so a container does not see it, but its bytes still ship in layer 2.\n/srv/x (20 B) is in layer 3 (`COPY y /srv/x`), and a container still sees it.',
    );
    const sameFolder = judge([at(0, 'COPY a /srv/', { entries: [folder('srv'), file('srv/a', 10)] }), at(1, 'COPY b /srv/', { entries: [folder('srv'), file('srv/b', 20)] })], ['/srv']);
    expect(sameFolder.message).toBe('/srv (10 B) is in layer 1 (`COPY a /srv/`), and a container still sees it.\n/srv (20 B) is in layer 2 (`COPY b /srv/`), and a container still sees it.');
    const below = judge([at(0, 'COPY y /srv/x', { entries: [file('srv/x', 20)] }), at(1, 'COPY x /srv/x', { entries: [file('srv/x', 10)] })], ['/srv/x']);
    expect(below.message?.split('\n')[1]).toBe('/srv/x (10 B) is in layer 2 (`COPY x /srv/x`), and a container still sees it.');
  });

  it('reports a matching folder once per layer, with the sizes under it added, sorted by layer then path', () => {
    const layers = [
      at(0, 'COPY data /data', { entries: [file('data/b/z', 2e6), folder('data'), file('data/a', 1e6), file('other', 5)] }),
      at(1, 'COPY more /data', { entries: [file('data/c', 4e6), file('cache/x', 1e6)] }),
    ];
    const outcome = judge(layers, ['/data', '/cache']);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'in layer 1, layer 2, layer 2 (8 MB)' });
    expect(outcome.message).toBe(
      [
        '/data (3 MB) is in layer 1 (`COPY data /data`), and a container still sees it.',
        '/cache (1 MB) is in layer 2 (`COPY more /data`), and a container still sees it.',
        '/data (4 MB) is in layer 2 (`COPY more /data`), and a container still sees it.',
      ].join('\n'),
    );
    expect(outcome.status === 'fail' && outcome.evidence).toEqual([
      { heading: 'Layer 1 (`COPY data /data`): a container still sees these', layer: 0, items: ['/data (3 MB)'] },
      { heading: 'Layer 2 (`COPY more /data`): a container still sees these', layer: 1, items: ['/cache (1 MB)', '/data (4 MB)'] },
    ]);
  });

  it('matches patterns segment by segment, the shortest matching path standing for what is under it', () => {
    const layers = [at(0, 'COPY . /app', { entries: [file('app/.env', 10), file('app/config/.env', 20), file('app/envs/x', 30)] })];
    const outcome = judge(layers, ['/app/**/.env']);
    expect(outcome.status === 'fail' && outcome.evidence?.[0]?.items).toEqual(['/app/.env (10 B)', '/app/config/.env (20 B)']);
  });

  it('lists five findings and counts the rest', () => {
    const entries = Array.from({ length: 7 }, (_, index) => file(`srv/${index}.txt`, 1000));
    const outcome = judge([at(0, 'COPY . /srv', { entries })], ['/srv/*.txt']);
    const lines = outcome.message?.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines?.[4]).toBe('/srv/4.txt (1 kB) is in layer 1 (`COPY . /srv`), and a container still sees it.');
    expect(lines?.[5]).toBe('And 2 more.');
    expect(outcome.actual).toBe(`in ${Array(7).fill('layer 1').join(', ')} (7 kB)`);
    expect(outcome.status === 'fail' && outcome.evidence?.[0]?.items).toHaveLength(7);
    const five = judge([at(0, 'COPY . /srv', { entries: entries.slice(0, 5) })], ['/srv/*.txt']);
    expect(five.message?.split('\n')).toHaveLength(5);
  });

  it('groups findings by the layer that holds them and the layer that hides them', () => {
    const layers = [
      at(0, 'COPY . /srv', { entries: [file('srv/a.txt'), file('srv/b.txt'), file('srv/c.txt')] }),
      at(1, 'RUN rm /srv/a.txt', { whiteouts: ['srv/a.txt'] }),
      at(2, 'RUN rm /srv/b.txt', { whiteouts: ['srv/b.txt'] }),
    ];
    const outcome = judge(layers, ['/srv/*.txt']);
    expect(outcome.status === 'fail' && outcome.evidence?.map((group) => [group.heading, group.items])).toEqual([
      ['Layer 1 (`COPY . /srv`): layer 2 (`RUN rm /srv/a.txt`) deletes these, but their bytes still ship', ['/srv/a.txt (1 kB)']],
      ['Layer 1 (`COPY . /srv`): layer 3 (`RUN rm /srv/b.txt`) deletes these, but their bytes still ship', ['/srv/b.txt (1 kB)']],
      ['Layer 1 (`COPY . /srv`): a container still sees these', ['/srv/c.txt (1 kB)']],
    ]);
  });
});
