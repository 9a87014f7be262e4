import { describe, expect, it } from 'vitest';
import { readLayerTar } from '../../../runner/src/grader/facts/layer-tar.js';
import { mergeLayers } from '../../../runner/src/grader/facts/merged-view.js';
import { addsOnly } from '../../../runner/src/grader/kinds/adds-only.js';
import { fileContains } from '../../../runner/src/grader/kinds/file-contains.js';
import { filesAbsent } from '../../../runner/src/grader/kinds/files-absent.js';
import { filesPresent } from '../../../runner/src/grader/kinds/files-present.js';
import { sharesBaseLayers } from '../../../runner/src/grader/kinds/shares-base-layers.js';
import { compilePathPattern, findMatches } from '../../../runner/src/grader/path-pattern.js';
import { maxKeptFileBytes, type FileFacts, type ImageFacts, type ReferenceImageFacts } from '../../../runner/src/grader/types.js';
import { facts, inPieces, layer, makeTar } from './builders.js';

const debianLayer = `sha256:${'f8'.repeat(32)}`;
const busyboxLayer = `sha256:${'44'.repeat(32)}`;
const debian: ReferenceImageFacts = { ref: 'debian:trixie-slim', isPresent: true, id: 'sha256:be59', diffIds: [debianLayer] };

const file = (filePath: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path: filePath, type: 'file', sizeBytes: 10, mode: 0o644, layer: 0, ...overrides });
const dir = (filePath: string, layerIndex = 0): FileFacts => file(filePath, { type: 'directory', sizeBytes: 0, layer: layerIndex });

/** An image on debian (one layer) plus the given layers, with the given files. */
function onDebian(added: string[], files: FileFacts[] = [], reference: ReferenceImageFacts = debian): ImageFacts {
  return facts(
    {
      layers: [layer(0, { diffId: debianLayer }), ...added.map((instruction, index) => layer(index + 1, { instruction }))],
      probes: { referenceImages: { 'debian:trixie-slim': reference } },
    },
    files,
  );
}

describe('path patterns', () => {
  it('keeps * inside one segment and lets ** span any number of them', () => {
    const anyEnv = compilePathPattern('/app/**/*.env');
    expect(['app/secrets.env', 'app/src/config/local.env'].every((candidate) => anyEnv.test(candidate))).toBe(true);
    expect(anyEnv.test('app/secrets.env.example')).toBe(false);
    expect(compilePathPattern('/app/*.md').test('app/docs/setup.md')).toBe(false);
    expect(compilePathPattern('/app/?.txt').test('app/a.txt')).toBe(true);
    expect(compilePathPattern('/app/a.b').test('app/aXb')).toBe(false);
  });

  it('groups everything under a matching folder, even when the folder has no entry of its own', () => {
    const files = new Map([file('app/node_modules/left-pad/index.js', { layer: 2 }), file('app/node_modules/left-pad/package.json', { layer: 2 }), file('app/src/index.js')].map((entry) => [entry.path, entry]));
    expect(findMatches(files, '/app/node_modules')).toEqual([{ path: '/app/node_modules', pathsUnder: 2, layer: 2 }]);
  });
});

describe('shares-base-layers', () => {
  it('passes an image whose bottom layers are the base, and says how many are its own', () => {
    const outcome = sharesBaseLayers.evaluate(onDebian(['COPY motd /etc/motd']), { base: 'debian:trixie-slim' });
    expect(outcome).toEqual({ status: 'pass', expected: "debian:trixie-slim's 1 layer at the bottom (f8f8f8f8f8f8)", actual: "debian:trixie-slim's 1 layer, then 1 layer of its own" });
  });

  it('fails an image built on another base, naming both digests', () => {
    const onBusybox = facts({ layers: [layer(0, { diffId: busyboxLayer }), layer(1)], probes: { referenceImages: { 'debian:trixie-slim': debian } } });
    const outcome = sharesBaseLayers.evaluate(onBusybox, { base: 'debian:trixie-slim' });
    expect(outcome).toMatchObject({ status: 'fail', actual: 'layer 1 is 444444444444' });
    expect(outcome.message).toBe('Layer 1 of the image is 444444444444, but layer 1 of debian:trixie-slim is f8f8f8f8f8f8: the image was not built on debian:trixie-slim.');
  });

  it('fails an image with fewer layers than the base', () => {
    const twoLayerBase: ReferenceImageFacts = { ...debian, diffIds: [debianLayer, busyboxLayer] };
    const outcome = sharesBaseLayers.evaluate(onDebian([], [], twoLayerBase), { base: 'debian:trixie-slim' });
    expect(outcome).toMatchObject({ status: 'fail', actual: '1 layer' });
  });

  it('skips, saying how to get it, when the engine has no base to compare with', () => {
    const outcome = sharesBaseLayers.evaluate(onDebian([], [], { ref: 'debian:trixie-slim', isPresent: false }), { base: 'debian:trixie-slim' });
    expect(outcome).toMatchObject({ status: 'skip', actual: 'no image debian:trixie-slim to compare with' });
    expect(outcome.message).toContain('course up');
  });

  it('asks for the base to be inspected before judging', () => {
    expect(sharesBaseLayers.probes?.({ base: 'busybox:latest' })).toEqual({ referenceImages: ['busybox:latest'] });
  });
});

describe('checks that cannot decide for an unreadable layer', () => {
  const unread = (files: FileFacts[]) => facts({ layers: [layer(0), layer(1, { unreadable: 'its tar is truncated' })] }, files);
  it('do not pass, and say which layer and why', () => {
    expect(filesAbsent.evaluate(unread([]), { paths: ['/app/node_modules'] })).toMatchObject({ status: 'skip', message: expect.stringContaining('layer 2 could not be read (its tar is truncated)') });
    expect(filesPresent.evaluate(unread([]), { paths: ['/app/README.md'] }).status).toBe('skip');
    expect(fileContains.evaluate(unread([]), { path: '/etc/motd', text: 'hello' }).status).toBe('skip');
    // What was found is found all the same.
    expect(filesAbsent.evaluate(unread([file('app/node_modules/x.js')]), { paths: ['/app/node_modules'] }).status).toBe('fail');
    expect(filesPresent.evaluate(unread([file('app/README.md')]), { paths: ['/app/README.md'] }).status).toBe('pass');
  });
});

describe('adds-only', () => {
  const params = { base: 'debian:trixie-slim', paths: ['/etc/motd'] };

  it('passes when the layers above the base hold only the path and its folders', () => {
    const image = onDebian(['COPY motd /etc/motd'], [dir('etc', 1), file('etc/motd', { layer: 1 }), file('etc/passwd')]);
    expect(addsOnly.evaluate(image, params)).toMatchObject({ status: 'pass', actual: 'nothing else' });
  });

  it('lists what else the layers above the base add, with the layer that added it', () => {
    const image = onDebian(['COPY motd /etc/motd', 'RUN date > /etc/build-date'], [dir('etc', 2), file('etc/motd', { layer: 1 }), file('etc/build-date', { layer: 2 }), dir('srv', 2)]);
    const outcome = addsOnly.evaluate(image, params);
    expect(outcome).toMatchObject({ status: 'fail', actual: '2 other paths' });
    expect(outcome.message).toBe('Above debian:trixie-slim, the image also adds or changes 2 paths: /etc/build-date (layer 3 (`RUN date > /etc/build-date`)), /srv (layer 3 (`RUN date > /etc/build-date`)).');
  });

  it('does not count a folder that was there below with the same permissions, only touched (a temporary file, a mount stub)', () => {
    const touched = (below: Partial<{ type: 'directory' | 'file'; mode: number }>, above = 0o1777) => {
      const image = onDebian(['RUN --mount=type=bind,source=motd,target=/tmp/motd cp /tmp/motd /etc/motd'], [dir('etc', 1), file('etc/motd', { layer: 1 }), file('tmp', { type: 'directory', sizeBytes: 0, mode: above, layer: 1 })]);
      image.layers[0] = { ...image.layers[0]!, entries: [{ path: 'etc', type: 'directory', sizeBytes: 0, mode: 0o755 }, { path: 'tmp', type: 'directory', sizeBytes: 0, mode: 0o1777, ...below }] };
      return addsOnly.evaluate(image, params);
    };
    expect(touched({})).toMatchObject({ status: 'pass', actual: 'nothing else' });
    expect(touched({}, 0o755)).toMatchObject({ status: 'fail', message: expect.stringContaining('/tmp (layer 2') });
    expect(touched({ type: 'file' })).toMatchObject({ status: 'fail' });
    expect(touched({ mode: undefined })).toMatchObject({ status: 'fail' });
  });

  it('compares with the version just below: a middle layer that changed, deleted or emptied the folder decides', () => {
    const twoUp = (middle: Partial<{ entries: { path: string; type: 'directory'; sizeBytes: number; mode: number }[]; whiteouts: string[]; opaqueDirectories: string[] }>) => {
      const image = facts(
        {
          layers: [layer(0, { diffId: debianLayer, entries: [{ path: 'tmp', type: 'directory', sizeBytes: 0, mode: 0o1777 }] }), layer(1, middle), layer(2)],
          probes: { referenceImages: { 'debian:trixie-slim': debian } },
        },
        [file('etc/motd', { layer: 1 }), file('tmp', { type: 'directory', sizeBytes: 0, mode: 0o1777, layer: 2 })],
      );
      return addsOnly.evaluate(image, params).status;
    };
    expect(twoUp({})).toBe('pass');
    expect(twoUp({ entries: [{ path: 'tmp', type: 'directory', sizeBytes: 0, mode: 0o700 }] })).toBe('fail');
    // Deleted or emptied by the base's own upper layer: not counted as the learner's deletion, so the folder decides.
    const secondBaseLayer = `sha256:${'f9'.repeat(32)}`;
    const overBase = (upper: Partial<{ whiteouts: string[]; opaqueDirectories: string[] }>) =>
      addsOnly.evaluate(
        facts(
          {
            layers: [layer(0, { diffId: debianLayer, entries: [{ path: 'tmp', type: 'directory', sizeBytes: 0, mode: 0o1777 }] }), layer(1, { diffId: secondBaseLayer, ...upper }), layer(2)],
            probes: { referenceImages: { 'debian:trixie-slim': { ...debian, diffIds: [debianLayer, secondBaseLayer] } } },
          },
          [file('etc/motd', { layer: 2 }), file('tmp', { type: 'directory', sizeBytes: 0, mode: 0o1777, layer: 2 })],
        ),
        params,
      ).status;
    expect(overBase({})).toBe('pass');
    expect(overBase({ whiteouts: ['tmp'] })).toBe('fail');
    expect(overBase({ opaqueDirectories: ['tmp'] })).toBe('fail');
    expect(twoUp({ entries: [{ path: 'tmp', type: 'directory', sizeBytes: 0, mode: 0o1777 }] })).toBe('pass');
  });

  it('still counts a folder the base never had', () => {
    const image = onDebian(['RUN mkdir /work && echo hi > /etc/motd'], [dir('etc', 1), file('etc/motd', { layer: 1 }), dir('work', 1)]);
    expect(addsOnly.evaluate(image, params)).toMatchObject({ status: 'fail', actual: '1 other path' });
  });

  it('counts deletions as changes: whiteouts and emptied folders above the base', () => {
    const image = onDebian(['RUN echo hello > /etc/motd && rm -rf /usr/share/doc /var/cache/*'], [dir('etc', 1), file('etc/motd', { layer: 1 })]);
    image.layers[1] = { ...image.layers[1]!, whiteouts: ['usr/share/doc'], opaqueDirectories: ['var/cache'] };
    const outcome = addsOnly.evaluate(image, params);
    expect(outcome).toMatchObject({ status: 'fail', actual: '2 deletions' });
    expect(outcome.message).toMatch(/^Above debian:trixie-slim, the image also removes what was below: it deletes \/usr\/share\/doc \(layer 2 .*\), empties \/var\/cache \(layer 2 /);
    expect(outcome.message).toContain('A deletion is a change too');
  });

  it('allows deleting one of the given paths, and cannot pass when a layer above the base was not read', () => {
    const replaced = onDebian(['RUN rm /etc/motd && echo hi > /etc/motd'], [dir('etc', 1), file('etc/motd', { layer: 1 })]);
    replaced.layers[1] = { ...replaced.layers[1]!, whiteouts: ['etc/motd'] };
    expect(addsOnly.evaluate(replaced, params).status).toBe('pass');
    const unread = onDebian(['COPY motd /etc/motd'], [file('etc/motd', { layer: 1 })]);
    unread.layers[1] = { ...unread.layers[1]!, unreadable: 'it is compressed with zstd' };
    expect(addsOnly.evaluate(unread, params)).toMatchObject({ status: 'skip', message: expect.stringContaining('zstd') });
  });

  it('skips an image that is not on the base: there is no "above" to look at', () => {
    const onBusybox = facts({ layers: [layer(0, { diffId: busyboxLayer })], probes: { referenceImages: { 'debian:trixie-slim': debian } } });
    expect(addsOnly.evaluate(onBusybox, params)).toMatchObject({ status: 'skip' });
  });
});

describe('file-contains', () => {
  const params = { path: '/etc/motd', text: 'Welcome to Layerlab.\n' };
  const withMotd = (content: string | undefined, overrides: Partial<FileFacts> = {}) =>
    onDebian(['COPY motd /etc/motd'], [file('etc/motd', { layer: 1, ...(content !== undefined ? { content: Buffer.from(content), sizeBytes: content.length } : {}), ...overrides })]);

  it('passes on the same text, whatever the trailing newlines', () => {
    expect(fileContains.evaluate(withMotd('Welcome to Layerlab.'), params)).toMatchObject({ status: 'pass', actual: '"Welcome to Layerlab.", from layer 2 (`COPY motd /etc/motd`)' });
    expect(fileContains.evaluate(withMotd('Welcome to Layerlab.\n\n'), params).status).toBe('pass');
  });

  it('passes a file saved with a byte-order mark and Windows line endings, which cat prints as the same line', () => {
    expect(fileContains.evaluate(withMotd('\uFEFFWelcome to Layerlab.\r\n'), params)).toMatchObject({ status: 'pass', actual: '"Welcome to Layerlab.", from layer 2 (`COPY motd /etc/motd`)' });
  });

  it('takes off one byte-order mark at the start only: one elsewhere, or two, is other text', () => {
    expect(fileContains.evaluate(withMotd('Welcome\uFEFF to Layerlab.'), params).status).toBe('fail');
    expect(fileContains.evaluate(withMotd('\uFEFF\uFEFFWelcome to Layerlab.'), params).status).toBe('fail');
    expect(fileContains.evaluate(withMotd(' Welcome to Layerlab.'), params).status).toBe('fail');
  });

  it('fails on other text, quoting both', () => {
    const outcome = fileContains.evaluate(withMotd('TODO: write the greeting\n'), params);
    expect(outcome).toMatchObject({ status: 'fail', expected: '"Welcome to Layerlab."', actual: '"TODO: write the greeting"' });
    expect(outcome.message).toBe('/etc/motd (from layer 2 (`COPY motd /etc/motd`)) holds "TODO: write the greeting", not "Welcome to Layerlab.".');
  });

  it('tells a missing file, a folder, a symlink and a file too big to read apart', () => {
    expect(fileContains.evaluate(onDebian([]), params)).toMatchObject({ status: 'fail', actual: 'no such file', message: 'The image has no /etc/motd.' });
    expect(fileContains.evaluate(withMotd(undefined, { type: 'directory' }), params)).toMatchObject({ actual: 'a directory' });
    expect(fileContains.evaluate(withMotd(undefined, { type: 'symlink', linkTarget: '/run/motd' }), params)).toMatchObject({ actual: 'a symlink to /run/motd' });
    expect(fileContains.evaluate(withMotd(undefined, { sizeBytes: 5_000_000 }), params)).toMatchObject({ status: 'fail', actual: '5 MB' });
  });

  it('asks the archive reader to keep that one file', () => {
    expect(fileContains.probes?.(params)).toEqual({ fileContents: ['/etc/motd'] });
  });
});

describe('keeping the content of the files checks ask for', () => {
  it('keeps the bytes of asked-for small files only, and the top layer\'s version wins', async () => {
    const lower = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', content: 'Debian\n' }, { name: 'etc/hostname', content: 'box\n' }]);
    const upper = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', content: 'Welcome to Layerlab.\n' }]);
    const keepContentOf = new Set(['etc/motd']);
    const layers = [await readLayerTar(inPieces(lower, 100), { keepContentOf }), await readLayerTar(inPieces(upper, 100), { keepContentOf })];
    expect(layers[0]!.entries.find((entry) => entry.path === 'etc/hostname')?.content).toBeUndefined();
    const view = mergeLayers(layers);
    expect(view.files.get('etc/motd')?.content?.toString()).toBe('Welcome to Layerlab.\n');
  });

  it('keeps nothing of an asked-for file bigger than the limit', async () => {
    const big = await makeTar([{ name: 'etc/motd', content: Buffer.alloc(maxKeptFileBytes + 1, 0x61) }]);
    const contents = await readLayerTar(inPieces(big, 8192), { keepContentOf: new Set(['etc/motd']) });
    expect(contents.entries[0]).toMatchObject({ path: 'etc/motd', sizeBytes: maxKeptFileBytes + 1 });
    expect(contents.entries[0]!.content).toBeUndefined();
  });
});

describe('files-present and files-absent', () => {
  const project = [
    file('app/src/index.js', { layer: 2 }),
    file('app/src/config/local.env', { layer: 2 }),
    file('app/README.md', { layer: 2 }),
    file('app/node_modules/left-pad/index.js', { layer: 2 }),
    file('app/node_modules/left-pad/package.json', { layer: 2 }),
  ];
  const image = facts({ layers: [layer(0), layer(1, { instruction: 'WORKDIR /app' }), layer(2, { instruction: 'COPY . /app' })] }, project);

  it('passes when every path or pattern matches something', () => {
    expect(filesPresent.evaluate(image, { paths: ['/app/src/index.js', '/app/src/**/*.js', '/app/README.md'] })).toMatchObject({ status: 'pass', actual: 'all 3 found' });
  });

  it('lists what is missing and what the folder holds instead', () => {
    const outcome = filesPresent.evaluate(image, { paths: ['/app/package.json', '/app/src/index.js'] });
    expect(outcome).toMatchObject({ status: 'fail', actual: 'missing /app/package.json' });
    expect(outcome.message).toBe('The image lacks /app/package.json; /app holds README.md, node_modules, src.');
    expect(filesPresent.evaluate(image, { paths: ['/srv/**/*.js'] }).message).toBe('The image lacks /srv/**/*.js; there is no /srv.');
  });

  it('reports a forbidden folder once, counting what is under it, with the layer that added it', () => {
    const outcome = filesAbsent.evaluate(image, { paths: ['/app/node_modules', '/app/**/*.env', '/app/.git'] });
    expect(outcome).toMatchObject({ status: 'fail', actual: 'found /app/node_modules, /app/src/config/local.env' });
    expect(outcome.message).toBe(
      'The image holds 2 paths it should not: /app/node_modules (2 paths under it), from layer 3 (`COPY . /app`); /app/src/config/local.env, from layer 3 (`COPY . /app`).',
    );
  });

  it('passes when nothing matches', () => {
    expect(filesAbsent.evaluate(image, { paths: ['/app/.git', '/app/docs'] })).toMatchObject({ status: 'pass', actual: 'none found' });
  });

  it('refuses relative paths in its parameters', () => {
    expect(filesAbsent.params.safeParse({ paths: ['node_modules'] }).success).toBe(false);
    expect(filesPresent.params.safeParse({ paths: [] }).success).toBe(false);
  });
});
