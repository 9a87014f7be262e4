import { describe, expect, it } from 'vitest';
import { addsOnly } from '../../../runner/src/grader/kinds/adds-only.js';
import { sharesBaseLayers, shortDigest } from '../../../runner/src/grader/kinds/shares-base-layers.js';
import type { FileFacts, ImageFacts, LayerFacts, ReferenceImageFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// Checks that judge an image against its base, word for word.

const diff = (digit: string) => `sha256:${digit.repeat(64)}`;
const base: ReferenceImageFacts = { ref: 'base:1', isPresent: true, id: 'sha256:base', diffIds: [diff('a'), diff('b')] };
const file = (path: string, layerIndex: number, type: FileFacts['type'] = 'file'): FileFacts => ({ path, type, sizeBytes: 1, mode: 0o644, layer: layerIndex });
const onBase = (own: Array<Partial<LayerFacts>>, files: FileFacts[] = [], reference: ReferenceImageFacts = base): ImageFacts =>
  facts(
    {
      layers: [layer(0, { diffId: diff('a') }), layer(1, { diffId: diff('b') }), ...own.map((overrides, index) => layer(index + 2, { diffId: diff(String(index)), instruction: `COPY step${index + 2}`, ...overrides }))],
      probes: { referenceImages: { 'base:1': reference } },
    },
    files,
  );

describe('shares-base-layers', () => {
  const judge = (image: ImageFacts) => sharesBaseLayers.evaluate(image, { base: 'base:1' });
  const expected = "base:1's 2 layers at the bottom (aaaaaaaaaaaa, bbbbbbbbbbbb)";

  it('shortens a digest to twelve characters, without its algorithm', () => {
    expect(shortDigest(diff('c'))).toBe('cccccccccccc');
    expect(shortDigest('0123456789abcdef')).toBe('0123456789ab');
  });

  it('passes the base layers at the bottom, counting the image’s own', () => {
    expect(judge(onBase([{}]))).toEqual({ status: 'pass', expected, actual: "base:1's 2 layers, then 1 layer of its own" });
    expect(judge(onBase([]))).toEqual({ status: 'pass', expected, actual: "base:1's 2 layers, then 0 layers of its own" });
  });

  it('fails at the first layer that differs', () => {
    const image = onBase([{}]);
    image.layers[1] = { ...image.layers[1]!, diffId: diff('e') };
    expect(judge(image)).toEqual({
      status: 'fail',
      expected,
      actual: 'layer 2 is eeeeeeeeeeee',
      message: 'Layer 2 of the image is eeeeeeeeeeee, but layer 2 of base:1 is bbbbbbbbbbbb: the image was not built on base:1.',
    });
  });

  it('fails an image with fewer layers than the base', () => {
    const one = facts({ layers: [layer(0, { diffId: diff('a') })], probes: { referenceImages: { 'base:1': base } } });
    expect(judge(one)).toEqual({ status: 'fail', expected, actual: '1 layer', message: 'The image has 1 layer, fewer than the 2 of base:1, so it cannot be built on it.' });
  });

  it('skips when the engine has no such base, or it was not asked for', () => {
    const skipped = {
      status: 'skip',
      expected: "base:1's layers at the bottom",
      actual: 'no image base:1 to compare with',
      message: "Not checked: the engine has no image base:1. `course up` loads the course's base images into the sandbox.",
    };
    expect(judge(onBase([], [], { ref: 'base:1', isPresent: false }))).toEqual(skipped);
    expect(judge(facts())).toEqual(skipped);
  });

  it('asks for the base, and takes a named base only', () => {
    expect(sharesBaseLayers.probes?.({ base: 'base:1' })).toEqual({ referenceImages: ['base:1'] });
    expect(sharesBaseLayers.params.safeParse({ base: '' }).success).toBe(false);
  });
});

describe('adds-only', () => {
  const params = { base: 'base:1', paths: ['/etc/app/config.toml', '/srv/'] };
  const expected = 'only /etc/app/config.toml, /srv/ above base:1';
  const judge = (image: ImageFacts) => addsOnly.evaluate(image, params);

  it('takes absolute paths without wildcards, at least one, and asks for the base', () => {
    const parse = (value: unknown) => addsOnly.params.safeParse(value);
    expect(parse({ base: 'b', paths: ['/x'] }).success).toBe(true);
    expect(parse({ base: '', paths: ['/x'] }).success).toBe(false);
    expect(parse({ base: 'b', paths: [] }).success).toBe(false);
    for (const wrong of ['x', '/x/*', '/x?', 'a/b']) {
      const result = parse({ base: 'b', paths: [wrong] });
      expect(result.success ? '' : result.error.issues[0]?.message, wrong).toBe('must be an absolute path without wildcards');
    }
    expect(addsOnly.probes?.(params)).toEqual({ referenceImages: ['base:1'] });
  });

  it('passes the given paths and the folders holding them, whatever the base has', () => {
    const files = [file('etc', 2, 'directory'), file('etc/app', 2, 'directory'), file('etc/app/config.toml', 2), file('srv', 2, 'directory'), file('usr/bin/x', 1)];
    expect(judge(onBase([{}], files))).toEqual({ status: 'pass', expected, actual: 'nothing else' });
  });

  it('fails a file at a folder’s path, other paths, and counts past ten', () => {
    expect(judge(onBase([{}], [file('etc/app', 2)]))).toEqual({
      status: 'fail',
      expected,
      actual: '1 other path',
      message: 'Above base:1, the image also adds or changes 1 path: /etc/app (layer 3 (`COPY step2`)).',
    });
    const many = Array.from({ length: 12 }, (_, index) => file(`tmp/${String(index).padStart(2, '0')}`, 2));
    const outcome = judge(onBase([{}], [file('etc/app/config.toml/extra', 2), ...many]));
    expect(outcome.actual).toBe('13 other paths');
    expect(outcome.message).toBe(
      `Above base:1, the image also adds or changes 13 paths: /etc/app/config.toml/extra (layer 3 (\`COPY step2\`)), ${many
        .slice(0, 9)
        .map((extra) => `/${extra.path} (layer 3 (\`COPY step2\`))`)
        .join(', ')}, and 3 more.`,
    );
  });

  it('lists deletions, sorted, but allows deleting a given path', () => {
    const own = [{ whiteouts: ['usr/share/doc', 'etc/app/config.toml'] }, { opaqueDirectories: ['var/cache'], whiteouts: ['a/b'] }];
    expect(judge(onBase(own, [file('x', 3)]))).toEqual({
      status: 'fail',
      expected,
      actual: '1 other path, 3 deletions',
      message: [
        'Above base:1, the image also adds or changes 1 path: /x (layer 4 (`COPY step3`)).',
        'Above base:1, the image also removes what was below: it deletes /a/b (layer 4 (`COPY step3`)), deletes /usr/share/doc (layer 3 (`COPY step2`)), empties /var/cache (layer 4 (`COPY step3`)). A deletion is a change too, and it makes the image no smaller: the layer below still ships the bytes.',
      ].join('\n'),
    });
    const manyDeleted = judge(onBase([{ whiteouts: Array.from({ length: 11 }, (_, index) => `d${String(index).padStart(2, '0')}`) }]));
    expect(manyDeleted.actual).toBe('11 deletions');
    expect(manyDeleted.message).toContain('deletes /d09 (layer 3 (`COPY step2`)), and 1 more. A deletion');
  });

  it('skips an image not built on the base, a base the engine lacks, and unreadable layers above the base', () => {
    const other = onBase([{}]);
    other.layers[0] = { ...other.layers[0]!, diffId: diff('f') };
    expect(judge(other)).toEqual({
      status: 'skip',
      expected,
      actual: 'not checked',
      message: 'Not checked: the image is not built on base:1, so there are no layers "above base:1" to look at.',
    });
    expect(judge(onBase([], [], { ref: 'base:1', isPresent: false }))).toEqual({ status: 'skip', expected, actual: 'not checked', message: 'Not checked: the engine has no image base:1.' });
    const unreadable = onBase([{ unreadable: 'truncated' }, {}, { unreadable: 'zstd' }]);
    unreadable.layers[0] = { ...unreadable.layers[0]!, unreadable: 'ignored: a base layer' };
    expect(judge(unreadable)).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Not every layer above base:1 could be read: layer 3 (`COPY step2`): truncated; layer 5 (`COPY step4`): zstd.',
    });
    expect(judge(onBase([{}], [file('etc/app/config.toml', 2)]))).toMatchObject({ status: 'pass' });
  });
});
