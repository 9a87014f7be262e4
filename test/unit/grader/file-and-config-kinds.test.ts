import { describe, expect, it } from 'vitest';
import { fileContains } from '../../../runner/src/grader/kinds/file-contains.js';
import { filesAbsent } from '../../../runner/src/grader/kinds/files-absent.js';
import { filesPresent } from '../../../runner/src/grader/kinds/files-present.js';
import { labelEquals } from '../../../runner/src/grader/kinds/label-equals.js';
import { maxLayers } from '../../../runner/src/grader/kinds/max-layers.js';
import { maxSize } from '../../../runner/src/grader/kinds/max-size.js';
import { portExposed } from '../../../runner/src/grader/kinds/port-exposed.js';
import type { FileFacts, ImageConfigFacts, LayerFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// The smaller kinds, each outcome word for word.

const file = (path: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 10, mode: 0o644, layer: 0, ...overrides });
const layers = [layer(0, { instruction: 'FROM scratch' }), layer(1, { instruction: 'COPY . /app' })];
const withFiles = (files: FileFacts[], overrides: { layers?: LayerFacts[] } = {}) => facts({ layers: overrides.layers ?? layers }, files);
const withConfig = (config: Partial<ImageConfigFacts>, history: string[] = []) =>
  facts({ config: { ...facts().config, ...config }, history: history.map((createdBy) => ({ createdBy, isEmptyLayer: true })) });

describe('files-present', () => {
  const judge = (files: FileFacts[], paths: string[], options = {}) => filesPresent.evaluate(withFiles(files, options), { paths });

  it('passes when every pattern matches, counting them', () => {
    expect(judge([file('app/src/index.js', { layer: 1 })], ['/app/src/index.js', '/app/**'])).toEqual({ status: 'pass', expected: 'all of /app/src/index.js, /app/**', actual: 'all 2 found' });
  });

  it('fails a missing path, showing what the folder holds instead', () => {
    const files = [file('app', { type: 'directory' }), file('app/README'), file('app/main.js'), file('app/lib', { type: 'directory' }), file('app/lib/x.js')];
    expect(judge(files, ['/app/index.js', '/app/main.js', '/app/docs/*.md'])).toEqual({
      status: 'fail',
      expected: 'all of /app/index.js, /app/main.js, /app/docs/*.md',
      actual: 'missing /app/index.js, /app/docs/*.md',
      message: 'The image lacks /app/index.js, /app/docs/*.md; /app holds README, lib, main.js.',
    });
    expect(judge(files, ['/srv/data/x']).message).toBe('The image lacks /srv/data/x; there is no /srv/data.');
    expect(judge(files, ['/app/*/deep/x.js']).message).toBe('The image lacks /app/*/deep/x.js; /app holds README, lib, main.js.');
    expect(judge(files, ['/top']).message).toBe('The image lacks /top; / holds app.');
  });

  it('shows twelve entries of a full folder and marks the rest', () => {
    const files = Array.from({ length: 13 }, (_, index) => file(`app/f${String(index).padStart(2, '0')}`));
    expect(judge(files, ['/app/missing']).message).toBe(`The image lacks /app/missing; /app holds ${files.slice(0, 12).map((entry) => entry.path.slice(4)).join(', ')}, ….`);
    expect(judge(files.slice(0, 12), ['/app/missing']).message).toBe(`The image lacks /app/missing; /app holds ${files.slice(0, 12).map((entry) => entry.path.slice(4)).join(', ')}.`);
  });

  it('cannot decide when a missing path may be in an unreadable layer', () => {
    expect(judge([], ['/app/x', '/app/y'], { layers: [layer(0, { unreadable: 'zstd' })] })).toEqual({
      status: 'skip',
      expected: 'all of /app/x, /app/y',
      actual: 'unknown',
      message: 'Could not decide: /app/x, /app/y is in none of the layers that were read, but layer 1 could not be read (zstd).',
    });
  });

  it('says what a path must look like', () => {
    const result = filesPresent.params.safeParse({ paths: ['app'] });
    expect(result.success ? '' : result.error.issues[0]?.message).toBe('must be an absolute path such as /app/src/index.js');
    expect(filesPresent.params.safeParse({ paths: [] }).success).toBe(false);
  });
});

describe('files-absent', () => {
  const judge = (files: FileFacts[], paths: string[], options = {}) => filesAbsent.evaluate(withFiles(files, options), { paths });

  it('passes when nothing matches, and cannot decide over an unreadable layer', () => {
    expect(judge([file('app/x')], ['/app/node_modules'])).toEqual({ status: 'pass', expected: 'none of /app/node_modules', actual: 'none found' });
    expect(judge([], ['/app/node_modules'], { layers: [layer(0, { unreadable: 'zstd' })] })).toEqual({
      status: 'skip',
      expected: 'none of /app/node_modules',
      actual: 'unknown',
      message: 'Could not decide: none of the paths is in the layers that were read, but layer 1 could not be read (zstd).',
    });
  });

  it('fails each match, with how much is under it and the layer that put it there', () => {
    const files = [file('app/node_modules/a.js', { layer: 1 }), file('app/node_modules/b.js', { layer: 1 }), file('app/.env', { layer: 1 }), file('app/sub/x', { layer: 1 })];
    expect(judge(files, ['/app/node_modules', '/app/.env', '/app/sub'])).toEqual({
      status: 'fail',
      expected: 'none of /app/node_modules, /app/.env, /app/sub',
      actual: 'found /app/node_modules, /app/.env, /app/sub',
      message:
        'The image holds 3 paths it should not: /app/node_modules (2 paths under it), from layer 2 (`COPY . /app`); /app/.env, from layer 2 (`COPY . /app`); /app/sub (1 path under it), from layer 2 (`COPY . /app`).',
    });
  });

  it('lists eight matches and counts the rest', () => {
    const files = Array.from({ length: 9 }, (_, index) => file(`app/${index}.env`, { layer: 1 }));
    const outcome = judge(files, ['/app/*.env']);
    expect(outcome.actual).toBe(`found ${files.slice(0, 8).map((entry) => `/${entry.path}`).join(', ')}, …`);
    expect(outcome.message).toBe(`The image holds 9 paths it should not: ${files.slice(0, 8).map((entry) => `/${entry.path}, from layer 2 (\`COPY . /app\`)`).join('; ')}; and 1 more.`);
    const eight = judge(files.slice(0, 8), ['/app/*.env']);
    expect(eight.actual).toBe(`found ${files.slice(0, 8).map((entry) => `/${entry.path}`).join(', ')}`);
    expect(eight.message).toMatch(/from layer 2 \(`COPY \. \/app`\)\.$/);
  });

  it('says what a path must look like', () => {
    const result = filesAbsent.params.safeParse({ paths: ['node_modules'] });
    expect(result.success ? '' : result.error.issues[0]?.message).toBe('must be an absolute path such as /app/node_modules');
    expect(filesAbsent.params.safeParse({ paths: [] }).success).toBe(false);
  });
});

describe('file-contains', () => {
  const judge = (files: FileFacts[], text = 'hello\n', options = {}) => fileContains.evaluate(withFiles(files, options), { path: '/etc/motd', text });
  const motd = (content: string, overrides: Partial<FileFacts> = {}) => file('etc/motd', { layer: 1, content: Buffer.from(content), sizeBytes: content.length, ...overrides });

  it('passes the same text, trailing spaces aside', () => {
    expect(judge([motd('hello  \n\n')])).toEqual({ status: 'pass', expected: '"hello"', actual: '"hello", from layer 2 (`COPY . /app`)' });
  });

  it('fails other text, quoting both', () => {
    expect(judge([motd(' hello')])).toEqual({ status: 'fail', expected: '"hello"', actual: '" hello"', message: '/etc/motd (from layer 2 (`COPY . /app`)) holds " hello", not "hello".' });
    const long = 'x'.repeat(130);
    expect(judge([motd(long)]).actual).toBe(`"${'x'.repeat(120)}…"`);
    expect(judge([motd('y'.repeat(120))]).actual).toBe(`"${'y'.repeat(120)}"`);
  });

  it('fails a missing file, a link, a folder and a file too big to read', () => {
    expect(judge([])).toEqual({ status: 'fail', expected: '"hello"', actual: 'no such file', message: 'The image has no /etc/motd.' });
    expect(judge([file('etc/motd', { type: 'symlink', linkTarget: '/run/motd' })])).toEqual({
      status: 'fail',
      expected: '"hello"',
      actual: 'a symlink to /run/motd',
      message: '/etc/motd follows /etc/motd -> /run/motd, and the image has no /run/motd, so a container reading /etc/motd finds nothing there.',
    });
    expect(judge([file('etc/motd', { type: 'symlink' })]).actual).toBe('a symlink to ?');
    expect(judge([file('etc/motd', { type: 'directory' })])).toEqual({ status: 'fail', expected: '"hello"', actual: 'a directory', message: '/etc/motd is a directory, not a regular file.' });
    expect(judge([file('etc/motd', { sizeBytes: 2_000_000 })])).toEqual({
      status: 'fail',
      expected: '"hello"',
      actual: '2 MB',
      message: '/etc/motd is 2 MB; the check reads files up to 65.5 kB, and the expected text is far shorter.',
    });
  });

  it('cannot decide about a missing file when a layer was not read', () => {
    expect(judge([], 'hello', { layers: [layer(0, { unreadable: 'zstd' })] })).toEqual({
      status: 'skip',
      expected: '"hello"',
      actual: 'unknown',
      message: 'Could not decide: /etc/motd is in none of the layers that were read, but layer 1 could not be read (zstd).',
    });
  });

  it('takes an absolute path and some text, and asks for the file', () => {
    const parse = (value: unknown) => fileContains.params.safeParse(value);
    expect(parse({ path: '/etc/motd', text: 'x' }).success).toBe(true);
    expect(parse({ path: '/etc/motd', text: '' }).success).toBe(false);
    expect(parse({ path: '/etc/motd', text: 'x'.repeat(65_537) }).success).toBe(false);
    expect(parse({ path: '/etc/motd', text: 'x'.repeat(65_536) }).success).toBe(true);
    const relative = parse({ path: 'etc/motd', text: 'x' });
    expect(relative.success ? '' : relative.error.issues[0]?.message).toBe('must be an absolute path without wildcards, such as /etc/motd');
    expect(parse({ path: '/etc/*', text: 'x' }).success).toBe(false);
    expect(fileContains.probes?.({ path: '/etc/motd', text: 'x' })).toEqual({ fileContents: ['/etc/motd'] });
  });
});

describe('label-equals', () => {
  const judge = (labels: Record<string, string>, history: string[] = []) => labelEquals.evaluate(withConfig({ labels }, history), { key: 'org.opencontainers.image.title', value: 'greet' });
  const expected = 'org.opencontainers.image.title="greet"';

  it('passes the exact value and fails another one', () => {
    expect(judge({ 'org.opencontainers.image.title': 'greet' })).toEqual({ status: 'pass', expected, actual: expected });
    expect(judge({ 'org.opencontainers.image.title': '' })).toEqual({
      status: 'fail',
      expected,
      actual: 'org.opencontainers.image.title=""',
      message: 'The label org.opencontainers.image.title is "", not "greet".',
    });
  });

  it('names the labels there are, not the course’s own, and explains MAINTAINER', () => {
    expect(judge({ 'layerlab.base': 'x', title: 'greet', version: '1' })).toEqual({
      status: 'fail',
      expected,
      actual: 'no such label',
      message: 'The image has no label org.opencontainers.image.title; its labels are title, version.',
    });
    expect(judge({ 'layerlab.base': 'x' }, ['/bin/sh -c #(nop)  MAINTAINER ada'])).toEqual({
      status: 'fail',
      expected,
      actual: 'no such label',
      message: 'The image has no label org.opencontainers.image.title. A MAINTAINER instruction sets the deprecated Author field of the image, not a label.',
    });
    expect(judge({}, ['MAINTAINER ada']).message).toContain('A MAINTAINER instruction');
    expect(judge({}, ['RUN echo MAINTAINER ada', 'LABEL MAINTAINER=x']).message).toBe('The image has no label org.opencontainers.image.title.');
  });

  it('takes a key and any value', () => {
    expect(labelEquals.params.safeParse({ key: '', value: 'x' }).success).toBe(false);
    expect(labelEquals.params.safeParse({ key: 'k', value: '' }).success).toBe(true);
  });
});

describe('port-exposed', () => {
  const judge = (exposedPorts: string[], params: { port: number; protocol: 'tcp' | 'udp' } = { port: 8080, protocol: 'tcp' }) => portExposed.evaluate(withConfig({ exposedPorts }), params);

  it('passes the port with its protocol, listing what is exposed', () => {
    expect(judge(['9090/tcp', '8080/tcp'])).toEqual({ status: 'pass', expected: '8080/tcp exposed', actual: 'exposed: 9090/tcp, 8080/tcp' });
  });

  it('fails another protocol or no port', () => {
    expect(judge(['8080/udp', '80/tcp'])).toEqual({ status: 'fail', expected: '8080/tcp exposed', actual: 'exposed: 8080/udp, 80/tcp', message: 'The image exposes 8080/udp, 80/tcp, but not 8080/tcp.' });
    expect(judge([], { port: 53, protocol: 'udp' })).toEqual({ status: 'fail', expected: '53/udp exposed', actual: 'no port exposed', message: 'The image exposes no port; 53/udp was expected.' });
  });

  it('defaults to tcp and takes ports 1 to 65535', () => {
    expect(portExposed.params.parse({ port: 80 })).toEqual({ port: 80, protocol: 'tcp' });
    for (const port of [0, 65536, 80.5]) expect(portExposed.params.safeParse({ port }).success, String(port)).toBe(false);
    expect(portExposed.params.safeParse({ port: 1 }).success && portExposed.params.safeParse({ port: 65535 }).success).toBe(true);
    expect(portExposed.params.safeParse({ port: 80, protocol: 'sctp' }).success).toBe(false);
  });
});

describe('max-size', () => {
  it('passes at the limit, and fails over it naming the largest layer', () => {
    const image = facts({ sizeBytes: 25_000_000, layers: [layer(0, { sizeBytes: 5_000_000, instruction: 'FROM scratch' }), layer(1, { sizeBytes: 20_000_000, instruction: 'COPY big /' })] });
    expect(maxSize.evaluate(image, { bytes: 25_000_000 })).toEqual({ status: 'pass', expected: 'at most 25 MB', actual: '25 MB' });
    expect(maxSize.evaluate(image, { bytes: 24_999_000 })).toEqual({
      status: 'fail',
      expected: 'at most 25.0 MB',
      actual: '25 MB',
      message: 'The image is 25 MB, 1 kB over the limit of 25.0 MB; the largest is layer 2 (`COPY big /`) with 20 MB.',
    });
    expect(maxSize.evaluate(facts({ sizeBytes: 30, layers: [] }), { bytes: 20 }).message).toBe('The image is 30 B, 10 B over the limit of 20 B.');
  });

  it('takes a positive whole number of bytes', () => {
    for (const bytes of [0, -1, 1.5]) expect(maxSize.params.safeParse({ bytes }).success, String(bytes)).toBe(false);
    expect(maxSize.params.safeParse({ bytes: 1 }).success).toBe(true);
  });
});

describe('max-layers', () => {
  const three = facts({ layers: [0, 1, 2].map((index) => layer(index, { instruction: `RUN step ${index}` })) });

  it('passes at the limit and lists every layer over it', () => {
    expect(maxLayers.evaluate(three, { count: 3 })).toEqual({ status: 'pass', expected: 'at most 3 layers', actual: '3 layers' });
    expect(maxLayers.evaluate(three, { count: 1 })).toEqual({
      status: 'fail',
      expected: 'at most 1 layer',
      actual: '3 layers',
      message: 'The image has 3 layers, 2 more than allowed: layer 1 (`RUN step 0`), layer 2 (`RUN step 1`), layer 3 (`RUN step 2`).',
    });
  });

  it('takes 1 to 127 layers', () => {
    for (const count of [0, 128, 2.5]) expect(maxLayers.params.safeParse({ count }).success, String(count)).toBe(false);
    expect(maxLayers.params.safeParse({ count: 127 }).success).toBe(true);
  });
});
